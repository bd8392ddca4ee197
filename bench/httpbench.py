"""The benchmark through HTTP against the real server: `qiyue serve` (waitress, its threads, the
whole middleware) started as a subprocess on a free port against the benchmark's database, logged
into through the login form (CSRF token and session cookie), measured with N concurrent clients
(threads, each with its own keep-alive connection) over distinct queries.

    server = Server(); server.start()
    cookie = server.log_in("bench_legal", PASSWORD)
    table = measure(server, cookie, requests_by_class, clients=4, samples=200)
    server.memory()   # {"VmRSS": kB, "VmHWM": kB}
    server.stop()
"""

import http.client
import itertools
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str | None:
    """The URL of the database this process uses now (PostgreSQL: the throwaway bench database)."""
    if connection.vendor != "postgresql":
        return None
    base = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(base._replace(path="/" + connection.settings_dict["NAME"]))


class Server:
    def __init__(self, threads: int = 8):
        self.threads = threads
        self.port = None
        self.process = None

    def start(self, timeout: float = 60) -> float:
        """Start the server; returns the seconds until it answered."""
        self.port = free_port()
        env = dict(os.environ)
        env.setdefault("QIYUE_DEBUG", "0")
        url = database_url()
        if url:
            env["DATABASE_URL"] = url
        else:
            env.pop("DATABASE_URL", None)
        self._log = open(Path(os.environ["QIYUE_DATA_DIR"]) / f"serve-{self.port}.log", "wb")  # noqa: SIM115
        began = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(self.port),
             "--threads", str(self.threads)], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        while time.perf_counter() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"qiyue serve exited with {self.process.returncode}: "
                                   f"{Path(self._log.name).read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return time.perf_counter() - began
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("qiyue serve did not answer in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._log.close()

    def memory(self) -> dict:
        """The server process's resident set now and its peak (kB), from /proc."""
        out = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0])
        return out

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def log_in(self, username: str, password: str) -> str:
        """Log in through the form (GET for the CSRF token, POST); returns the Cookie header."""
        conn = self.connection()
        conn.request("GET", "/login/")
        response = conn.getresponse()
        page = response.read().decode()
        cookies = _cookies(response)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        conn.request("POST", "/login/", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": _header(cookies),
            "Referer": f"http://127.0.0.1:{self.port}/login/"})
        response = conn.getresponse()
        response.read()
        cookies.update(_cookies(response))
        conn.close()
        if response.status != 302 or settings.SESSION_COOKIE_NAME not in cookies:
            raise RuntimeError(f"log-in of {username} failed: HTTP {response.status}")
        return _header(cookies)


def _cookies(response) -> dict:
    out = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            out[key.strip()] = rest.split(";", 1)[0]
    return out


def _header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def get(conn, path: str, cookie: str) -> tuple[int, bytes, float]:
    start = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html,application/json"})
    response = conn.getresponse()
    body = response.read()
    return response.status, body, (time.perf_counter() - start) * 1000


def get_json(server, cookie: str, path: str) -> dict:
    conn = server.connection()
    try:
        status, body, _ms = get(conn, path, cookie)
    finally:
        conn.close()
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}")
    return json.loads(body)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def measure(server, cookie: str, paths_by_class: dict[str, list[str]], *, clients: int, samples: int) -> dict:
    """`samples` requests per class, cycling over its distinct paths, from `clients` threads with
    their own keep-alive connection, all classes interleaved. Returns {class: stats} and "_all"."""
    work = []
    for name, paths in paths_by_class.items():
        cycle = itertools.cycle(paths)
        work += [(name, next(cycle)) for _ in range(samples)]
    # Interleaved (a fixed shuffle) so that no class runs alone on a warm cache of its own.
    random.Random(3).shuffle(work)
    results: dict[str, list[float]] = {name: [] for name in paths_by_class}
    errors: list[tuple[str, str, int]] = []
    lock = threading.Lock()
    items = iter(work)

    def client():
        conn = server.connection()
        try:
            while True:
                with lock:
                    item = next(items, None)
                if item is None:
                    return
                name, path = item
                status, _body, ms = get(conn, path, cookie)
                with lock:
                    if status == 200:
                        results[name].append(ms)
                    else:
                        errors.append((name, path, status))
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    table = {name: {"n": len(ms), "p50": statistics.median(ms) if ms else None,
                    "p95": percentile(ms, 95) if ms else None, "p99": percentile(ms, 99) if ms else None}
             for name, ms in results.items()}
    table["_all"] = {"requests": len(work), "seconds": wall, "per_second": len(work) / wall, "errors": errors}
    return table


