"""`make bench`'s survey invitations (issue 14): 10,000 scheduled and sent, and a killed
worker that loses none.

- ``survey-invitations``: 10,000 hand-overs each invite their shopper, each in a
  transaction of its own as the hand-over's would be (feedback.services.invitation_schedule:
  the cap, the invitation, its outbox row); then, once due, the outbox sends them all
  (o2o.outbox.outbox_deliver in batches, rendered for real, handed to a mail backend that
  drops them). For both: the time, the queries per invitation, and the peak RSS of the
  process as it goes (sampled every 1,000: memory stays flat, nothing is held per
  invitation).
- ``survey-kill``: 2,000 invitations due at once, sent by a real Celery worker (with beat
  sweeping) that is SIGKILLed mid-batch twice and started again. Counted in the database
  afterwards: one outbox row per invitation, every one sent; and at the mail backend
  (a Redis list of Message-IDs, devtools.bench_mail): every invitation arrived, a repeat
  only under its own Message-ID.

Both run in the bench database, on invitations of their own (``bench:`` occasions),
which a later run clears first.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SCHEDULE_COUNT = 10_000
KILL_COUNT = 2_000
BASE_DIR = Path(__file__).resolve().parent.parent

# Surveys to invite to (the demo's), and no bench invitation left from a run before.
PREPARE = """
import json
from django.utils import timezone
from devtools.demo.feedback import surveys_load
from feedback.models import ContactCap, SurveyInvitation, Trigger
from o2o.models import OutboxMessage
surveys = surveys_load(now=timezone.now())
old = SurveyInvitation.objects.filter(occasion__startswith="bench:")
OutboxMessage.objects.filter(about__in=[f"feedback.invitation:{{pk}}"
                                        for pk in old.values_list("pk", flat=True)]).delete()
old.delete()
ContactCap.objects.filter(who__startswith="email:bench-").delete()
version = surveys[Trigger.PICKUP].versions.filter(published_at__isnull=False).order_by("-number").first()
print(json.dumps({{"version": version.pk}}))
"""

# ``count`` hand-overs of guests, each invitation in its own transaction; then due now.
SCHEDULE = """
import json, resource, time
from django.db import connection, transaction
from django.utils import timezone
from feedback.models import SurveyInvitation, Trigger
from feedback.services import Moment, invitation_schedule
from o2o.models import OutboxMessage
from stores.models import Store
store = Store.objects.shops().order_by("code").first()
count, tag = {count}, "{tag}"
rss, made, took, counted = [], 0, [], [0]
at = timezone.now()


def tally(execute, sql, params, many, context):
    counted[0] += 1
    return execute(sql, params, many, context)


with connection.execute_wrapper(tally):
    started = time.perf_counter()
    for n in range(count):
        begun = time.perf_counter()
        with transaction.atomic():
            made += invitation_schedule(moment=Moment(
                trigger=Trigger.PICKUP, occasion=f"bench:{{tag}}:{{n}}", at=at,
                channel="online", language="zh-hans", contact_name="压测顾客",
                contact_email=f"bench-{{tag}}-{{n}}@o2o.example", store=store,
                reference=f"B{{n:05d}}")) is not None
        took.append((time.perf_counter() - begun) * 1000)
        if (n + 1) % 1000 == 0:
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    seconds = time.perf_counter() - started
# Time passes: the delay is over (the sending is measured from here).
mine = SurveyInvitation.objects.filter(occasion__startswith=f"bench:{{tag}}:")
now = timezone.now()
OutboxMessage.objects.filter(about__in=[f"feedback.invitation:{{pk}}" for pk in
                                        mine.values_list("pk", flat=True)]).update(due_at=now)
mine.update(due_at=now)
print(json.dumps({{"made": made, "seconds": seconds, "queries": counted[0], "rss_kb": rss,
                  "ms": took}}))
"""

# Send every due bench invitation through the outbox, in this one process.
SEND = """
import json, resource, time
from django.db import connection
from o2o.models import OutboxMessage
from o2o.outbox import outbox_deliver
rss, sent, marks, took, counted = [], 0, 1000, [], [0]


def tally(execute, sql, params, many, context):
    counted[0] += 1
    return execute(sql, params, many, context)


with connection.execute_wrapper(tally):
    started = time.perf_counter()
    while True:
        begun = time.perf_counter()
        done = outbox_deliver(limit=100)
        if done.sent:  # each message of the batch: the batch's time shared out
            took += [(time.perf_counter() - begun) * 1000 / done.sent] * done.sent
        sent += done.sent
        while sent >= marks:
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            marks += 1000
        if not done.claimed:
            break
    seconds = time.perf_counter() - started
left = OutboxMessage.objects.filter(kind="feedback.invitation.email",
                                    state__in=["pending", "sending"]).count()
print(json.dumps({{"sent": sent, "seconds": seconds, "queries": counted[0], "rss_kb": rss,
                  "left": left, "ms": took}}))
