"""The outbox (o2o.outbox): written with the change or not at all, once per dedupe key,
thousands in one statement, claimed by parallel workers without a message twice, sent
outside transactions with a Message-ID made from the key, retried with backoff, failed
after the limit, moot messages cancelled, lost workers' rows taken back, text messages
in batches."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from o2o import sms
from o2o.models import OutboxMessage
from o2o.outbox import (
    OutboxItem,
    dedupe_digest,
    message_id_for,
    outbox_cancel,
    outbox_deliver,
    outbox_enqueue,
    outbox_enqueue_many,
    outbox_reclaim_expired,
    outbox_renderer,
    outbox_retry,
    outbox_sweep,
)
from tests.concurrency import race

State = OutboxMessage.State
MOOT: set[str] = set()


@outbox_renderer("tests.hello")
def hello(message):
    if message.dedupe_key in MOOT:
        return None
    return EmailMessage(subject=f"hello {message.payload.get('n')}", body="hi")


@outbox_renderer("tests.text")
def text(message):
    return f"text {message.payload.get('n')}"


@outbox_renderer("tests.broken")
def broken(message):
    raise KeyError("the template lost a variable")


class DownBackend(BaseEmailBackend):
    calls = 0

    def send_messages(self, email_messages):
        DownBackend.calls += 1
        raise ConnectionRefusedError("smtp down")


def enqueue(n, *, kind="tests.hello", channel="email", due_at=None):
    return outbox_enqueue(channel=channel, kind=kind, recipient=f"p{n}@example.com",
                          dedupe_key=f"tests:{kind}:{n}", payload={"n": n}, due_at=due_at)


@pytest.fixture(autouse=True)
def _empty_sms():
    sms.outbox.clear()
    sms.calls.clear()
    MOOT.clear()
    yield
    sms.outbox.clear()
    sms.calls.clear()


@pytest.mark.django_db
def test_a_message_is_written_once_per_dedupe_key():
    assert enqueue(1) is True
    assert enqueue(1) is False
    (row,) = OutboxMessage.objects.all()
    assert (row.state, row.attempts, row.recipient) == (State.PENDING, 0, "p1@example.com")
    assert row.payload == {"n": 1} and row.due_at <= timezone.now()


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_message():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(1)
        raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_thousands_of_messages_are_one_statement_and_one_nudge_a_call(
        django_capture_on_commit_callbacks):
    items = [OutboxItem(channel="email", kind="tests.hello", recipient=f"m{i}@example.com",
                        dedupe_key=f"campaign:7:{i}", payload={"n": i}) for i in range(5000)]
    with django_capture_on_commit_callbacks() as callbacks, \
            CaptureQueriesContext(connection) as queries:
        assert outbox_enqueue_many(items) == 5000
        assert outbox_enqueue_many(items[:10]) == 0  # already there: nothing new
        enqueue(1)
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3  # one per call, whatever the number of rows
    assert OutboxMessage.objects.count() == 5001
    assert len(callbacks) == 2  # one nudge a call that queued something new


@pytest.mark.django_db
def test_a_message_due_later_is_not_nudged_nor_sent_before_its_time(
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue(1, due_at=timezone.now() + timedelta(hours=2))
    assert callbacks == []
    assert outbox_deliver().claimed == 0
    assert outbox_deliver(now=timezone.now() + timedelta(hours=2, seconds=1)).sent == 1


@pytest.mark.django_db
def test_delivery_sends_marks_and_never_sends_twice():
    for n in range(3):
        enqueue(n)
    result = outbox_deliver()
    assert (result.claimed, result.sent) == (3, 3)
    assert sorted(m.subject for m in mail.outbox) == ["hello 0", "hello 1", "hello 2"]
    assert [m.to for m in mail.outbox if m.subject == "hello 1"] == [["p1@example.com"]]
    rows = OutboxMessage.objects.all()
    assert {(r.state, r.attempts, r.claimed_by, r.lease_until) for r in rows} == {
        (State.SENT, 1, "", None)}
    assert all(r.sent_at for r in rows)
    assert outbox_deliver().claimed == 0 and len(mail.outbox) == 3


@pytest.mark.django_db
def test_the_message_id_comes_from_the_dedupe_key_and_stays_the_same():
    enqueue(1)
    outbox_deliver()
    (email,) = mail.outbox
    header = email.message()["Message-ID"]
    assert header == message_id_for("tests:tests.hello:1")
    assert header == message_id_for("tests:tests.hello:1")  # stable
    assert header != message_id_for("tests:tests.hello:2")
    assert header.endswith("@o2o-jewelry.local>")  # DEFAULT_FROM_EMAIL's domain
    assert "tests.hello" not in header  # a digest, not the key itself


@pytest.mark.django_db
def test_through_a_providers_api_anymail_gets_the_same_message_and_message_id(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"  # anymail's own stand-in
    settings.ANYMAIL = {}
    enqueue(1)
    assert outbox_deliver().sent == 1
    (email,) = mail.outbox
    assert email.subject == "hello 1" and email.to == ["p1@example.com"]
    assert email.extra_headers["Message-ID"] == message_id_for("tests:tests.hello:1")
    assert email.anymail_status.status == {"sent"}  # what the provider answered
    assert OutboxMessage.objects.get().state == State.SENT


@pytest.mark.django_db
def test_a_moot_message_is_cancelled_not_sent():
    enqueue(1)
    MOOT.add("tests:tests.hello:1")
    assert outbox_deliver().cancelled == 1
    assert mail.outbox == []
    assert OutboxMessage.objects.get().state == State.CANCELLED


@pytest.mark.django_db
def test_a_failure_is_retried_with_backoff_then_marked_failed(settings):
    settings.EMAIL_BACKEND = "tests.o2o.test_outbox.DownBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    enqueue(1)
    before = timezone.now()
    assert outbox_deliver().retried == 1
    row = OutboxMessage.objects.get()
    assert row.state == State.PENDING and row.attempts == 1
    assert "smtp down" in row.last_error
    # Backoff: 30 s the first time (with jitter), then doubling.
    assert before + timedelta(seconds=23) < row.due_at < before + timedelta(seconds=37)
    assert outbox_deliver().claimed == 0  # not due yet
    later = timezone.now() + timedelta(hours=1)
    assert outbox_deliver(now=later).retried == 1
    row.refresh_from_db()
    assert row.attempts == 2 and row.due_at > timezone.now() + timedelta(seconds=45)
    assert outbox_deliver(now=later + timedelta(hours=1)).failed == 1
    row.refresh_from_db()
    assert row.state == State.FAILED and row.attempts == 3
    # Staff fix the cause and send it again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_retry(ids=[row.pk]) == 1
    assert outbox_deliver().sent == 1 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_renderer_bug_is_a_failed_attempt_not_a_stopped_batch():
    outbox_enqueue(channel="email", kind="tests.broken", recipient="x@example.com",
                   dedupe_key="broken:1")
    enqueue(2)
    result = outbox_deliver()
    assert (result.retried, result.sent) == (1, 1)
    assert "the template lost a variable" in OutboxMessage.objects.get(
        dedupe_key="broken:1").last_error


@pytest.mark.django_db
def test_a_mail_server_that_is_down_ends_the_batch_and_gives_back_the_rest(settings):
    settings.EMAIL_BACKEND = "tests.o2o.test_outbox.DownBackend"
    DownBackend.calls = 0
    for n in range(10):
        enqueue(n)
    result = outbox_deliver()
    assert DownBackend.calls == 3  # three in a row failed: the rest not tried
    assert (result.retried, result.released) == (3, 7)
    untried = OutboxMessage.objects.filter(attempts=0)
    assert untried.count() == 7 and all(r.state == State.PENDING for r in untried)


@pytest.mark.django_db
def test_rows_of_a_lost_worker_are_taken_back_when_the_lease_runs_out():
    enqueue(1)
    OutboxMessage.objects.update(state=State.SENDING, attempts=1, claimed_by="dead:1:x",
                                 claimed_at=timezone.now() - timedelta(minutes=5),
                                 lease_until=timezone.now() - timedelta(minutes=3))
    enqueue(2)
    OutboxMessage.objects.filter(dedupe_key__endswith=":2").update(
        state=State.SENDING, attempts=1, claimed_by="alive:1:y",
        lease_until=timezone.now() + timedelta(minutes=1))
    result = outbox_sweep()
    assert result.sent == 1 and [m.subject for m in mail.outbox] == ["hello 1"]
    lost = OutboxMessage.objects.get(dedupe_key__endswith=":1")
    assert lost.state == State.SENT and lost.attempts == 2 and "lease expired" in lost.last_error
    # A live worker's claim is left alone.
    assert OutboxMessage.objects.get(dedupe_key__endswith=":2").state == State.SENDING


@pytest.mark.django_db
def test_a_row_lost_too_often_is_failed(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    enqueue(1)
    OutboxMessage.objects.update(state=State.SENDING, attempts=2, claimed_by="dead:1:x",
                                 lease_until=timezone.now() - timedelta(seconds=1))
    assert outbox_reclaim_expired() == 1
    assert OutboxMessage.objects.get().state == State.FAILED


@pytest.mark.django_db
def test_cancel_withdraws_only_what_has_not_gone():
    outbox_enqueue(channel="email", kind="tests.hello", recipient="a@example.com",
                   dedupe_key="k:1", about="thing:1")
    outbox_enqueue(channel="email", kind="tests.hello", recipient="a@example.com",
                   dedupe_key="k:2", about="thing:1")
    OutboxMessage.objects.filter(dedupe_key="k:1").update(state=State.SENT,
                                                          sent_at=timezone.now())
    assert outbox_cancel(about="thing:1", reason="skipped") == 1
    assert dict(OutboxMessage.objects.values_list("dedupe_key", "state")) == {
        "k:1": State.SENT, "k:2": State.CANCELLED}


@pytest.mark.django_db
def test_text_messages_go_in_batches_of_the_providers_size(settings):
    settings.OUTBOX_BATCH_SIZE = 500
    outbox_enqueue_many([OutboxItem(channel="sms", kind="tests.text",
                                    recipient=f"+86139{n:08d}", dedupe_key=f"sms:{n}",
                                    payload={"n": n}) for n in range(250)])
    assert outbox_deliver().sent == 250
    assert [len(call) for call in sms.calls] == [100, 100, 50]  # LocmemBackend.max_batch
    first = sms.outbox[0]
    assert first.phone == "+8613900000000" and first.message == "text 0"
    assert first.purpose == "tests.text" and first.reference == dedupe_digest("sms:0")
    assert OutboxMessage.objects.filter(state=State.SENT).count() == 250


def test_a_backend_refuses_a_batch_larger_than_it_takes():
    with pytest.raises(ValueError):
        sms.LocmemBackend().send_many([sms.Sms(phone="+1", message="x")] * 101)


@pytest.mark.django_db(transaction=True)
def test_delivery_refuses_to_run_inside_a_transaction():
    enqueue(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_deliver()
    assert OutboxMessage.objects.get().state == State.PENDING


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_message_once():
    outbox_enqueue_many([OutboxItem(channel="email", kind="tests.hello",
                                    recipient=f"m{i}@example.com", dedupe_key=f"par:{i}",
                                    payload={"n": i}) for i in range(300)])

    def worker(_i):
        sent = 0
        while True:
            result = outbox_deliver(limit=20)
            sent += result.sent
            if not result.claimed:
                return sent

    results, errors = race(4, worker)
    connections.close_all()
    assert errors == []
    assert sum(results) == 300 and len(mail.outbox) == 300
    assert len({m.subject for m in mail.outbox}) == 300
    assert sum(1 for r in results if r) >= 2  # the work was shared
    assert OutboxMessage.objects.filter(state=State.SENT, attempts=1).count() == 300
