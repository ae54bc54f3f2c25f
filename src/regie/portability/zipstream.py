"""Writing a zip archive as a stream of byte chunks (no seeking, constant memory).

:mod:`zipfile` writes to any object with ``write``: when it cannot seek, it puts each
member's sizes and CRC in a data descriptor after the data. :class:`ZipStream` hands
out what was written so far, so a web response or a file can take the archive piece
by piece while the members are still being produced.
"""
from __future__ import annotations

import hashlib
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO


class _Sink:
    """A write-only, unseekable buffer that zipfile writes into."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass


class MemberWriter:
    """One member being written: counts bytes and lines, hashes the content."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.size = 0
        self.lines = 0
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self.sha256.update(data)
        self.size += len(data)

    def line(self, data: bytes) -> None:
        """One NDJSON line (``data`` without the newline)."""
        self.write(data + b"\n")
        self.lines += 1


class ZipStream:
    """A zip archive written member by member; :meth:`take` returns the bytes ready so far."""

    CHUNK = 256 * 1024

    def __init__(self, when: datetime) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self._when = when.timetuple()[:6]
        self.members: dict[str, dict[str, int | str]] = {}

    @contextmanager
    def member(self, name: str) -> Iterator[MemberWriter]:
        info = zipfile.ZipInfo(name, date_time=self._when)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (stat.S_IFREG | 0o600) << 16  # a plain file, readable by its owner only
        # force_zip64: the size is not known in advance and may pass 2 GiB.
        with self._zip.open(info, "w", force_zip64=True) as handle:
            writer = MemberWriter(handle)
            yield writer
        self.members[name] = {"bytes": writer.size, "sha256": writer.sha256.hexdigest(), "lines": writer.lines}

    def ready(self) -> bool:
        return len(self._sink.buffer) >= self.CHUNK

    def take(self) -> bytes:
        data = bytes(self._sink.buffer)
        self._sink.buffer.clear()
        return data

    def close(self) -> bytes:
        """Write the central directory; the archive's last bytes."""
        self._zip.close()
        return self.take()