"""

# The kill run's count, in the database: states of the bench rows, rows per invitation.
COUNT = """
import json
from collections import Counter
from feedback.models import SurveyInvitation
from o2o.models import OutboxMessage
from o2o.outbox import message_id_for
mine = list(SurveyInvitation.objects.filter(occasion__startswith="bench:{tag}:")
            .values_list("pk", flat=True))
rows = OutboxMessage.objects.filter(about__in=[f"feedback.invitation:{{pk}}" for pk in mine],
                                    kind="feedback.invitation.email")
per = Counter(rows.values_list("about", flat=True))
print(json.dumps({{"invitations": len(mine),
                  "states": dict(Counter(rows.values_list("state", flat=True))),
                  "rows_per_invitation": sorted(set(per.values())),
                  "without_row": len(mine) - len(per),
                  "message_ids": sorted(message_id_for(key) for key in
                                        rows.values_list("dedupe_key", flat=True))}}))
"""


# The kill run's progress: the states of its rows.
STATES = """
import json
from collections import Counter
from feedback.models import SurveyInvitation
from o2o.models import OutboxMessage
mine = SurveyInvitation.objects.filter(occasion__startswith="bench:{tag}:")
rows = OutboxMessage.objects.filter(kind="feedback.invitation.email", about__in=[
    f"feedback.invitation:{{pk}}" for pk in mine.values_list("pk", flat=True)])
