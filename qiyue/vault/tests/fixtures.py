"""Fixtures for tests of encryption at rest (used by the documents tests too): a storage directory
and master key of the test's own, upload and system temp dirs inside it, a real waitress server."""

import contextlib
import tempfile
import threading
import time
from pathlib import Path

import pytest

from qiyue.vault import keys


@pytest.fixture(name="storage")
def storage_fixture(settings, tmp_path) -> Path:
    """A fresh data directory (files and keys) per test; returns the storage root."""
    settings.QIYUE_MASTER_KEY = ""
    settings.QIYUE_OLD_MASTER_KEYS = []
    settings.DATA_DIR = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "files")}}}
    keys.keyring.cache_clear()
    yield tmp_path / "files"
    keys.keyring.cache_clear()


@pytest.fixture(name="upload_tmp")
def upload_tmp_fixture(settings, storage, tmp_path, monkeypatch) -> Path:
    """FILE_UPLOAD_TEMP_DIR and the system temp dir, both inside the test's data directory;
    returns FILE_UPLOAD_TEMP_DIR (the system temp dir is its sibling `system-tmp`)."""
    spool = tmp_path / "tmp"
    spool.mkdir(mode=0o700)
    system = tmp_path / "system-tmp"
    system.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    return spool


def stored_blobs(root: Path) -> list[Path]:
    return [p for p in (root / "blobs").rglob("*") if p.is_file()] if (root / "blobs").exists() else []


@contextlib.contextmanager
def running_waitress(app, threads: int = 2):
    """A real waitress server on a free port, in a thread; yields the port. The loop runs a poll at a
    time until told to stop and the connections are gone, so the listening socket is closed only
    after the loop has let go of it (closing it under a running select() fails that thread with
    EBADF)."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="qiyue-test")
    stop = threading.Event()

    def serve():
        # After stop, run on until the clients' connections are closed (they release their request
        # and response buffers then), for at most a second; what is left is closed below.
        deadline = None
        while True:
            if stop.is_set():
                deadline = deadline or time.monotonic() + 1
                if len(server._map) <= 1 or time.monotonic() > deadline:  # the listening socket alone
                    return
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        stop.set()
        thread.join(5)
        server.task_dispatcher.shutdown()
        for channel in list(server._map.values()):
            if channel is not server:
                channel.handle_close()
        server.close()
