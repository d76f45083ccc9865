"""`make bench`: throughput and latency of the shop's pages against a bare Django view.

    python -m devtools.benchmark                    # every scenario, 10 s each
    python -m devtools.benchmark --seconds 5 --only home

Uses DATABASE_URL / REDIS_URL from the environment (`make bench` runs this under
``python -m o2o.devstack exec --``, which provides embedded ones when they are unset),
with the database ``o2o_bench`` on that server (BENCH_DB_NAME names another, so two
benches on one server keep apart; --output's folder also holds gunicorn's log).
Migrates, collects static files, loads the demo data when the catalog is empty, then
starts gunicorn (o2o.wsgi, settings o2o.settings.dev with DEBUG off) on a free port
of 127.0.0.1 and waits for /healthz. Each scenario (devtools/benchmark_scenarios.py) is
warmed up, then loaded for a bounded time by separate client processes over kept-alive
HTTP/1.1 connections. Prints a table and writes var/bench/latest.json (the run before
it is kept as var/bench/previous.json). gunicorn is stopped, whatever happens.

Columns: requests (HTTP answers), errors (another status than expected, or no
answer), req/s, p50/p99 latency, "vs base" (req/s over the scenario's baseline, the
bare view), "vs prev" (req/s over the previous run's), and CPU in % of one core:
gunicorn's processes, the load generator, and the rest of the machine (PostgreSQL,
Redis, and anything else running: a high figure there means noisy numbers; use
--rounds to interleave and merge repeated runs).

Exit status: 0, or 1 when the server failed or a scenario got nothing but errors.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import multiprocessing
import os
import platform
import re
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from devtools.benchmark_scenarios import (
    BASELINE,
    ISSUE_BARE_CPU_MS,
    SCALING,
    SCENARIOS,
    TARGETS,
    Scenario,
)

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "var" / "bench"
HOST = "127.0.0.1"

# gunicorn on the 2-core machine, chosen by measuring the bare view with this runner
# (--workers/--threads/--worker-class, 5 s runs, keeping those the rest of the machine
# left alone): gthread with 2 workers did 2,100-2,200 req/s with 1, 2 or 4 threads
# alike; 3 or 4 workers no more (more switching, same 2 cores); sync workers about
# 1,200-1,900, as they close the connection after every answer (accept/close on
# both sides, twice the generator's CPU). 4 threads cost the bare view nothing and
# let pages overlap their database and Redis waits; it is also how `make run` serves.
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4
# One generator process with 8 connections spends ~75 us of CPU per request (about
# a tenth of what the server spends on the bare view); more processes only take
# more of the 2 cores from the server.
DEFAULT_CONNECTIONS = 8
DEFAULT_CLIENTS = 1

REQUEST_TIMEOUT = 30.0  # one request, from connect to the last byte
DRAIN_SECONDS = 10.0  # after the deadline, in-flight requests may finish this long
HEALTH_TIMEOUT = 60.0


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


class BenchError(Exception):
    """The run cannot go on (server down, /healthz failing...)."""


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


# --- Load generator (runs in child processes) --------------------------------------


@dataclass
class Load:
    """What one client process does: `connections` connections, one request each in flight."""

    port: int
    request: bytes
    expected: frozenset[int]
    connections: int
    start_at: float  # time.monotonic(): system-wide on Linux, shared by the processes
    stop_at: float
    max_requests: int
    head: bool = False
    # Connections opened (and spread over the workers) by the parent; fork passes them on.
    socks: list[socket.socket] = field(default_factory=list)


@dataclass
class LoadResult:
    latencies: array = field(default_factory=lambda: array("d"))  # seconds, every answer
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)  # no HTTP answer: kind -> count
    errors: int = 0  # unexpected status or no answer
    connects: int = 0
    first_error: str = ""
    cpu_seconds: float = 0.0
    started: float = 0.0
    finished: float = 0.0


class _Conn:
    __slots__ = ("sock", "buf", "t0", "hdr_end", "status", "body_end", "chunked",
                 "chunk_pos", "close_after", "reused", "pending", "retried")

    def __init__(self):
        self.sock: socket.socket | None = None
        self.pending: memoryview | None = None
        self.retried = False
        self.reset()

    def reset(self):
        self.buf = bytearray()
        self.hdr_end = -1
        self.status = 0
        self.body_end = -1  # -1: unknown yet, -2: until the server closes
        self.chunked = False
        self.chunk_pos = 0
        self.close_after = False


_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r\n]*chunked", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[^\r\n]*close", re.IGNORECASE)
_KEEP_ALIVE = re.compile(rb"\r\nconnection:[^\r\n]*keep-alive", re.IGNORECASE)


def _parse_head(conn: _Conn, head_only: bool) -> None:
    """Status and framing of the response once its head is in (only what we need: cheap)."""
    buf = conn.buf
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return
    head = bytes(buf[:end + 2])
    if not head.startswith(b"HTTP/1.") or head[8:9] != b" ":
        raise ValueError(f"not an HTTP/1.x response: {head[:40]!r}")
    conn.status = int(head[9:12])
    conn.hdr_end = end + 4
    conn.chunk_pos = conn.hdr_end
    conn.chunked = _CHUNKED.search(head) is not None
    length = _LENGTH.search(head)
    conn.close_after = _CLOSE.search(head) is not None or (
        head[5:8] == b"1.0" and _KEEP_ALIVE.search(head) is None)
    if head_only or conn.status in (204, 304) or 100 <= conn.status < 200:
        conn.body_end = conn.hdr_end
        conn.chunked = False
    elif conn.chunked:
        conn.body_end = -1
    elif length is not None:
        conn.body_end = conn.hdr_end + int(length.group(1))
    else:
        conn.body_end = -2
        conn.close_after = True


def _complete(conn: _Conn) -> bool:
    """Is the response in conn.buf whole?"""
    buf = conn.buf
    if not conn.chunked:
        return conn.body_end >= 0 and len(buf) >= conn.body_end
    pos = conn.chunk_pos
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            break
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        if size == 0:
            return buf.find(b"\r\n\r\n", eol) >= 0  # "0\r\n", trailers, "\r\n"
        if len(buf) < eol + 2 + size + 2:
            break
        pos = eol + 2 + size + 2
    conn.chunk_pos = pos
    return False


def generate(load: Load) -> LoadResult:
    """Keep one request in flight on each connection until the deadline; record each answer.

    One thread with a selector: cheaper per request than threads fighting over the GIL,
    which matters when the generator shares 2 cores with the server it measures.
    """
    result = LoadResult()
    sel = selectors.DefaultSelector()
    conns = [_Conn() for _ in range(load.connections)]
    active: set[_Conn] = set()
    idle: list[_Conn] = []  # failed: start the next request from the main loop
    sent = 0

    def close(conn: _Conn) -> None:
        conn.pending = None
        if conn.sock is not None:
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(conn.sock)
            conn.sock.close()
            conn.sock = None

    def fail(conn: _Conn, kind: str, detail: str = "") -> None:
        result.failures[kind] += 1
        result.errors += 1
        if not result.first_error:
            result.first_error = f"{kind} {detail}".strip()
        close(conn)
        idle.append(conn)

    def connect(conn: _Conn) -> bool:
        try:
            sock = socket.create_connection((HOST, load.port), timeout=REQUEST_TIMEOUT)
        except OSError as exc:
            fail(conn, "connect", str(exc))
            return False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn.sock = sock
        result.connects += 1
        sel.register(sock, selectors.EVENT_READ, conn)
        return True

    def start(conn: _Conn, now: float, retry: bool = False) -> None:
        """Send the next request on conn (a new connection if it has none)."""
        nonlocal sent
        if not retry:
            if now >= load.stop_at or sent >= load.max_requests:
                close(conn)
                active.discard(conn)
                return
            sent += 1
            conn.t0 = now
            conn.retried = False
        conn.reset()
        conn.reused = conn.sock is not None
        if conn.sock is None and not connect(conn):
            return
        try:
            n = conn.sock.send(load.request)
        except OSError as exc:
            if conn.reused and not conn.retried:
                resend(conn)
            else:
                fail(conn, "send", str(exc))
            return
        if n < len(load.request):
            conn.pending = memoryview(load.request)[n:]
            sel.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)

    def resend(conn: _Conn) -> None:
        """The server closed a kept-alive connection as we reused it: once more, anew."""
        conn.retried = True
        close(conn)
        start(conn, conn.t0, retry=True)

    def on_event(conn: _Conn, mask: int) -> None:
        if mask & selectors.EVENT_WRITE and conn.pending is not None:
            try:
                n = conn.sock.send(conn.pending)
            except OSError as exc:
                fail(conn, "send", str(exc))
                return
            conn.pending = conn.pending[n:] if n < len(conn.pending) else None
            if conn.pending is None:
                sel.modify(conn.sock, selectors.EVENT_READ, conn)
        if not mask & selectors.EVENT_READ:
            return
        try:
            data = conn.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError as exc:
            data, error = b"", str(exc)
        else:
            error = "closed by the server"
        if data:
            conn.buf += data
            if conn.hdr_end < 0:
                try:
                    _parse_head(conn, load.head)
                except ValueError as exc:
                    fail(conn, "bad-response", str(exc))
                    return
                if conn.hdr_end < 0:
                    return
            if not _complete(conn):
                return
        elif conn.body_end != -2:  # closed before the response was whole
            if not conn.buf and conn.reused and not conn.retried:
                resend(conn)
            else:
                fail(conn, "closed", error)
            return
        now = time.monotonic()
        result.latencies.append(now - conn.t0)
        result.statuses[conn.status] += 1
        if conn.status not in load.expected:
            result.errors += 1
            if not result.first_error:
                body = bytes(conn.buf[conn.hdr_end:conn.hdr_end + 2000])
                text = " ".join(body.decode(errors="replace").split())[:240]
                result.first_error = f"HTTP {conn.status}: {text}"
        if conn.close_after or not data:
            close(conn)
        start(conn, now)

    result.connects += len(load.socks)
    for conn, sock in zip(conns, load.socks, strict=False):
        sock.setblocking(False)
        conn.sock = sock
        sel.register(sock, selectors.EVENT_READ, conn)
    for conn in conns[len(load.socks):]:  # connect before the start, not on the clock
        connect(conn)
    idle.clear()
    delay = load.start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    cpu0 = time.process_time()
    result.started = now = time.monotonic()
    for conn in conns:
        active.add(conn)
        start(conn, now)
    hard_stop = load.stop_at + DRAIN_SECONDS
    next_check = now + 0.25
    while active:
        events = sel.select(timeout=0.005 if idle else 0.25)
        for key, mask in events:
            on_event(key.data, mask)
        now = time.monotonic()
        if idle:
            retry, idle[:] = list(idle), []
            for conn in retry:
                start(conn, now)
        if now >= next_check:
            next_check = now + 0.25
            for conn in list(active):
                if conn in idle:
                    continue
                if now > hard_stop:
                    fail(conn, "timeout", f"after {now - conn.t0:.1f}s")
                    active.discard(conn)
                elif now - conn.t0 > REQUEST_TIMEOUT:
                    fail(conn, "timeout", f"after {now - conn.t0:.1f}s")
    result.finished = time.monotonic()
    result.cpu_seconds = time.process_time() - cpu0
    for conn in conns:
        close(conn)
    sel.close()
    return result


def _client_main(load: Load, pipe, others: list[socket.socket]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for sock in others:  # the other clients' connections must close when they are done
        sock.close()
    result = generate(load)
    pipe.send(result)
    pipe.close()


@dataclass
class Sample:
    """One bounded load of one scenario: what each client process saw, and the CPU spent."""

    results: list[LoadResult]
    window: float  # seconds between the two CPU readings
    server_cpu: float | None  # CPU seconds of gunicorn's processes in the window
    machine_cpu: float | None  # CPU seconds of the whole machine in the window
    spread: list[int] | None = None  # connections per gunicorn worker, when balanced

    @property
    def elapsed(self) -> float:
        return max(max(r.finished for r in self.results) - min(r.started for r in self.results),
                   1e-9)

    @property
    def rps(self) -> float:
        return sum(len(r.latencies) for r in self.results) / self.elapsed


@dataclass
class Measurement:
    requests: int  # HTTP answers, expected or not
    errors: int  # answers with another status, and requests that got no answer
    seconds: float
    rps: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    statuses: dict[str, int]
    failures: dict[str, int]  # no answer: connect, send, closed, timeout, bad-response
    connects: int
    first_error: str
    rounds_rps: list[float]
    spread: list[list[int] | None]  # connections per worker, each round
    client_cpu_pct: float  # 100 = one core
    server_cpu_pct: float | None
    other_cpu_pct: float | None  # the rest of the machine: PostgreSQL, Redis, anything else

    @property
    def ok(self) -> int:
        return self.requests - (self.errors - sum(self.failures.values()))


def _percentile(ordered: list[float], pct: float) -> float | None:
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))  # nearest rank
    return ordered[rank - 1] * 1000


def run_load(port: int, scenario: Scenario, seconds: float, connections: int, clients: int,
             max_requests: int, server_pgid: int | None,
             balance_pgid: int | None = None) -> Sample:
    """Load `scenario` for `seconds` from `clients` processes; collect what they saw.

    With `balance_pgid` the connections are first spread evenly over its workers.
    """
    connections = scenario.connections or connections
    clients = max(1, min(clients, connections))
    ctx = multiprocessing.get_context("fork")  # the runner holds no threads or Django
    request = scenario.request_bytes(f"{HOST}:{port}")
    procs = []
    socks: list[socket.socket] = []
    spread = None
    try:
        if balance_pgid is not None:
            socks, spread = open_balanced(port, connections, balance_pgid)
        start_at = time.monotonic() + 0.3 + 0.05 * clients
        for i in range(clients):
            share = connections // clients + (1 if i < connections % clients else 0)
            mine = socks[i::clients]
            load = Load(port=port, request=request, expected=scenario.expected,
                        connections=share, start_at=start_at, stop_at=start_at + seconds,
                        max_requests=max(1, max_requests // clients),
                        head=scenario.method.upper() == "HEAD", socks=mine)
            others = [sock for sock in socks if sock not in mine]
            parent_end, child_end = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_client_main, args=(load, child_end, others), daemon=True)
            proc.start()
            child_end.close()
            procs.append((proc, parent_end))
        for sock in socks:  # the clients have them now
            sock.close()
        time.sleep(max(0.0, start_at - time.monotonic()))
        before = time.monotonic(), _server_cpu(server_pgid), _machine_cpu()
        results: list[LoadResult] = []
        for proc, pipe in procs:
            wait = start_at + seconds + DRAIN_SECONDS + 15 - time.monotonic()
            if not pipe.poll(max(wait, 1)):
                raise BenchError(f"load generator {proc.pid} did not report in time")
            try:
                results.append(pipe.recv())
            except EOFError:
                raise BenchError(f"load generator {proc.pid} died (exit {proc.exitcode})") from None
        after = time.monotonic(), _server_cpu(server_pgid), _machine_cpu()
    finally:
        for sock in socks:
            sock.close()
        for proc, pipe in procs:
            pipe.close()
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join()
    server_cpu = machine_cpu = None
    if before[1] is not None and after[1] is not None:
        server_cpu = after[1] - before[1]
    if before[2] is not None and after[2] is not None:
        machine_cpu = after[2] - before[2]
    return Sample(results, max(after[0] - before[0], 1e-9), server_cpu, machine_cpu, spread)


def summarize(samples: list[Sample]) -> Measurement:
    """Every round of a scenario as one measurement: latencies merged, times summed."""
    results = [r for sample in samples for r in sample.results]
    latencies = sorted(x for r in results for x in r.latencies)
    elapsed = sum(sample.elapsed for sample in samples)
    window = sum(sample.window for sample in samples)
    statuses, failures = Counter(), Counter()
    for r in results:
        statuses.update(r.statuses)
        failures.update(r.failures)
    client_cpu = 100 * sum(r.cpu_seconds for r in results) / elapsed
    server_cpu = other_cpu = None
    if all(sample.server_cpu is not None for sample in samples):
        server_cpu = 100 * sum(sample.server_cpu for sample in samples) / window
        if all(sample.machine_cpu is not None for sample in samples):
            machine = 100 * sum(sample.machine_cpu for sample in samples) / window
            other_cpu = max(0.0, machine - server_cpu - client_cpu)
    return Measurement(
        requests=len(latencies),
        errors=sum(r.errors for r in results),
        seconds=round(elapsed, 3),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=_round(_percentile(latencies, 50)),
        p90_ms=_round(_percentile(latencies, 90)),
        p99_ms=_round(_percentile(latencies, 99)),
        max_ms=_round(latencies[-1] * 1000 if latencies else None),
        mean_ms=_round(sum(latencies) / len(latencies) * 1000 if latencies else None),
        statuses={str(k): v for k, v in sorted(statuses.items())},
        failures=dict(failures),
        connects=sum(r.connects for r in results),
        first_error=next((r.first_error for r in results if r.first_error), ""),
        rounds_rps=[round(sample.rps, 1) for sample in samples],
        spread=[sample.spread for sample in samples],
        client_cpu_pct=round(client_cpu, 1),
        server_cpu_pct=_round(server_cpu),
        other_cpu_pct=_round(other_cpu),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _machine_cpu() -> float | None:
    """CPU seconds the whole machine has been busy (Linux /proc/stat)."""
    try:
        with open("/proc/stat", "rb") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # minus idle and iowait; guests are in user
    return busy / os.sysconf("SC_CLK_TCK")


def _group(pgid: int) -> dict[int, int] | None:
    """pid -> CPU ticks so far, for the living processes of a process group (Linux /proc)."""
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    group = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:  # fields: state ppid pgrp ... utime(11) stime(12)
            group[int(pid)] = int(fields[11]) + int(fields[12])
    return group


def _server_cpu(pgid: int | None) -> float | None:
    """CPU seconds used so far by gunicorn's processes."""
    group = _group(pgid) if pgid is not None else None
    return None if group is None else sum(group.values()) / os.sysconf("SC_CLK_TCK")


