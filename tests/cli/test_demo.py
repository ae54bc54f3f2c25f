"""`regie demo` as a person runs it: account printed, Regie and the sandbox serving, Ctrl-C stops both."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyotp

from tests.processes import wait_answering


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Generous: two processes import everything and the sandbox signs its lists; on a busy
# machine (the suite's other workers) that took over 40 s. An answer ends the wait at once.
START_SECONDS = 180


def test_demo_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    sandbox_port = _free_port()
    while sandbox_port == port:
        sandbox_port = _free_port()
    env = {**os.environ, "REGIE_HOME": str(tmp_path / "demo"), "PYTHONUNBUFFERED": "1"}
    env.pop("REGIE_DATABASE_URL", None)
    log = (tmp_path / "demo.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "regie.cli.main", "demo", "--port", str(port), "--sandbox-port", str(sandbox_port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        log_path = Path(log.name)
        wait_answering(f"http://127.0.0.1:{port}/healthz", process, log_path, timeout=START_SECONDS)
        wait_answering(f"http://127.0.0.1:{sandbox_port}/MedMij_Gegevensdienstnamenlijst.xml", process, log_path,
                       timeout=START_SECONDS)
        output = Path(log.name).read_text()
        password = re.search(r"password: (\S+)", output).group(1)
        secret = re.search(r"TOTP key: ([A-Z2-7 ]+?)\s*│", output).group(1).replace(" ", "")
        assert len(re.findall(r"^\s+9999\d{5}\s", output, flags=re.MULTILINE)) == 10  # the sandbox's persons
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"email": "demo@regie.test", "password": password, "otp": pyotp.TOTP(secret).now()},
        )
        assert login.status_code == 200, login.text
        _a_new_user_can_register(f"http://127.0.0.1:{port}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert code in (0, 130), Path(log.name).read_text()[-2000:]
    time.sleep(0.5)
    for url in (f"http://127.0.0.1:{port}/healthz", f"http://127.0.0.1:{sandbox_port}/"):
        try:
            httpx.get(url, timeout=1)
            raise AssertionError(f"{url} still answers after Ctrl-C")
        except httpx.HTTPError:
            pass


def _a_new_user_can_register(base: str) -> None:
    """Without a mail server the demo shows the e-mailed link on the page (development only)."""
    with httpx.Client(base_url=base) as browser:
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/register").text).group(1)
        sent = browser.post("/register", data={"email": "nieuw@regie.test", "csrf_token": token})
        assert sent.status_code == 200 and "data-dev-mail-link" in sent.text, sent.text
        link = re.search(r'href="([^"]+/register/continue/[^"]+)"', sent.text).group(1)
        opened = browser.get(httpx.URL(link).path, follow_redirects=True)
        assert opened.status_code == 200 and 'name="password_repeat"' in opened.text

