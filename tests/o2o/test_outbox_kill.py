"""Nothing lost when a process dies: real worker, beat and web processes are killed with
SIGKILL in the middle of their work, started again, and what arrived is counted (a
Redis-backed delivery log, tests/o2o/delivery_log.py, keyed by Message-ID for emails and
by the provider reference for text messages) against the database.

Each message arrives at least once; a second arrival (a worker killed between a send and
its mark) carries the same Message-ID, so it is recognisably the same message."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, connections

from o2o.models import OutboxMessage
from o2o.outbox import OutboxItem, dedupe_digest, message_id_for, outbox_enqueue_many
from orders.emails import about_order
from orders.models import OrderStatus
from tests.catalog.factories import VariantFactory
from tests.o2o.delivery_log import delivered
from tests.orders.factories import pickup_order
from tests.orders.stripe_standin import WEBHOOK_SECRET, signed
from tests.orders.test_payments import session_event
from tests.stores.factories import StoreFactory

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def wait_for(predicate, timeout: float, what: str, poll: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


class Processes:
    """Celery worker, beat and gunicorn as real processes on the test database, each in
    its own process group (a kill takes the pool children too, as an OOM kill would)."""

    def __init__(self, log_key: str, **extra_env: str):
        self.dir = Path(tempfile.mkdtemp(prefix="o2o-kill-"))
        self.queue = f"o2o-kill-{uuid.uuid4().hex[:8]}"
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.o2o.kill_settings",
            "DATABASE_URL": (f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
                             f"{database['PORT'] or 5432}/{database['NAME']}"),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "DELIVERY_LOG_KEY": log_key,
            "DELIVERY_DELAY": "0.02",
            "OUTBOX_SWEEP_SECONDS": "1",
            "PYTHONPATH": str(ROOT),
            **extra_env,
        }
        self.running: dict[str, subprocess.Popen] = {}
        self.kills = 0

    def start(self, name: str, **env: str) -> subprocess.Popen:
        commands = {
            "worker": [str(BIN / "celery"), "-A", "o2o", "worker", "-Q", self.queue,
                       "--concurrency", "2", "--loglevel", "WARNING",
                       "-n", f"kill-{uuid.uuid4().hex[:6]}@%h", "--without-gossip",
                       "--without-mingle", "--without-heartbeat"],
            "beat": [str(BIN / "celery"), "-A", "o2o", "beat", "--loglevel", "WARNING",
                     "--schedule", str(self.dir / "beat-schedule")],
        }
        command = commands.get(name) or env.pop("command").split()
        log = open(self.dir / f"{name}.log", "a")  # noqa: SIM115 - kept open for the process
        process = subprocess.Popen(command, cwd=ROOT, env={**self.env, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        self.kills += 1

    def stop_all(self) -> None:
        for name in list(self.running):
            process = self.running.pop(name)
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}"
                         for p in sorted(self.dir.glob("*.log")))


@pytest.fixture
def processes(transactional_db):
    started: list[Processes] = []

    def make(**extra_env):
        started.append(Processes(f"o2o-kill-log-{uuid.uuid4().hex[:8]}", **extra_env))
        return started[-1]

    yield make
    for group in started:
        group.stop_all()
        redis.Redis.from_url(settings.REDIS_URL).delete(group.env["DELIVERY_LOG_KEY"])
        subprocess.run(["rm", "-rf", str(group.dir)], check=False)
    connections.close_all()


def states() -> Counter:
    return Counter(OutboxMessage.objects.values_list("state", flat=True))


@pytest.mark.long
def test_a_worker_killed_mid_batch_twice_loses_nothing(processes):
    group = processes()
    items = [OutboxItem(channel="email", kind="probe.email", recipient=f"m{n}@example.com",
                        dedupe_key=f"probe:email:{n}", payload={"n": n}) for n in range(150)]
    items += [OutboxItem(channel="sms", kind="probe.sms", recipient=f"+86139{n:08d}",
                         dedupe_key=f"probe:sms:{n}", payload={"n": n}) for n in range(50)]
    assert outbox_enqueue_many(items) == 200
    key = group.env["DELIVERY_LOG_KEY"]
    expected = ({message_id_for(f"probe:email:{n}") for n in range(150)}
                | {dedupe_digest(f"probe:sms:{n}") for n in range(50)})

    group.start("beat")
    caught_mid_batch = 0
    for threshold in (40, 110):
        group.start("worker")
        wait_for(lambda t=threshold: len(delivered(key)) >= t, 60,
                 lambda t=threshold: f"{t} deliveries\n{group.logs()}")
        group.kill("worker")
        # Killed in the middle of a batch: rows claimed and not marked stay "sending"
        # until their lease runs out.
        caught_mid_batch += states()[OutboxMessage.State.SENDING] > 0
    assert caught_mid_batch >= 1, states()
    group.start("worker")
    wait_for(lambda: states() == Counter({"sent": 200}), 90,
             lambda: f"every message sent: {states()}\n{group.logs()}")

    log = delivered(key)
    arrived = Counter(entry["id"] for entry in log)
    assert set(arrived) == expected  # every message arrived, each under its own id
    duplicates = sum(arrived.values()) - len(arrived)
    print(f"\n{len(arrived)} messages arrived, {duplicates} twice (same id), after "
          f"{group.kills} kills; {caught_mid_batch} kill(s) caught rows mid-batch")
    # At most what two pool processes had in hand when each kill landed (a batch of ten
    # text messages in one provider call, or one email).
    assert duplicates <= group.kills * 2 * 10, (duplicates, arrived.most_common(5))
    # The rows a kill caught were sent again by another worker, after their lease.
    assert OutboxMessage.objects.filter(attempts__gte=2).exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: str, header: str) -> int:
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "Stripe-Signature": header})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.long
def test_a_web_process_killed_after_commits_loses_no_email(processes):
    """Stripe's webhooks pay 40 orders through gunicorn, whose broker is gone (every
    after-commit nudge fails), and gunicorn is SIGKILLed half way. Every order the
    database says is paid gets its "ready" email, once, from the worker started after."""
    store = StoreFactory()
    orders = [pickup_order(store=store, variants=[VariantFactory()],
                           contact_email=f"s{n}@example.com") for n in range(40)]
    port = free_port()
    group = processes(STRIPE_SECRET_KEY="sk_test_killtest", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    group.start("web", command=(f"{BIN / 'gunicorn'} o2o.wsgi --bind 127.0.0.1:{port} "
                                "--workers 2 --threads 2"),
                CELERY_BROKER_URL="redis://127.0.0.1:9/0")  # nobody listens there
    url = f"http://127.0.0.1:{port}/payments/stripe/webhook"
    wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 60,
             lambda: f"gunicorn\n{group.logs()}", poll=0.2)

    answers: dict[str, int] = {}
    pending = list(orders)
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                if not pending:
                    return
                order = pending.pop()
            body, header = signed(session_event(order))
            try:
                answers[order.number] = post(url, body, header)
            except OSError:
                answers[order.number] = 0  # no answer: the server was gone

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: sum(1 for s in answers.values() if s == 200) >= 12, 90,
             lambda: f"webhooks answered\n{group.logs()}")
    group.kill("web")
    for t in threads:
        t.join(timeout=60)

    paid = {o.number for o in type(orders[0]).objects.filter(
        status=OrderStatus.READY_FOR_PICKUP)}
    ok = {number for number, status in answers.items() if status == 200}
    assert ok <= paid and len(paid) >= 12  # every 200 was a commit (and maybe a few more)
    assert all(status in (0, 200) for status in answers.values()), answers  # never a 500
    key = group.env["DELIVERY_LOG_KEY"]
    assert delivered(key) == []  # no worker yet; and the web's nudges had no broker
    # The nudge after each commit failed, and was only logged (robust on_commit).
    assert "Error calling _nudge in on_commit()" in (group.dir / "web.log").read_text()

    group.start("beat")
    group.start("worker")
    ready_ids = {message_id_for(f"{about_order(o.pk)}:ready_for_pickup")
                 for o in orders if o.number in paid}
    wait_for(lambda: ready_ids <= {e["id"] for e in delivered(key)}, 90,
             lambda: f"the ready emails\n{group.logs()}")
    wait_for(lambda: not OutboxMessage.objects.filter(state__in=["pending", "sending"]).exists(),
             60, lambda: f"the outbox drained\n{group.logs()}")
    arrived = Counter(e["id"] for e in delivered(key))
    unpaid_ready = {message_id_for(f"{about_order(o.pk)}:ready_for_pickup")
                    for o in orders if o.number not in paid}
    assert not unpaid_ready & set(arrived)  # no email for a payment that did not commit
    assert all(arrived[i] == 1 for i in ready_ids)  # nobody was killed while sending


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # the broker probe: 2 s
            return response.status == 200
    except urllib.error.HTTPError as error:
        return error.code == 503  # up, and saying the broker is gone
    except OSError:
        return False