def _owners(pgid: int, server_port: int) -> dict[int, int]:
    """client port -> pid of the gunicorn worker that accepted the connection (Linux /proc).

    A connection still in the listen queue has no owner yet.
    """
    peers = {}  # socket inode -> client port, for the server's end of each connection
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == server_port:
                peers[inode] = int(remote.rsplit(":", 1)[1], 16)
    owners = {}
    for pid in _group(pgid) or {}:
        if pid == pgid:
            continue  # the master accepts nothing
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in peers:
                owners[peers[target[8:-1]]] = pid
    return owners


def open_balanced(port: int, count: int, pgid: int,
                  timeout: float = 5.0) -> tuple[list[socket.socket], list[int] | None]:
    """`count` connections, spread over gunicorn's workers as evenly as they go.

    Kept-alive connections stay with the worker that accepted them, and which one
    does is a race: with 8 connections one worker often gets 6 or all 8, and the
    run measures one worker instead of two. So connections on the busiest worker
    are closed and opened again until no worker has two more than another.
    Returns the connections and the connections per worker (None: not measurable).
    """
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            socks.append(_connect(port))
        if not sys.platform.startswith("linux"):
            return socks, None
        workers = [pid for pid in (_group(pgid) or {}) if pid != pgid]
        deadline = time.monotonic() + timeout
        for _ in range(8 * count):
            owners = _owners(pgid, port)
            mine = {sock.getsockname()[1]: sock for sock in socks}
            while set(mine) - set(owners):  # some are not accepted yet
                if time.monotonic() > deadline:
                    return socks, None
                time.sleep(0.002)
                owners = _owners(pgid, port)
            by_worker: dict[int, list[socket.socket]] = {pid: [] for pid in workers}
            for client_port, sock in mine.items():
                by_worker.setdefault(owners[client_port], []).append(sock)
            spread = sorted((len(v) for v in by_worker.values()), reverse=True)
            if spread[0] - spread[-1] <= 1 or time.monotonic() > deadline:
                return socks, spread
            busiest = max(by_worker.values(), key=len)[0]
            socks.remove(busiest)
            busiest.close()
            socks.append(_connect(port))
        return socks, spread
    except BaseException:
        for sock in socks:
            sock.close()
        raise


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


