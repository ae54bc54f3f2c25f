"""The worker loop: claims due jobs, runs them in a small thread pool, beats their
heartbeat, keeps the periodic jobs scheduled, and stops gracefully.

Stopping (SIGTERM from systemd, or :meth:`Worker.stop`): no new claims; running jobs get
``jobs_grace_seconds`` to finish; a job still running then is handed back to the queue
(another worker, or this one after a restart, runs it again; handlers are idempotent).
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import timedelta

from regie.jobs import tasks
from regie.jobs.queue import ClaimedJob, JobQueue, worker_name
from regie.jobs.tasks import JobContext, NoHandler

log = logging.getLogger("regie.jobs")


class Worker:
    def __init__(self, context: JobContext, *, concurrency: int | None = None, name: str | None = None,
                 schedule: bool = True) -> None:
        settings = context.settings
        self.context = context
        self.queue = JobQueue(context.db)
        self.name = name or worker_name()
        self.concurrency = max(1, concurrency or settings.jobs_concurrency)
        self.poll_seconds = settings.jobs_poll_seconds
        self.grace_seconds = settings.jobs_grace_seconds
        self.stale_after = timedelta(seconds=settings.jobs_stale_after_seconds)
        self.schedule = schedule
        self._stop = threading.Event()
        # One daemon thread per running job (at most ``concurrency``): a job still running
        # after the grace period is handed back, and its thread must not keep the process
        # alive (a ThreadPoolExecutor's threads are joined at interpreter exit).
        self._running: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._last_housekeeping = 0.0

    # --- control ------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Work until :meth:`stop`; then finish or hand back the running jobs."""
        log.info("worker started", extra={"worker": self.name, "concurrency": self.concurrency})
        try:
            while not self._stop.is_set():
                self._housekeeping()
                started = self._fill()
                self._stop.wait(0.05 if started else self.poll_seconds)
        finally:
            self._shutdown()

    def run_until_idle(self, timeout: float = 30.0) -> int:
        """Tests and `regie worker --once`: run due jobs until none are left; the count run."""
        done = 0
        deadline = time.monotonic() + timeout
        self._housekeeping(force=True)
        while time.monotonic() < deadline:
            job = self.queue.claim(self.name, list(tasks.HANDLERS))
            if job is None:
                break
            self._execute(job)
            done += 1
        return done

    # --- inside the loop ----------------------------------------------------------
    def _housekeeping(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_housekeeping < max(self.poll_seconds, 5.0):
            return
        self._last_housekeeping = now
        try:
            with self._lock:
                running = list(self._running)
            for job_id in running:
                self.queue.heartbeat(job_id, self.name)
            requeued = self.queue.requeue_stale(self.stale_after)
            if requeued:
                log.warning("jobs of a stopped worker requeued", extra={"count": requeued})
            if self.schedule:
                for kind, every in tasks.periodic(self.context.settings).items():
                    self.queue.ensure_periodic(kind, every)
        except Exception:  # a database hiccup must not end the worker; the next round retries
            log.exception("worker housekeeping failed")

    def _fill(self) -> bool:
        started = False
        while not self._stop.is_set():
            with self._lock:
                if len(self._running) >= self.concurrency:
                    return started
            try:
                job = self.queue.claim(self.name, list(tasks.HANDLERS))
            except Exception:
                log.exception("claiming a job failed")
                return started
            if job is None:
                return started
            thread = threading.Thread(target=self._execute_and_forget, args=(job,), daemon=True,
                                      name=f"regie-job-{job.id[:8]}")
            with self._lock:
                self._running[job.id] = thread
            thread.start()
            started = True
        return started

    def _execute_and_forget(self, job: ClaimedJob) -> None:
        try:
            self._execute(job)
        finally:
            with self._lock:
                self._running.pop(job.id, None)

    def _execute(self, job: ClaimedJob) -> None:
        started = time.monotonic()
        fields = {"job": job.id, "kind": job.kind, "attempt": job.attempts}
        handler = tasks.HANDLERS.get(job.kind)
        try:
            if handler is None:
                raise NoHandler(job.kind)
            handler(self.context, job)
        except NoHandler:
            self.queue.fail(job.id, self.name, "no-handler", final=True)
            log.error("job has no handler", extra=fields)
            _observe(job.kind, "failed", time.monotonic() - started)
        except Exception as exc:
            reference = secrets.token_hex(4)
            # The class and a reference only: an exception's text could quote data.
            self.queue.fail(job.id, self.name, f"{type(exc).__name__} [{reference}]")
            log.exception("job failed", extra={**fields, "reference": reference})
            _observe(job.kind, "failed", time.monotonic() - started)
        else:
            if self.queue.complete(job.id, self.name):
                _observe(job.kind, "done", time.monotonic() - started)
                log.info("job done", extra={**fields, "seconds": round(time.monotonic() - started, 3)})

    def _shutdown(self) -> None:
        log.info("worker stopping", extra={"worker": self.name})
        deadline = time.monotonic() + self.grace_seconds
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    break
            time.sleep(0.05)
        with self._lock:
            left = list(self._running)
        for job_id in left:
            if self.queue.hand_back(job_id, self.name):
                log.warning("job handed back at shutdown", extra={"job": job_id})
        log.info("worker stopped", extra={"worker": self.name, "handed_back": len(left)})


def _observe(kind: str, outcome: str, seconds: float) -> None:
    try:
        from regie.ops.metrics import observe_job

        observe_job(kind, outcome, seconds)
    except Exception:  # metrics never break a job
        pass


class InProcessWorker:
    """The single-worker path for one machine (SQLite): a :class:`Worker` in a daemon
    thread of the web process, started and stopped by the app's lifespan."""

    def __init__(self, context: JobContext) -> None:
        self.worker = Worker(context, concurrency=1)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.worker.run, name="regie-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.worker.stop()
        if self._thread is not None:
            self._thread.join(self.worker.grace_seconds + 5)