def drop_page_cache(out=print) -> bool:
    """Drop the OS page cache where this process may (root); says so and skips where not."""
    try:
        subprocess.run(["sync"], check=False)  # noqa: S607
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError as error:
        out(f"(OS page cache not dropped: {error.strerror or error}; cold figures are after a server restart only)")
        return False


def cold_and_warm(server, username: str, password: str, paths: dict[str, str], *, drop_cache: bool,
                  out=print) -> dict:
    """Restart the server (after dropping the page cache if asked and allowed) and time the first
    request of each path, then the same path again (warm). Returns {label: (cold ms, warm ms)}."""
    server.stop()
    dropped = drop_page_cache(out) if drop_cache else False
    server.start()
    cookie = server.log_in(username, password)
    conn = server.connection()
    out_table = {}
    try:
        for label, path in paths.items():
            status, _b, cold = get(conn, path, cookie)
            status2, _b, warm = get(conn, path, cookie)
            if status != 200 or status2 != 200:
                raise RuntimeError(f"GET {path}: HTTP {status}/{status2}")
            out_table[label] = (cold, warm)
    finally:
        conn.close()
    out_table["_dropped"] = dropped
    return out_table


def reindex_process() -> subprocess.Popen:
    """`qiyue reindex` against the benchmark's database, as an operator would run it beside the server."""
    env = dict(os.environ)
    url = database_url()
    if url:
        env["DATABASE_URL"] = url
    else:
        env.pop("DATABASE_URL", None)
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "reindex"], cwd=ROOT, env=env,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def search_while_reindexing(server, cookie: str, expected: dict[str, tuple[int, bool]], *, clients: int = 1) -> dict:
    """Searches without pause from `clients` threads while `qiyue reindex` runs beside the server; each
    answer's count is compared with the one before the rebuild (`expected`: path → (count, capped)).
    Returns latency percentiles, the requests whose count differed, and the rebuild's own report."""
    paths = list(expected)
    samples: list[float] = []
    wrong: list[tuple[str, object, object]] = []
    lock = threading.Lock()
    process = reindex_process()
    done = threading.Event()

    def client(offset: int):
        conn = server.connection()
        try:
            for n in itertools.count(offset):
                if done.is_set():
                    return
                path = paths[n % len(paths)]
                status, body, ms = get(conn, path, cookie)
                answer = json.loads(body) if status == 200 else {}
                got = (answer.get("count"), answer.get("count_capped"))
                with lock:
                    samples.append(ms)
                    if got != expected[path]:
                        wrong.append((path, expected[path], got if status == 200 else status))
        finally:
            conn.close()

    writes: list[float] = []
    write_errors: list[str] = []

    def writer():
        """A small write every 0.2 s (what a user's save does to the database): how long it waits for the
        rebuild's write transactions."""
        from django.db import connection as own
        from django.db import transaction

        try:
            with own.cursor() as cursor:
                cursor.execute("CREATE TABLE IF NOT EXISTS bench_write_probe (at varchar(40))")
            while not done.is_set():
                start = time.perf_counter()
                try:
                    with transaction.atomic(), own.cursor() as cursor:
                        cursor.execute("INSERT INTO bench_write_probe (at) VALUES (%s)", [str(start)])
                    writes.append((time.perf_counter() - start) * 1000)
                except Exception as error:  # noqa: BLE001 — counted and reported
                    write_errors.append(str(error))
                time.sleep(0.2)
        finally:
            own.close()

    threads = [threading.Thread(target=client, args=(i * 7,)) for i in range(clients)]
    threads.append(threading.Thread(target=writer))
    began = time.perf_counter()
    for t in threads:
        t.start()
    output, _ = process.communicate()
    done.set()
    for t in threads:
        t.join()
    return {"seconds": time.perf_counter() - began, "returncode": process.returncode, "n": len(samples),
            "p50": statistics.median(samples) if samples else None,
            "p95": percentile(samples, 95) if samples else None, "p99": percentile(samples, 99) if samples else None,
            "wrong": wrong, "reindex": output.strip().splitlines()[-1] if output.strip() else "",
            "writes": len(writes), "write_p50": statistics.median(writes) if writes else None,
            "write_max": max(writes) if writes else None, "write_errors": write_errors}