# --- The server -----------------------------------------------------------------


@dataclass
class ServerConfig:
    workers: int = DEFAULT_WORKERS
    threads: int = DEFAULT_THREADS
    worker_class: str = "gthread"

    def argv(self, fd: int) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "o2o.wsgi",
            "--bind", f"fd://{fd}",
            "--workers", str(self.workers),
            "--worker-class", self.worker_class,
            "--threads", str(self.threads),
            "--keep-alive", "5",
            "--timeout", "60",
            "--graceful-timeout", "5",
            "--log-level", "warning",
            "--error-logfile", "-",
            "--name", "o2o-bench",
        ]


BENCH_DB = "o2o_bench"


def bench_database_name() -> str:
    """``o2o_bench``, or BENCH_DB_NAME (two benches on one server must not share one)."""
    name = os.environ.get("BENCH_DB_NAME") or BENCH_DB
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise BenchError(f"BENCH_DB_NAME {name!r}: lower-case letters, digits and _ only")
    return name


def bench_database_url(url: str, name: str | None = None) -> str:
    """The same PostgreSQL server, database ``name``, by default ``o2o_bench`` or
    BENCH_DB_NAME (created when missing).

    The benchmark's 10,000-product catalog must never land in the shop's own data.
    """
    import psycopg

    name = name or bench_database_name()
    parts = urllib.parse.urlsplit(url)
    if parts.path.strip("/") == name:
        return url
    bench = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return bench


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        env["DATABASE_URL"] = bench_database_url(env["DATABASE_URL"])
    env["CACHE_KEY_PREFIX"] = "o2o-bench"
    env["SESSION_KEY_PREFIX"] = "o2o-bench-session"  # apart from a shop's on the same Redis
    env.update(
        DJANGO_SETTINGS_MODULE="o2o.settings.dev",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS=f"{HOST},localhost",
        PYTHONUNBUFFERED="1",
        # Tasks (emails after an order or a booking) run in the request: a shop's worker on
        # the same Redis must never receive ids that mean other rows in its own database.
        CELERY_TASK_ALWAYS_EAGER="true",
        # The desk and coupon benches measure the lookup and the check, not the limiters
        # (every client comes from 127.0.0.1: 20 codes a minute would stop them at once).
        PICKUP_LOOKUP_RATE_USER="1000000/s",
        PICKUP_LOOKUP_RATE_STORE="1000000/s",
        COUPON_CHECK_RATE="1000000/s",
        # Every bench shopper comes from 127.0.0.1 with one number: lift the hold limits.
        CHECKOUT_RATE_CLIENT="1000000/s", CHECKOUT_RATE_CONTACT="1000000/s",
        HOLD_MAX_ORDERS="1000000", HOLD_MAX_VALUE="1000000000",
        HOLD_COUNTER_GUEST_MAX_VALUE="1000000000",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    log("manage.py " + " ".join(args))
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env,
                   cwd=BASE_DIR, check=True)