print(json.dumps(dict(Counter(rows.values_list("state", flat=True)))))
"""


def _shell(env: dict[str, str], code: str) -> dict:
    out = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "shell", "-v", "0",
                          "-c", code], env=env, cwd=BASE_DIR, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _quiet_env(env: dict[str, str]) -> dict[str, str]:
    """The bench database; no quiet hours (a night run would push everything to 9:00);
    a mail backend that drops what it is given (rendering is measured, not SMTP)."""
    return {**env, "QUIET_HOURS": "", "EMAIL_URL": "dummymail://", "LOG_LEVEL": "WARNING"}


def _mb(kb: list[int]) -> list[float]:
    return [round(k / 1024, 1) for k in kb]


def survey_invitations(env: dict[str, str], log) -> dict:
    """Schedule SCHEDULE_COUNT invitations, then send them all; the figures."""
    env = _quiet_env(env)
    _shell(env, PREPARE.format())
    tag = uuid.uuid4().hex[:6]
    log(f"survey-invitations: {SCHEDULE_COUNT:,} hand-overs invite their shopper "
        "(one transaction each)")
    made = _shell(env, SCHEDULE.format(count=SCHEDULE_COUNT, tag=tag))
    log(f"  scheduled {made['made']:,} in {made['seconds']:.1f} s "
        f"({made['seconds'] / max(1, made['made']) * 1000:.2f} ms and "
        f"{made['queries'] / max(1, made['made']):.1f} queries each); peak RSS "
        f"{_mb(made['rss_kb'])} MB at each 1,000")
    log("  sending them all through the outbox (rendered, handed to a null mail backend)")
    sent = _shell(env, SEND.format())
    log(f"  sent {sent['sent']:,} in {sent['seconds']:.1f} s "
        f"({sent['sent'] / max(0.001, sent['seconds']):.0f}/s, "
        f"{sent['queries'] / max(1, sent['sent']):.1f} queries each); peak RSS "
        f"{_mb(sent['rss_kb'])} MB at each 1,000; {sent['left']} left")
    return {"schedule": made, "send": sent}


def _flat(rss_kb: list[int], *, slack_mb: float = 32) -> bool:
    """Memory flat: from the second sample to the last, peak RSS grew by at most
    ``slack_mb`` (the first thousand warms the caches)."""
    return len(rss_kb) >= 2 and (rss_kb[-1] - rss_kb[1]) / 1024 <= slack_mb


class _Group:
    """A Celery worker and beat on the bench database, killable (own process groups)."""

    def __init__(self, env: dict[str, str], log_key: str):
        self.dir = Path(tempfile.mkdtemp(prefix="o2o-bench-kill-"))
        self.queue = f"o2o-bench-kill-{uuid.uuid4().hex[:6]}"
        self.env = {**env, "DJANGO_SETTINGS_MODULE": "devtools.bench_settings",
                    "CELERY_TASK_ALWAYS_EAGER": "false", "BENCH_QUEUE": self.queue,
                    "BENCH_MAIL_KEY": log_key, "BENCH_MAIL_DELAY": "0.005",
                    "OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_LEASE_SECONDS": "8",
                    "OUTBOX_BATCH_SIZE": "50"}
        self.running: dict[str, subprocess.Popen] = {}
        self.kills = 0

    def start(self, name: str) -> None:
        binary = str(Path(sys.executable).parent / "celery")
        command = {
            "worker": [binary, "-A", "o2o", "worker", "-Q", self.queue, "--concurrency", "2",
                       "--loglevel", "WARNING", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h",
                       "--without-gossip", "--without-mingle", "--without-heartbeat"],
            "beat": [binary, "-A", "o2o", "beat", "--loglevel", "WARNING",
                     "--schedule", str(self.dir / "beat-schedule")],
        }[name]
        log = open(self.dir / f"{name}.log", "a")  # noqa: SIM115 - kept for the process
        self.running[name] = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        self.kills += 1

    def stop(self) -> None:
        for name in list(self.running):
            process = self.running.pop(name)
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        subprocess.run(["rm", "-rf", str(self.dir)], check=False)


def survey_kill(env: dict[str, str], log) -> dict:
    """KILL_COUNT invitations due at once; the worker killed twice mid-batch."""
    import redis

    from .bench_mail import delivered

    env = _quiet_env(env)
    _shell(env, PREPARE.format())
    tag = uuid.uuid4().hex[:6]
    made = _shell(env, SCHEDULE.format(count=KILL_COUNT, tag=tag))
    log(f"survey-kill: {made['made']:,} invitations due; a Celery worker killed twice "
        "mid-batch, then restarted")
    key = f"o2o-bench-mail-{tag}"
    group = _Group(env, key)
    started = time.monotonic()
    try:
        group.start("beat")
        for share in (0.3, 0.65):
            group.start("worker")
            _wait(lambda s=share: len(delivered(env["REDIS_URL"], key)) >= s * KILL_COUNT, 300)
            group.kill("worker")
            log(f"  worker killed with {len(delivered(env['REDIS_URL'], key)):,} delivered")
        group.start("worker")
        _wait(lambda: _shell(env, STATES.format(tag=tag)).get("sent", 0) >= KILL_COUNT,
              600, poll=2.0)
        seconds = time.monotonic() - started
    finally:
        group.stop()
    counted = _shell(env, COUNT.format(tag=tag))
    arrivals = delivered(env["REDIS_URL"], key)
    redis.Redis.from_url(env["REDIS_URL"]).delete(key)
    expected = set(counted["message_ids"])
    ids = [entry["id"] for entry in arrivals if entry["id"] in expected]
    distinct = len(set(ids))
    result = {"invitations": counted["invitations"], "states": counted["states"],
              "rows_per_invitation": counted["rows_per_invitation"],
              "without_row": counted["without_row"], "delivered": len(ids),
              "distinct": distinct, "repeats": len(ids) - distinct,
              # the shop's own messages the worker sent meanwhile (not the bench's)
              "others": len(arrivals) - len(ids), "kills": group.kills,
              "seconds": round(seconds, 1)}
    log(f"  counted in the database: {result['states']} for {result['invitations']:,} "
        f"invitations, rows per invitation {result['rows_per_invitation']}; at the mail "
        f"server {distinct:,} distinct, {result['repeats']} repeats (same Message-ID), "
        f"{seconds:.0f} s")
    return result


def _wait(predicate, timeout: float, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise TimeoutError("the bench's workers did not get there in time")


def kill_ok(result: dict) -> bool:
    return (result["states"] == {"sent": result["invitations"]}
            and result["rows_per_invitation"] == [1] and result["without_row"] == 0
            and result["distinct"] == result["invitations"])


def run_feedback_flows(env: dict[str, str], flows: list[str], *, log,
                       row) -> tuple[list[dict], list[str]]:
    """The survey flows as rows of the bench's table (``row``: benchmark._flow_row), and
    the names of those that failed: every invitation scheduled and sent, memory flat,
    and the kill run counted exactly in the database."""
    rows, failed = [], []
    if "survey-invitations" in flows:
        figures = survey_invitations(env, log)
        made, sent = figures["schedule"], figures["send"]
        for name, part, count in (("survey-schedule (10k)", made, made["made"]),
                                  ("survey-send (10k)", sent, sent["sent"])):
            entry = row(name, part["ms"], part["seconds"], {"ok": count}, [], 1,
                        path="(feedback invitations; see devtools/benchmark_feedback.py)")
            entry["feedback"] = {
                "count": count, "queries_per_invitation": round(part["queries"] / max(1, count), 2),
                "ms_per_invitation": round(part["seconds"] * 1000 / max(1, count), 3),
                "peak_rss_mb": _mb(part["rss_kb"]), "memory_flat": _flat(part["rss_kb"])}
            rows.append(entry)
            if not entry["feedback"]["memory_flat"]:
                log(f"  FAILED: {name}: peak RSS grew {_mb(part['rss_kb'])} MB")
                failed.append(name)
        if made["made"] != SCHEDULE_COUNT or sent["sent"] < SCHEDULE_COUNT or sent["left"]:
            log(f"  FAILED: {made['made']} scheduled, {sent['sent']} sent, {sent['left']} left")
            failed.append("survey-invitations")
    if "survey-kill" in flows:
        result = survey_kill(env, log)
        entry = row("survey-kill (2k, 2 kills)", [], result["seconds"],
                    {"sent": result["states"].get("sent", 0)}, [], 1,
                    path="(a worker SIGKILLed twice; see devtools/benchmark_feedback.py)")
        entry["feedback"] = result
        rows.append(entry)
        if not kill_ok(result):
            log("  FAILED: survey-kill: not every invitation sent exactly once in the database")
            failed.append("survey-kill")
    return rows, failed
