"""`qiyue serve` behind a TLS-terminating proxy (issue 8): the real server, started as production
starts it, trusts X-Forwarded-Proto from the configured proxy address only with QIYUE_BEHIND_PROXY,
so a forwarded HTTPS request is served (with HSTS) instead of being redirected to HTTPS forever."""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[3]
HOST = "contracts.example.com"
LOGIN = "/login/"

# Set by the test run itself; a production process must not inherit them (as in test_security).
_NOT_INHERITED = {"DATABASE_URL", "QIYUE_SECRET_KEY", "SECRET_KEY", "QIYUE_DEBUG", "QIYUE_AUDIT_KEY",
                  "QIYUE_SECURE_COOKIES", "QIYUE_SSL_REDIRECT", "QIYUE_HSTS_SECONDS", "DJANGO_SETTINGS_MODULE",
                  "DJANGO_ALLOW_ASYNC_UNSAFE", "QIYUE_BEHIND_PROXY", "QIYUE_TRUSTED_PROXY"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_serve(data_dir: Path, **extra):
    """`qiyue serve` in production mode in a child process on a free port; yields the port."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(QIYUE_ENV="production", QIYUE_DATA_DIR=str(data_dir), QIYUE_ALLOWED_HOSTS=HOST, **extra)
    port = _free_port()
    log = data_dir / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "qiyue.cli", "serve", "--port", str(port), "--threads", "2"],
                                   env=env, cwd=BASE_DIR, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"qiyue serve exited with {process.returncode}: {log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"qiyue serve did not listen within 60 s: {log.read_text()}")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _get(port: int, headers: dict) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", LOGIN, headers={"Host": HOST, **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_behind_the_proxy_a_forwarded_https_request_is_served_with_hsts(tmp_path):
    with running_serve(tmp_path, QIYUE_BEHIND_PROXY="1") as port:
        secure = _get(port, {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
        assert secure.status == 200
        assert secure.getheader("Strict-Transport-Security", "").startswith("max-age=31536000")
        # Without the header the request came in over plain HTTP: redirected to HTTPS, no HSTS.
        plain = _get(port, {})
        assert plain.status == 301
        assert plain.getheader("Location") == f"https://{HOST}{LOGIN}"
        assert plain.getheader("Strict-Transport-Security") is None


def test_behind_the_proxy_only_the_configured_proxy_is_trusted(tmp_path):
    # The request comes from 127.0.0.1, which is not the trusted proxy: its header is dropped.
    with running_serve(tmp_path, QIYUE_BEHIND_PROXY="1", QIYUE_TRUSTED_PROXY="192.0.2.10") as port:
        response = _get(port, {"X-Forwarded-Proto": "https"})
        assert response.status == 301
        assert response.getheader("Location") == f"https://{HOST}{LOGIN}"


def test_not_behind_a_proxy_the_forwarded_header_is_ignored(tmp_path):
    with running_serve(tmp_path) as port:
        response = _get(port, {"X-Forwarded-Proto": "https"})
        assert response.status == 301
        assert response.getheader("Location") == f"https://{HOST}{LOGIN}"
        assert response.getheader("Strict-Transport-Security") is None