def _die_with_parent():
    """A preexec_fn: on Linux, the child gets SIGTERM if this runner is killed outright.

    Ctrl-C, SIGTERM and errors are handled by stopping gunicorn's process group;
    this covers SIGKILL and crashes, so not even those leave a server behind.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


class Server:
    """gunicorn in its own process group, on a socket we bound (no port race)."""

    def __init__(self, config: ServerConfig, env: dict[str, str], log_path: Path):
        self.config, self.env, self.log_path = config, env, log_path
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen(2048)
        self.port = listener.getsockname()[1]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with listener, open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                self.config.argv(listener.fileno()), env=self.env, cwd=BASE_DIR,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                pass_fds=[listener.fileno()], start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        log(f"gunicorn (pid {self.process.pid}) on http://{HOST}:{self.port}/: "
            f"{self.config.workers} {self.config.worker_class} workers"
            + (f" x {self.config.threads} threads" if self.config.worker_class == "gthread"
               else ""))

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process else None

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            found = self.exceptions()
            raise BenchError(
                f"gunicorn exited ({self.process.returncode if self.process else '-'})"
                + (f"; first error in its log: {found[0]}" if found else "")
                + f"\n{self.log_tail(20)}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"  | {line}" for line in text[-lines:])

    def exceptions(self) -> list[str]:
        """The last line of each traceback in the server's log ("ValueError: ...")."""
        try:
            with open(self.log_path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - 1_000_000))
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return []
        found, inside = [], False
        for line in lines:
            if line.startswith("Traceback"):
                inside = True
            elif inside and line and not line[0].isspace():
                found.append(line.strip())
                inside = False
        return found

    def last_exception(self) -> str | None:
        found = self.exceptions()
        return found[-1] if found else None

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                status, body = fetch(self.port, "/healthz", timeout=5)
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                time.sleep(0.2)
                continue
            if status == 200:
                return json.loads(body)
            raise BenchError(f"/healthz answered {status}:\n{body.decode(errors='replace')}"
                             + (f"\n{self.log_tail()}" if status != 503 else ""))
        raise BenchError(f"/healthz did not answer in {timeout:.0f}s ({last})\n{self.log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)  # gunicorn: graceful shutdown
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"gunicorn did not stop in {timeout:.0f}s; killing it")
        # Workers left behind by a master that died or hung: the group goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def fetch(port: int, path: str, timeout: float = 30, *, method: str = "GET",
          body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def probe(port: int, scenario: Scenario) -> str | None:
    """One request as the load generator will send it; what went wrong, if anything."""
    request = scenario.request_bytes(f"{HOST}:{port}")
    result = generate(Load(port=port, request=request, expected=scenario.expected,
                           connections=1, start_at=0, stop_at=time.monotonic() + 60,
                           max_requests=1, head=scenario.method.upper() == "HEAD"))
    if result.errors:
        return result.first_error
    return None


# --- The run ----------------------------------------------------------------------


def select_scenarios(only: list[str] | None) -> list[Scenario]:
    by_name = {s.name: s for s in SCENARIOS}
    if len(by_name) != len(SCENARIOS):
        raise BenchError("two scenarios share a name")
    for s in SCENARIOS:
        if s.compare_to and s.compare_to not in by_name:
            raise BenchError(f"scenario {s.name}: no scenario {s.compare_to} to compare to")
    if not only:
        return list(SCENARIOS)
    unknown = [name for name in only if name not in by_name]
    if unknown:
        raise BenchError(f"no scenario {', '.join(unknown)}; there are: {', '.join(by_name)}")
    wanted = set(only)
    for name in only:  # baselines come along, so every "vs" column has a number
        base = by_name[name].compare_to
        while base and base not in wanted:
            wanted.add(base)
            base = by_name[base].compare_to
    return [s for s in SCENARIOS if s.name in wanted]


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _cpu_per_request(m: dict) -> float | None:
    if m.get("server_cpu_pct") is None or not m.get("rps"):
        return None
    return m["server_cpu_pct"] / m["rps"]


