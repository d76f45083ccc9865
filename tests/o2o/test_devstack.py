"""`make run`'s engine: embedded PostgreSQL and Redis, web, worker and beat; SIGTERM ends all,
users before what they use, so requests in flight finish and nothing logs a lost server.

This starts the real thing in a scratch var/ directory, as on a fresh clone.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and int(pid) != os.getpid():
            found.append(f"{pid}: {cmdline[:120]}")
    return found


def started_in(var: Path, text: str) -> list[str]:
    """The processes mentioning ``text`` that this shop started (their environment names its
    var/ directory): not a kill test's Celery worker beside it, nor another run's."""
    mine = f"O2O_VAR_DIR={var}".encode()
    found = []
    for process in processes_mentioning(text):
        try:
            environ = Path(f"/proc/{process.split(':', 1)[0]}/environ").read_bytes()
        except OSError:
            continue
        if mine in environ.split(b"\0"):
            found.append(process)
    return found


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def scratch_var():
    # Not pytest's tmp_path: PostgreSQL runs as its own user and must reach the folder.
    path = Path(tempfile.mkdtemp(prefix="o2o-devstack-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def start(var: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL"}}
    env.update(O2O_VAR_DIR=str(var), O2O_LOAD_DEMO="0", PORT=str(port),
               STATIC_ROOT=str(var / "static"), MEDIA_ROOT=str(var / "media"))
    return subprocess.Popen([sys.executable, "-m", "o2o.devstack", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_healthy(process: subprocess.Popen, port: int, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            status, body = get(f"http://127.0.0.1:{port}/healthz")
        except OSError:
            time.sleep(0.5)
            continue
        if status == 200:
            return json.loads(body)
        time.sleep(0.5)
    raise AssertionError("the shop did not become healthy")


class Load:
    """Clients asking for pages that need the database, Redis and the broker, over and
    over, until told to stop: every answer's status is kept, and every request that got
    no answer at all (refused or reset: the server had stopped listening)."""

    PATHS = ("/healthz", "/", "/stores/")

    def __init__(self, port: int, clients: int = 6):
        self.port, self.done = port, threading.Event()
        self.answers: list[tuple[float, int, str]] = []
        self.unanswered = 0
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(clients)]

    def client(self, i: int) -> None:
        n = 0
        deadline = time.monotonic() + 120  # bounded, whatever happens
        while not self.done.is_set() and time.monotonic() < deadline:
            path = self.PATHS[(i + n) % len(self.PATHS)]
            n += 1
            try:
                status, _body = get(f"http://127.0.0.1:{self.port}{path}")
            except (OSError, urllib.error.URLError):
                self.unanswered += 1
                time.sleep(0.05)
                continue
            self.answers.append((time.monotonic(), status, path))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        for t in self.threads:
            t.join(timeout=30)


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=90)
    return output


@pytest.mark.long
def test_the_embedded_shop_starts_serves_and_stops_leaving_nothing_behind(scratch_var):
    port = free_port()
    process = start(scratch_var, port)
    try:
        health = wait_healthy(process, port)
        assert all(check["ok"] for check in health["checks"].values()), health
        status, body = get(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert started_in(scratch_var, "celery -A o2o worker"), "no Celery worker"
        assert started_in(scratch_var, "celery -A o2o beat"), "no Celery beat"
        with Load(port) as load:
            time.sleep(3)
            sigterm_at = time.monotonic()
            output = stop(process)
    finally:
        if process.poll() is None:
            output = stop(process)
    assert process.returncode == 0, output
    # Every request the shop answered was answered well, also those in flight at SIGTERM
    # (before the fix the database went first: 500s, and /healthz said 503).
    bad = [(status, path) for _at, status, path in load.answers if status != 200]
    assert bad == [], (bad[:10], output[-3000:])
    assert any(at >= sigterm_at for at, _s, _p in load.answers) or load.unanswered, output
    assert len(load.answers) > 50, len(load.answers)
    # Users first, then what they use; Redis outlives the worker, which loses no broker.
    order = [output.index(f"[o2o] stopping {name}") for name in ("web", "worker", "beat")]
    assert order == sorted(order), output[-3000:]
    assert (output.index("[o2o] beat stopped") < output.index("[o2o] Redis stopped")
            < output.index("[o2o] PostgreSQL let go")), output[-3000:]
    for complaint in ("Connection to broker lost", "Error 111", "Cannot connect to redis",
                      "connection refused", "terminating connection due to administrator"):
        assert complaint.lower() not in output.lower(), output[-3000:]
    time.sleep(1)
    assert processes_mentioning(str(scratch_var)) == [], output
    assert processes_mentioning(f"127.0.0.1:{port}") == []

    # A second start finds the same data and is quick.
    started = time.monotonic()
    process = start(scratch_var, port)
    try:
        wait_healthy(process, port, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        stop(process)
    assert elapsed < 30, f"second start took {elapsed:.0f}s"
    assert (scratch_var / "pg" / "PG_VERSION").exists()
    assert processes_mentioning(str(scratch_var)) == []