def judge(rows: list[dict]) -> None:
    """Set each row's ``cpu_ratio`` (server CPU per request over the bare view's, same
    run) and, where the issue sets one (benchmark_scenarios.TARGETS), its ``target``
    with whether it was met."""
    base = next((r["result"] for r in rows if r["name"] == BASELINE), None)
    base_cpu = _cpu_per_request(base) if base else None
    base_ms = base_cpu * 10 if base_cpu else None  # % of a core-second a request -> ms
    for row in rows:
        cpu = _cpu_per_request(row["result"])
        if cpu is None and row["result"].get("cpu_per_request_ms") and base_cpu:
            cpu = row["result"]["cpu_per_request_ms"] / 1000 * 100  # % of a core-second
        row["cpu_ratio"] = round(cpu / base_cpu, 2) if cpu and base_cpu else None
        if row["name"] not in TARGETS:
            continue
        measure, bound = TARGETS[row["name"]]
        target = row["target"] = _judged(row, measure, bound, base_ms)
        if row["name"] in SCALING:
            other_name, most = SCALING[row["name"]]
            other = next((r["result"].get("p50_ms") for r in rows if r["name"] == other_name),
                         None)
            value = target["value"]
            times = round(value / other, 2) if value and other else None
            target.update(scaling=times, scaling_bound=most,
                          met=target["met"] and times is not None and times <= most,
                          text=f"{target['text']}, <= {most:g}x the 1,000's "
                               f"({_fmt(times, '.2f')}x)")


def _judged(row: dict, measure: str, bound: float, base_ms: float | None) -> dict:
    """``row`` against its TARGETS entry: the value, the bound (scaled to this run's bare
    view for "cpu-ms" and "p99-ms", ISSUE_BARE_CPU_MS), whether it is met, and the text."""
    result = row["result"]
    if measure == "cpu-ms":  # a multiple of the bare view's CPU a request
        value, most = row["cpu_ratio"], bound / ISSUE_BARE_CPU_MS
        text = (f"<= {bound:g} ms where bare is {ISSUE_BARE_CPU_MS:g} ms = {most:.1f}x bare "
                f"cpu/req (here {_fmt(result.get('p50_ms'))} ms)")
    elif measure == "p99-ms":  # milliseconds, scaled by the bare view's CPU a request
        value = result.get("p99_ms")
        most = bound * base_ms / ISSUE_BARE_CPU_MS if base_ms else None
        text = (f"p99 <= {bound:g} ms where bare is {ISSUE_BARE_CPU_MS:g} ms = "
                f"{_fmt(most, '.0f')} ms here (bare {_fmt(base_ms, '.2f')} ms)")
    else:
        value = {"rps": row.get("ratio"), "cpu": row["cpu_ratio"],
                 "p99": result.get("p99_ms"), "p50": result.get("p50_ms")}[measure]
        most = bound
        text = {"rps": f">= {bound:.2f} of bare req/s", "cpu": f"<= {bound:g}x bare cpu/req",
                "p99": f"p99 <= {bound:g} ms", "p50": f"median <= {bound:g} ms"}[measure]
    met = value is not None and most is not None and (
        value >= most if measure == "rps" else value <= most)
    return {"measure": measure, "bound": bound, "scaled_bound": most, "value": value,
            "met": met, "text": text}


def print_table(rows: list[dict], previous: dict[str, dict]) -> None:
    judge(rows)
    header = ["scenario", "requests", "errors", "req/s", "p50 ms", "p99 ms", "vs base",
              "vs prev", "srv cpu", "cpu/req vs base", "gen cpu", "db+other", "target"]
    table = []
    for row in rows:
        m = row["result"]
        prev = previous.get(row["name"], {}).get("result", {}).get("rps")
        target = row.get("target")
        table.append([
            row["name"], str(m["requests"]), str(m["errors"]), _fmt(m["rps"]),
            _fmt(m["p50_ms"], ".2f"), _fmt(m["p99_ms"], ".2f"),
            "-" if row["ratio"] is None else f"{row['ratio']:.3f} ({row['compare_to']})",
            f"{m['rps'] / prev:.2f}x" if prev else "-",
            "-" if m["server_cpu_pct"] is None else f"{m['server_cpu_pct']:.0f}%",
            "-" if row.get("cpu_ratio") is None else f"{row['cpu_ratio']:.1f}x",
            f"{m['client_cpu_pct']:.0f}%",
            "-" if m["other_cpu_pct"] is None else f"{m['other_cpu_pct']:.0f}%",
            "" if not target else f"{target['text']}: {'ok' if target['met'] else 'MISSED'}",
        ])
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    line = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    print()
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for r in table:
        print(line.format(*r))
    print(flush=True)


def _git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=BASE_DIR,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_results(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # var/bench/latest.json -> var/bench/previous.json
        path.replace(previous_path(path))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def previous_path(path: Path) -> Path:
    if path.name == "latest.json":
        return path.with_name("previous.json")
    return path.with_suffix(".previous.json")


def read_previous(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text())
        return {row["name"]: row for row in data.get("scenarios", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="measured load per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="unmeasured load per scenario before it (default 1)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the scenario list this many times, interleaved, and merge "
                             "(steadier figures on a busy machine; default 1)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run this scenario (repeat, or comma-separate); its baseline "
                             "comes along")
    parser.add_argument("--connections", type=int, default=DEFAULT_CONNECTIONS,
                        help=f"concurrent keep-alive connections (default {DEFAULT_CONNECTIONS})")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS,
                        help=f"load generator processes (default {DEFAULT_CLIENTS})")
    parser.add_argument("--max-requests", type=int, default=1_000_000,
                        help="cap on the requests of one scenario (default 1000000)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--no-balance", dest="balance", action="store_false",
                        help="leave the connections where the workers' accept() race puts them")
    parser.add_argument("--skip-setup", action="store_true",
                        help="no migrate / collectstatic / load_demo")
    parser.add_argument("--output", type=Path, default=OUT_DIR / "latest.json")
    args = parser.parse_args(argv)
    if args.only:
        args.only = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    if not 0 < args.seconds <= 3600 or not 0 <= args.warmup <= 600:
        parser.error("--seconds must be in (0, 3600], --warmup in [0, 600]")
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds must be in [1, 100]")
    if not 1 <= args.workers <= 64 or not 1 <= args.threads <= 256:
        parser.error("--workers must be in [1, 64], --threads in [1, 256]")
    if not 1 <= args.connections <= 1024 or not 1 <= args.clients <= 64:
        parser.error("--connections must be in [1, 1024], --clients in [1, 64]")
    if args.worker_class == "sync":
        args.threads = 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_stop)
    flows = [n for n in FLOW_NAMES if not args.only or n in args.only]
    only = [n for n in args.only or [] if n not in FLOW_NAMES]
    try:
        scenarios = select_scenarios(only or ([BASELINE] if args.only else None))
    except BenchError as exc:
        log(str(exc))
        return 2
    try:
        env = server_env()
    except BenchError as exc:
        log(str(exc))
        return 2
    config = ServerConfig(workers=args.workers, threads=args.threads,
                          worker_class=args.worker_class)
    server = Server(config, env, args.output.parent / "gunicorn.log")
    rows: list[dict] = []
    failed: list[str] = []
    try:
        if not args.skip_setup:
            manage(env, "migrate", "--noinput", "-v", "0")
            manage(env, "collectstatic", "--noinput", "-v", "0")
            manage(env, "load_demo", "--if-empty")  # the home page's collections and photos
            manage(env, "load_bench_data")  # 10,000 products, 40,000 variants, 20 stores
        server.start()
        health = server.wait_healthy()
        log(f"/healthz: {health.get('status')}")
        if "desk-lookup" in flows:
            scenarios.append(desk_scenario(env))
        coupons = points = None
        from .benchmark_flows import PREPARE_COUPONS, PREPARE_POINTS

        if {"coupon-check", "coupon-race"} & set(flows):
            coupons = shell_json(env, PREPARE_COUPONS)
        if "coupon-check" in flows:
            scenarios.append(coupon_check_scenario(coupons, port=server.port))
        if "points-balance" in flows:
            points = shell_json(env, PREPARE_POINTS)
            scenarios += me_scenarios(points)
        if "member-pages" in flows:
            scenarios += member_scenarios(env)
        purchases, busy = None, {}
        if any(s.background == "purchases" for s in scenarios):
            from .benchmark_flows import PREPARE_BUSY, Purchases

            purchases = Purchases(server.port, shell_json(env, PREPARE_BUSY)["pieces"])
        samples: dict[str, list[Sample]] = {s.name: [] for s in scenarios}
        # sync workers close the connection after each answer: nothing to balance.
        balance = server.pgid if config.worker_class == "gthread" and args.balance else None
        for round_ in range(1, args.rounds + 1):
            for scenario in scenarios:
                server.check_alive()
                label = f" (round {round_}/{args.rounds})" if args.rounds > 1 else ""
                log(f"{scenario.name}: {scenario.method} {scenario.path}{label}")
                if scenario.background == "purchases":
                    log(f"  while shoppers buy {purchases.rate:g} pieces a second")
                    purchases.start()
                if round_ == 1:
                    problem = probe(server.port, scenario)
                    if problem:
                        log(f"  first request: {problem[:300]}")
                        if cause := server.last_exception():
                            log(f"  server log ({server.log_path}): {cause}")
                    if args.warmup:
                        run_load(server.port, scenario, args.warmup, args.connections,
                                 args.clients, args.max_requests, None, balance)
                sample = run_load(server.port, scenario, args.seconds, args.connections,
                                  args.clients, args.max_requests, server.pgid, balance)
                if scenario.background == "purchases":
                    busy[scenario.name] = purchases.stop()
                    log(f"  meanwhile: {busy[scenario.name]}")
                server.check_alive()
                samples[scenario.name].append(sample)
                m = summarize([sample])
                spread = "/".join(map(str, sample.spread)) if sample.spread else "?"
                log(f"  {m.requests} requests, {m.errors} errors, {m.rps:.1f}/s, "
                    f"p50 {_fmt(m.p50_ms, '.2f')} ms, p99 {_fmt(m.p99_ms, '.2f')} ms, "
                    f"connections per worker {spread}")
                if m.errors:
                    log(f"  errors: statuses {m.statuses}, failures {m.failures}; "
                        f"first: {m.first_error[:300]}")
                    if cause := server.last_exception():
                        log(f"  server log ({server.log_path}): {cause}")
                if scenario.check and not shell_ok(env, scenario.check):
                    log(f"  check after {scenario.name} FAILED")
                    failed.append(scenario.name)
        if busy:
            from .benchmark_flows import CHECK_NOT_OVERSOLD

            if not shell_ok(env, CHECK_NOT_OVERSOLD):
                failed.append("busy (oversold)")
        summaries = {name: summarize(runs) for name, runs in samples.items()}
        if {"checkout", "checkout-race"} & set(flows):
            flow_rows, flow_failed = run_checkout_flows(server.port, env, flows, args.seconds)
            failed += flow_failed
        for scenario in scenarios:
            m = summaries[scenario.name]
            base = summaries.get(scenario.compare_to or "")
            ratio = round(m.rps / base.rps, 4) if base and base.rps else None
            row = {**asdict(scenario), "body": _jsonable(scenario.body),
                   "expect_status": sorted(scenario.expected),
                   "connections": scenario.connections or args.connections,
                   "result": asdict(m), "ratio": ratio}
            if scenario.name in busy:
                row["background"] = busy[scenario.name]
            rows.append(row)
            if m.ok <= 0:
                failed.append(scenario.name)
        if {"checkout", "checkout-race"} & set(flows):
            rows += flow_rows
        if {"coupon-race", "points-balance"} & set(flows):
            loyalty_rows, loyalty_failed = run_loyalty_flows(server.port, env, flows, coupons,
                                                             points)
            rows += loyalty_rows
            failed += loyalty_failed
        if {"cold-catalog", "purchase-cpu"} & set(flows):
            cold_rows, cold_failed = run_cold_flows(env, flows, setup=not args.skip_setup)
            rows += cold_rows
            failed += cold_failed
        if {"survey-invitations", "survey-kill"} & set(flows):
            from .benchmark_feedback import run_feedback_flows

            feedback_rows, feedback_failed = run_feedback_flows(env, flows, log=log,
                                                                row=_flow_row)
            rows += feedback_rows
            failed += feedback_failed
        if {"segment-count", "campaign-send", "campaign-kill"} & set(flows):
            from .benchmark_campaigns import run_campaign_flows

            campaign_rows, campaign_failed = run_campaign_flows(env, flows, log=log,
                                                                row=_flow_row)
            rows += campaign_rows
            failed += campaign_failed
        if "journeys-tick" in flows:
            from .benchmark_journeys import run_journeys_flow

            journey_rows, journey_failed = run_journeys_flow(env, flows, log=log, row=_flow_row)
            rows += journey_rows
            failed += journey_failed
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except subprocess.CalledProcessError as exc:
        log(f"FAILED: {' '.join(map(str, exc.cmd[1:]))} exited with {exc.returncode}")
        return 1
    except (KeyboardInterrupt, Stop) as exc:
        log(f"interrupted ({type(exc).__name__} {exc}); stopping gunicorn")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if server.log_path.exists() and server.log_path.stat().st_size:
            log(f"server log: {server.log_path}")

    previous = read_previous(args.output)
    print_table(rows, previous)
    for row in rows:
        other = row["result"]["other_cpu_pct"]
        if row["name"] == BASELINE and other is not None and other > 20:
            # The bare view touches neither PostgreSQL nor Redis: that CPU was someone else's.
            log(f"note: other processes used {other:.0f}% of a core during the bare run; "
                "the machine was busy and the figures are noisy (see --rounds)")
    report = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": _git_revision(),
        "seconds": args.seconds,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "only": args.only,
        "server": {**asdict(config), "settings": env["DJANGO_SETTINGS_MODULE"], "debug": False,
                   "health": health},
        "client": {"processes": args.clients, "connections": args.connections,
                   "keep_alive": True},
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform()},
        "scenarios": rows,
    }
    write_results(args.output, report)
    log(f"results in {args.output}")
    if failed:
        log(f"FAILED: {', '.join(failed)} (no good answer at all, or the check after it failed)")
        return 1
    return 0


FLOW_NAMES = ("member-pages", "desk-lookup", "checkout", "checkout-race", "coupon-check", "coupon-race",
              "points-balance", "survey-invitations", "survey-kill", "cold-catalog", "purchase-cpu",
              "segment-count", "campaign-send", "campaign-kill", "journeys-tick")
FLOW_CLIENTS = 50


def shell_json(env: dict[str, str], code: str) -> dict:
    """Run ``code`` with manage.py shell in the bench database; its last line is JSON."""
    out = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "shell", "-v", "0",
                          "-c", code], env=env, cwd=BASE_DIR, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def shell_ok(env: dict[str, str], code: str) -> bool:
    """Run a check (``code`` raises when the data is wrong) with manage.py shell in the
    bench database; whether it passed."""
    try:
        subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "shell", "-v", "0",
                        "-c", code], env=env, cwd=BASE_DIR, check=True)
    except subprocess.CalledProcessError:
        return False
    return True


def desk_scenario(env: dict[str, str]) -> Scenario:
    """The pickup desk finding a code at its store, as a signed-in clerk (rate limits are
    lifted for the bench server: it measures the lookup, not the limiter)."""
    from .benchmark_flows import PREPARE_DESK

    found = shell_json(env, PREPARE_DESK)
    if not found["code"]:
        raise BenchError("no pickup waiting at sh-njxl: run load_demo first")
    return Scenario("desk-lookup",
                    f"/admin/orders/order/desk/?store={found['store']}&q={found['code']}",
                    headers={"Cookie": f"sessionid={found['session']}"})


def coupon_check_scenario(coupons: dict, port: int | None = None) -> Scenario:
    """50 clients asking whether a public code applies to a basket, as a signed-in member
    (a public code needs one; the check API, with the CSRF token a signed-in POST needs;
    the rate limit is lifted for the bench server, see server_env). With ``port``, one
    request first: the answer must say the code applies (else the load would measure a
    refusal)."""
    csrf = coupons["csrf"]
    scenario = Scenario(
        "coupon-check", "/api/v1/coupons/check/", method="POST",
        body={"code": coupons["check"], "channel": "online",
              "lines": [{"sku": coupons["sku"], "quantity": 1}]},
        headers={"Accept": "application/json", "X-CSRFToken": csrf,
                 "Cookie": f"sessionid={coupons['sessions'][0]}; csrftoken={csrf}"},
        connections=FLOW_CLIENTS)
    if port is not None:
        status, answer = fetch(port, scenario.path, method=scenario.method,
                               body=json.dumps(scenario.body).encode(),
                               headers={**scenario.headers, "Content-Type": "application/json"})
        text = answer.decode(errors="replace")
        if status != 200 or '"valid":true' not in text.replace(" ", ""):
            raise BenchError(f"coupon-check: the code does not apply: {status} {text[:300]}")
    return scenario


def member_scenarios(env: dict[str, str]) -> list[Scenario]:
    """A signed-in member (with a piece in the bag) browsing: the catalog's parts come
    from the shared fragments, the header's from the member's own rows."""
    from .benchmark_flows import PREPARE_MEMBER

    found = shell_json(env, PREPARE_MEMBER)
    headers = {"Cookie": f"sessionid={found['session']}"}
    return [Scenario("member-home", "/", headers=headers),
            Scenario("member-list", "/products/", headers=headers),
            Scenario("member-search", "/products/?q=%E6%88%92%E6%8C%87", headers=headers),
            Scenario("member-product", "/products/bench-00042/", headers=headers)]


def me_scenarios(points: dict) -> list[Scenario]:
    """The member with 10,000 ledger entries reading their account (balance, tier) and
    the first page of their ledger, signed in."""
    headers = {"Accept": "application/json", "Cookie": f"sessionid={points['session']}"}
    return [Scenario("api-me (10k entries)", "/api/v1/me/", headers=headers),
            Scenario("api-me-points (10k entries)", "/api/v1/me/points/", headers=headers)]


def _flow_row(name: str, latencies_ms: list[float], seconds: float, statuses: dict,
              errors: list[str], clients: int,
              path: str = "(a shopper with a session: cart, then checkout; see "
                          "devtools/benchmark_flows.py)") -> dict:
    ordered = sorted(latencies_ms)

    def pct(p):
        return None if not ordered else round(ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1], 2)

    result = {"requests": len(ordered), "errors": len(errors), "seconds": round(seconds, 2),
              "rps": round(len(ordered) / seconds, 1) if seconds else 0.0,
              "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
              "max_ms": round(ordered[-1], 2) if ordered else None,
              "statuses": statuses, "first_error": errors[0] if errors else "",
              "server_cpu_pct": None, "client_cpu_pct": 0.0, "other_cpu_pct": None}
    return {"name": name, "path": path, "connections": clients, "compare_to": None,
            "ratio": None, "result": result}


def run_checkout_flows(port: int, env: dict[str, str], flows: list[str],
                       seconds: float) -> tuple[list[dict], list[str]]:
    """50 shoppers adding to the cart and checking out (throughput), then 50 racing for
    5 pieces (exactly 5 orders, checked in the database)."""
    from .benchmark_flows import CHECK_RACE, PREPARE, checkout_race, checkout_throughput

    pieces = shell_json(env, PREPARE)
    rows, failed = [], []
    if "checkout" in flows:
        log(f"checkout: {FLOW_CLIENTS} shoppers add {pieces['plenty']} and check out "
            f"for pickup at {pieces['store']}, {seconds:.0f} s")
        r = checkout_throughput(port=port, clients=FLOW_CLIENTS, seconds=seconds,
                                sku=pieces["plenty"], store=pieces["store"])
        log(f"  answers {r.statuses}, errors {len(r.errors)}")
        rows.append(_flow_row("cart-add (50 shoppers)", r.add_ms, r.seconds, r.statuses,
                              r.errors, FLOW_CLIENTS))
        rows.append(_flow_row("checkout (50 shoppers)", r.checkout_ms, r.seconds, r.statuses,
                              r.errors, FLOW_CLIENTS))
        if r.errors or not r.checkout_ms:
            failed.append("checkout")
    if "checkout-race" in flows:
        log(f"checkout-race: {FLOW_CLIENTS} shoppers at once for 5 pieces of {pieces['race']}")
        r = checkout_race(port=port, clients=FLOW_CLIENTS, sku=pieces["race"],
                          store=pieces["store"])
        log(f"  answers {r.statuses}, errors {len(r.errors)}")
        rows.append(_flow_row("checkout-race (50 for 5)", r.checkout_ms, r.seconds, r.statuses,
                              r.errors, FLOW_CLIENTS))
        won = sum(n for k, n in r.statuses.items() if k.startswith("201"))
        if not shell_ok(env, CHECK_RACE.format(store=pieces["store"], sku=pieces["race"])):
            failed.append("checkout-race")
        if won != 5 or r.errors:
            log(f"  FAILED: {won} orders for 5 pieces")
            failed.append("checkout-race")
    return rows, failed


def run_loyalty_flows(port: int, env: dict[str, str], flows: list[str], coupons: dict | None,
                      points: dict | None) -> tuple[list[dict], list[str]]:
    """50 shoppers checking out at once with one single-use code (exactly 1 order carries
    it), then with a public code of an offer limited to 5 (exactly 5), both checked in the
    database; and the points balance of a member with 10,000 ledger entries, timed in the
    bench database against the sum of the ledger."""
    from .benchmark_flows import CHECK_COUPON_RACE, TIME_POINTS, coupon_race

    rows, failed = [], []
    if "coupon-race" in flows and coupons:
        for label, code, wanted in (
                (f"coupon-race single-use ({FLOW_CLIENTS} for 1)", coupons["single"], 1),
                (f"coupon-race limit {coupons['limit']} ({FLOW_CLIENTS} for "
                 f"{coupons['limit']})", coupons["limited"], coupons["limit"])):
            log(f"{label}: {FLOW_CLIENTS} shoppers check out {coupons['sku']} at once with "
                f"{code}")
            r = coupon_race(port=port, clients=FLOW_CLIENTS, sku=coupons["sku"],
                            store=coupons["store"], code=code, name=label,
                            sessions=coupons["sessions"])
            log(f"  answers {r.statuses}, errors {len(r.errors)}")
            rows.append(_flow_row(label, r.checkout_ms, r.seconds, r.statuses, r.errors,
                                  FLOW_CLIENTS, path="(checkout with a coupon code; see "
                                                     "devtools/benchmark_flows.py)"))
            won = sum(n for k, n in r.statuses.items() if k.startswith("201"))
            refused = sum(n for k, n in r.statuses.items() if k.startswith("400 coupon_"))
            if not shell_ok(env, CHECK_COUPON_RACE.format(code=code, wanted=wanted)):
                failed.append("coupon-race")
            if won != wanted or won + refused != FLOW_CLIENTS or r.errors:
                log(f"  FAILED: {won} orders with {code} for {wanted}, {refused} refused "
                    "with a coupon reason")
                failed.append("coupon-race")
    if "points-balance" in flows and points:
        timings = shell_json(env, TIME_POINTS.format(member=points["member"]))
        timed = {}
        for name, key in (("points_balance (10k entries)", "points_balance"),
                          ("points_ledger_sum (10k entries)", "points_ledger_sum")):
            took = timings[key]
            row = timed[key] = _flow_row(
                name, took, sum(took) / 1000, {"ok": len(took)}, [], 1,
                path=f"(members.services.{key} in one process, one connection)")
            rows.append(row)
            log(f"{name}: p50 {row['result']['p50_ms']} ms, p99 {row['result']['p99_ms']} ms "
                f"over {len(took)} calls (balance {timings['balance']} points, "
                f"{points['entries']} entries)")
        # The target (issue 6): a balance read under 5 ms, judged on the median so that a
        # busy machine's outliers (in the p99 column) do not fail the run.
        p50 = timed["points_balance"]["result"]["p50_ms"]
        if p50 is None or p50 >= 5:
            log(f"  FAILED: points_balance p50 {p50} ms, the target is under 5 ms")
            failed.append("points-balance")
    return rows, failed


SMALL_CATALOG = 1_000  # the cold figures' comparison: the same pages over 1,000 products


def small_catalog_env(env: dict[str, str], setup: bool) -> dict[str, str]:
    """The bench's environment on a database of its own (BENCH_DB_NAME + ``_1k``) holding
    a 1,000-product bench catalog, loaded the first time."""
    small = dict(env)
    name = f"{bench_database_name()}_1k"
    small["CACHE_KEY_PREFIX"] = f"{env['CACHE_KEY_PREFIX']}-1k"
    if env.get("DATABASE_URL"):
        small["DATABASE_URL"] = bench_database_url(env["DATABASE_URL"], name)
    if setup:
        manage(small, "migrate", "--noinput", "-v", "0")
        manage(small, "load_bench_data", "--products", str(SMALL_CATALOG))
    return small


def run_cold_flows(env: dict[str, str], flows: list[str],
                   setup: bool = True) -> tuple[list[dict], list[str]]:
    """The cold list and search over the bench catalog and over a 1,000-product one, and
    a purchase's server CPU (devtools/benchmark_cold.py: Django's test client in one
    process, the figures the server's own)."""
    from .benchmark_cold import COLD, PURCHASE, script

    rows: list[dict] = []
    if "cold-catalog" in flows:
        found = {"10,000": shell_json(env, script(COLD))}
        found["1,000"] = shell_json(small_catalog_env(env, setup), script(COLD))
        for page in ("cold-list", "cold-search"):
            for size in ("10,000", "1,000"):
                timing = found[size][page]
                name = f"{page} ({size} products)"
                row = _flow_row(name, timing["wall_ms"], sum(timing["wall_ms"]) / 1000,
                                {"ok": len(timing["wall_ms"])}, [], 1,
                                path=f"{timing['path']} (every catalog cache emptied before "
                                     "each request; Django's test client in one process)")
                median = statistics.median
                row["result"].update(cpu_ms=round(median(timing["cpu_ms"]), 2),
                                     db_ms=round(median(timing["db_ms"]), 2),
                                     queries=timing["queries"],
                                     products=found[size]["products"])
                rows.append(row)
                log(f"{name}: median {row['result']['p50_ms']} ms (CPU "
                    f"{row['result']['cpu_ms']} ms, PostgreSQL {row['result']['db_ms']} ms, "
                    f"{timing['queries']} queries; {found[size]['products']} active products)")
    if "purchase-cpu" in flows:
        for mode, label in (("fixed", "fixed price"), ("by_weight", "by weight")):
            timing = shell_json(env, script(PURCHASE, MODE=mode))
            name = f"purchase CPU ({label})"
            row = _flow_row(name, timing["cpu_ms"], sum(timing["cpu_ms"]) / 1000,
                            {"ok": len(timing["cpu_ms"])}, [], 1,
                            path="(a guest adds a piece and checks out through the API; "
                                 "server CPU of add + checkout, Django's test client)")
            row["result"].update(queries=timing["queries"],
                                 cpu_per_request_ms=row["result"]["p50_ms"])
            rows.append(row)
            log(f"{name}: median {row['result']['p50_ms']} ms of CPU, "
                f"{timing['queries']} queries ({timing['sku']})")
    return rows, []


def _jsonable(body):
    if isinstance(body, bytes):
        return body.decode("latin-1")
    return body


if __name__ == "__main__":
    sys.exit(main())
