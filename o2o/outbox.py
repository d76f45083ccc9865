"""The transactional outbox: every email and text message the shop sends goes through here.

Writing (inside the caller's transaction, next to the change that causes the message)::

    from o2o.outbox import outbox_enqueue

    with transaction.atomic():
        order.status = READY
        order.save(update_fields=["status"])
        outbox_enqueue(channel="email", kind="orders.ready_for_pickup",
                       recipient=order.contact_email,
                       dedupe_key=f"orders.order:{order.pk}:ready_for_pickup",
                       payload={"order_id": order.pk}, about=f"orders.order:{order.pk}")

The row commits or rolls back with the change: no message for a change that did not
happen, no change without its message. ``dedupe_key`` says *what* the message is; a
second enqueue of the same key does nothing (INSERT ... ON CONFLICT DO NOTHING), so a
retried request or task cannot queue it twice. ``due_at`` is the earliest time it may
go (reminders, delays, quiet hours are the caller's business). ``outbox_enqueue_many``
writes thousands of rows in one statement (campaigns).

Rendering: an app registers a renderer per kind from its own module, imported by its
AppConfig.ready() (the kernel imports no app)::

    @outbox_renderer("orders.ready_for_pickup")
    def ready_email(message: OutboxMessage) -> EmailMessage | None: ...

It gets the row and returns the email (EmailMessage; ``to`` defaults to the row's
recipient) or the text (``o2o.sms.Sms`` or a plain str), rendered at send time from
current data, or None when the message has become moot (the try-on moved, the order was
cancelled): the row is then cancelled, not sent. ``message.sending_at`` is the time of
the round that sends it (judge "too late" against it, not the clock).

Sending (``outbox_deliver``), never inside a transaction:

1. claim: one statement picks due pending rows (``FOR UPDATE SKIP LOCKED``, so workers
   never wait for each other), marks them ``sending`` with a lease (``lease_until``) and
   the claimer's token, and commits;
2. render and send each, outside any transaction; a worker stops sending when its lease
   is nearly over and gives the rest back;
3. mark each ``sent`` (only while the row is still claimed by this worker); a failure
   records the error and puts the row back with a backoff, until ``OUTBOX_MAX_ATTEMPTS``,
   then ``failed``.

After a commit that queued a row due now, a Celery task is nudged (on_commit) so the
message leaves within a second; correctness never depends on that nudge: beat runs
``outbox_sweep`` every few seconds, which also gives back rows whose lease ran out (a
worker killed mid-batch) so another worker sends them.

The guarantee: each row is sent at least once, and more than once only when a worker
dies (or its database connection does) between a send and its mark. An email's
Message-ID is derived from the dedupe key (``message_id_for``), so such a resend carries
the same Message-ID as the first and mail systems recognise it as the same message; a
text message carries the same digest as its provider reference (Aliyun's OutId).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .bulk import json_rows
from .models import OutboxMessage
from .sms import Sms, send_sms_many

log = logging.getLogger(__name__)

State = OutboxMessage.State
Channel = OutboxMessage.Channel

Renderer = Callable[[OutboxMessage], "EmailMessage | Sms | str | None"]


@dataclass(frozen=True)
class _Registration:
    render: Renderer
    # Blank the payload once the row is finished (it carried a secret: a reset link).
    forget_payload: bool = False
    # What staff screens call the message ("ready for pickup"), lazily translated.
    label: object = None


_renderers: dict[str, _Registration] = {}


def outbox_renderer(*kinds: str, forget_payload: bool = False,
                    labels: dict | None = None) -> Callable[[Renderer], Renderer]:
    """Register the decorated function as the renderer of ``kinds``; ``labels`` names
    each kind for staff screens. Registering a kind twice with different functions is a
    programming error."""
    def register(function: Renderer) -> Renderer:
        for kind in kinds:
            known = _renderers.get(kind)
            if known is not None and known.render is not function:
                raise RuntimeError(f"outbox kind {kind!r} already has a renderer")
            _renderers[kind] = _Registration(function, forget_payload,
                                             (labels or {}).get(kind))
        return function
    return register


def outbox_kinds() -> list[str]:
    return sorted(_renderers)


def outbox_kind_label(kind: str) -> str:
    """What staff screens call a kind: its registered label, else the kind itself."""
    registration = _renderers.get(kind)
    return str(registration.label) if registration and registration.label else kind


# --- Writing ------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxItem:
    """One message for ``outbox_enqueue_many``."""

    channel: str
    kind: str
    recipient: str
    dedupe_key: str
    payload: dict = field(default_factory=dict)
    due_at: datetime | None = None
    about: str = ""


def outbox_enqueue(*, channel: str, kind: str, recipient: str, dedupe_key: str,
                   payload: dict | None = None, due_at: datetime | None = None,
                   about: str = "") -> bool:
    """Queue one message in the current transaction; True when it is new, False when a
    message with this ``dedupe_key`` exists already (nothing is changed then)."""
    return outbox_enqueue_many([OutboxItem(channel=channel, kind=kind, recipient=recipient,
                                           dedupe_key=dedupe_key, payload=payload or {},
                                           due_at=due_at, about=about)]) == 1


def outbox_enqueue_many(items: Iterable[OutboxItem]) -> int:
    """Queue many messages in one INSERT ... SELECT FROM json_to_recordset(...) ON
    CONFLICT DO NOTHING (the rows one JSON parameter: o2o.bulk): one statement and one
    nudge whatever their number. Returns how many were new."""
    rows = list(items)
    if not rows:
        return 0
    now = timezone.now()
    valid_channels = set(Channel.values)
    for item in rows:
        if item.channel not in valid_channels:
            raise ValueError(f"unknown outbox channel {item.channel!r}")
        if not item.recipient or not item.dedupe_key or not item.kind:
            raise ValueError("an outbox message needs a kind, a recipient and a dedupe key")
    table = OutboxMessage._meta.db_table
    sql = (f"INSERT INTO {table} (channel, kind, recipient, payload, dedupe_key, about, "
           f"state, attempts, due_at, created_at, claimed_by, last_error) "
           f"SELECT r.channel, r.kind, r.recipient, r.payload, r.dedupe_key, r.about, "
           f"%s, 0, r.due_at, %s, '', '' "
           f"FROM json_to_recordset(%s::json) AS r(channel text, kind text, recipient text, "
           f"payload jsonb, dedupe_key text, about text, due_at timestamptz) "
           f"ON CONFLICT (dedupe_key) DO NOTHING RETURNING due_at")
    with connection.cursor() as cursor:
        cursor.execute(sql, [State.PENDING.value, now, json_rows(
            {"channel": i.channel, "kind": i.kind, "recipient": i.recipient[:254],
             "payload": i.payload or {}, "dedupe_key": i.dedupe_key, "about": i.about,
             "due_at": (i.due_at or now).isoformat()} for i in rows)])
        inserted = [row[0] for row in cursor.fetchall()]
    if any(due <= now for due in inserted):
        _nudge_after_commit()
    return len(inserted)


def _nudge() -> None:
    from .tasks import outbox_deliver_task

    outbox_deliver_task.delay()


def _nudge_after_commit() -> None:
    """Ask a worker to deliver once the transaction commits: one nudge per enqueue call
    (queue many rows with ``outbox_enqueue_many``, one call), ``robust``: a broker that
    cannot be reached is logged, never fails the caller (the sweeper sends anyway)."""
    transaction.on_commit(_nudge, robust=True)


def outbox_cancel(*, about: str = "", dedupe_keys: Sequence[str] = (),
                  reason: str = "cancelled") -> int:
    """Withdraw pending messages (about one record, or by key): they will not be sent.
    Rows being sent or already sent stay as they are. Returns how many were withdrawn."""
    queryset = OutboxMessage.objects.filter(state=State.PENDING)
    if about:
        queryset = queryset.filter(about=about)
    elif dedupe_keys:
        queryset = queryset.filter(dedupe_key__in=list(dedupe_keys))
    else:
        raise ValueError("say which messages to cancel")
    return queryset.update(state=State.CANCELLED, last_error=reason[:200])


def outbox_forget(*, about: Sequence[str] = (), recipients: Sequence[str] = ()) -> int:
    """Privacy erasure: blank the recipient and payload of every message about these
    records, or to these addresses or numbers (sent or not); those not sent are
    cancelled. Returns the rows touched."""
    about, recipients = [a for a in about if a], [r for r in recipients if r]
    if not about and not recipients:
        return 0
    queryset = OutboxMessage.objects.filter(Q(about__in=about) | Q(recipient__in=recipients))
    queryset.filter(state__in=[State.PENDING, State.FAILED]).update(
        state=State.CANCELLED, last_error="erased")
    return queryset.update(recipient="", payload={})


def outbox_retry(*, ids: Sequence[int]) -> int:
    """Give failed messages another round of attempts (staff, after fixing the cause)."""
    return (OutboxMessage.objects.filter(pk__in=list(ids), state=State.FAILED)
            .update(state=State.PENDING, attempts=0, due_at=timezone.now()))


def messages_about(about: str) -> list[OutboxMessage]:
    """The messages about one record, oldest first (for its staff screen)."""
    return list(OutboxMessage.objects.filter(about=about).order_by("created_at", "pk"))


# --- Identity -------------------------------------------------------------------------


def dedupe_digest(dedupe_key: str) -> str:
    """A stable digest of the key, salted with SECRET_KEY so two shops (or a shop and its
    test database) never share one."""
    return salted_hmac("o2o.outbox.message-id", dedupe_key).hexdigest()[:40]


def message_id_for(dedupe_key: str) -> str:
    """The Message-ID of the email with this dedupe key: the same for every send of it."""
    domain = getattr(settings, "OUTBOX_MESSAGE_ID_DOMAIN", "") or (
        parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]) or "o2o.local"
    return f"<{dedupe_digest(dedupe_key)}@{domain}>"


# --- Sending ------------------------------------------------------------------------


def _setting(name: str, default):
    return getattr(settings, name, default)


@dataclass
class Delivery:
    """What one ``outbox_deliver`` call did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    released: int = 0

    @property
    def full(self) -> bool:
        """The claim took a whole batch: more may be due."""
        return self.claimed >= _setting("OUTBOX_BATCH_SIZE", 50)


def _token() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _claim(*, now: datetime, limit: int, lease: timedelta, token: str,
           ids: Sequence[int] | None = None) -> list[int]:
    table = OutboxMessage._meta.db_table
    only = "AND id = ANY(%(ids)s)" if ids is not None else ""
    sql = f"""
        WITH due AS (
            SELECT id FROM {table}
            WHERE state = 'pending' AND due_at <= %(now)s {only}
            ORDER BY due_at, id
            LIMIT %(limit)s
            FOR UPDATE SKIP LOCKED
        )
        UPDATE {table} AS m
        SET state = 'sending', attempts = m.attempts + 1, claimed_at = %(now)s,
            claimed_by = %(token)s, lease_until = %(lease)s
        FROM due WHERE m.id = due.id
        RETURNING m.id"""
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "limit": limit, "token": token,
                             "lease": now + lease, "ids": list(ids or [])})
        return [row[0] for row in cursor.fetchall()]


def outbox_reclaim_expired(*, now: datetime | None = None) -> int:
    """Rows whose lease ran out (their worker died, or hung): back to pending, due now;
    those that have used up their attempts become failed. Returns how many."""
    now = now or timezone.now()
    limit = _setting("OUTBOX_MAX_ATTEMPTS", 10)
    expired = OutboxMessage.objects.filter(state=State.SENDING, lease_until__lt=now)
    with transaction.atomic(durable=True):
        failed = expired.filter(attempts__gte=limit).update(
            state=State.FAILED, lease_until=None, claimed_by="",
            last_error="the worker sending it was lost (lease expired) too many times")
        back = expired.update(state=State.PENDING, lease_until=None, claimed_by="",
                              due_at=now, last_error="the worker sending it was lost "
                              "(lease expired); sent again")
    if failed or back:
        log.warning("outbox: %s message(s) reclaimed from lost workers, %s failed", back,
                    failed)
    return back + failed


def _backoff(attempts: int) -> timedelta:
    base = _setting("OUTBOX_RETRY_BASE_SECONDS", 30)
    ceiling = _setting("OUTBOX_RETRY_MAX_SECONDS", 3600)
    seconds = min(ceiling, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class _Batch:
    """The rows one worker holds under one lease token."""

    def __init__(self, *, token: str, lease_ends: float):
        self.token = token
        self.lease_ends = lease_ends  # time.monotonic() when the lease is over
        self.result = Delivery()

    def lease_left(self) -> float:
        return self.lease_ends - time.monotonic()

    def _finish(self, ids: Sequence[int], **values) -> int:
        if not ids:
            return 0
        with transaction.atomic(durable=True):
            return (OutboxMessage.objects
                    .filter(pk__in=list(ids), state=State.SENDING, claimed_by=self.token)
                    .update(lease_until=None, claimed_by="", **values))

    def sent(self, messages: Sequence[OutboxMessage]) -> None:
        now = timezone.now()
        self.result.sent += self._finish([m.pk for m in messages], state=State.SENT,
                                         sent_at=now)
        self._forget(messages)

    def cancelled(self, message: OutboxMessage, reason: str) -> None:
        self.result.cancelled += self._finish([message.pk], state=State.CANCELLED,
                                              last_error=reason[:200])
        self._forget([message])

    def error(self, message: OutboxMessage, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        log.warning("outbox: %s %s (attempt %s) failed: %s", message.kind, message.pk,
                    message.attempts, text[:300])
        if message.attempts >= _setting("OUTBOX_MAX_ATTEMPTS", 10):
            self.result.failed += self._finish([message.pk], state=State.FAILED,
                                               last_error=text[:2000])
            self._forget([message])
        else:
            self.result.retried += self._finish(
                [message.pk], state=State.PENDING, last_error=text[:2000],
                due_at=timezone.now() + _backoff(message.attempts))

    def release(self, messages: Sequence[OutboxMessage], *, delay: float = 0) -> None:
        """Give rows back untried (lease nearly over, transport down): not an attempt."""
        ids = [m.pk for m in messages]
        if not ids:
            return
        with transaction.atomic(durable=True):
            self.result.released += (
                OutboxMessage.objects
                .filter(pk__in=ids, state=State.SENDING, claimed_by=self.token)
                .update(state=State.PENDING, lease_until=None, claimed_by="",
                        attempts=F("attempts") - 1,
                        due_at=timezone.now() + timedelta(seconds=delay)))

    def _forget(self, messages: Sequence[OutboxMessage]) -> None:
        ids = [m.pk for m in messages
               if (reg := _renderers.get(m.kind)) is not None and reg.forget_payload]
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(payload={})


def _render(message: OutboxMessage):
    registration = _renderers.get(message.kind)
    if registration is None:
        raise LookupError(f"no renderer for outbox kind {message.kind!r}")
    return registration.render(message)


# Consecutive transport failures after which the rest of a batch is given back: the
# server looks down, and each further try would wait for its timeout.
TRANSPORT_DOWN_AFTER = 3
# Seconds of lease a worker keeps in hand: it sends nothing once less than this is left.
LEASE_MARGIN = 5.0


def _deliver_email(batch: _Batch, messages: list[OutboxMessage]) -> None:
    mail = get_connection(fail_silently=False)
    opened = False
    failures_in_a_row = 0
    try:
        for index, message in enumerate(messages):
            if batch.lease_left() < LEASE_MARGIN:
                batch.release(messages[index:])
                return
            try:
                email = _render(message)
            except Exception as exc:  # a renderer bug must not stop the batch
                log.exception("outbox: rendering %s %s failed", message.kind, message.pk)
                batch.error(message, exc)
                continue
            if email is None:
                batch.cancelled(message, "moot when it was due")
                continue
            if not email.to:
                email.to = [message.recipient]
            email.extra_headers["Message-ID"] = message_id_for(message.dedupe_key)
            email.connection = mail
            try:
                if not opened:
                    mail.open()
                    opened = True
                mail.send_messages([email])
            except Exception as exc:
                batch.error(message, exc)
                with _quietly():
                    mail.close()  # a broken connection is opened afresh for the next one
                opened = False
                failures_in_a_row += 1
                if failures_in_a_row >= TRANSPORT_DOWN_AFTER:
                    batch.release(messages[index + 1:], delay=_setting(
                        "OUTBOX_RETRY_BASE_SECONDS", 30))
                    return
                continue
            failures_in_a_row = 0
            batch.sent([message])
    finally:
        if opened:
            with _quietly():
                mail.close()


class _quietly:
    """Closing a broken connection is not news."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None:
            log.debug("outbox: closing the mail connection failed", exc_info=True)
        return exc_type is not None and issubclass(exc_type, Exception)


def _deliver_sms(batch: _Batch, messages: list[OutboxMessage]) -> None:
    ready: list[tuple[OutboxMessage, Sms]] = []
    for message in messages:
        try:
            text = _render(message)
        except Exception as exc:
            log.exception("outbox: rendering %s %s failed", message.kind, message.pk)
            batch.error(message, exc)
            continue
        if text is None:
            batch.cancelled(message, "moot when it was due")
            continue
        sms = text if isinstance(text, Sms) else Sms(phone=message.recipient, message=text)
        ready.append((message, Sms(phone=sms.phone or message.recipient, message=sms.message,
                                   purpose=sms.purpose or message.kind, params=sms.params,
                                   reference=dedupe_digest(message.dedupe_key))))
    size = max(1, _setting("OUTBOX_SMS_CALL_SIZE", 100))
    for start in range(0, len(ready), size):
        chunk = ready[start:start + size]
        if batch.lease_left() < LEASE_MARGIN:
            batch.release([m for m, _s in ready[start:]])
            return
        try:
            results = send_sms_many([s for _m, s in chunk])
        except Exception as exc:  # the whole call failed: nothing known to have gone
            for message, _sms in chunk:
                batch.error(message, exc)
            continue
        batch.sent([m for (m, _s), error in zip(chunk, results, strict=True) if error is None])
        for (message, _sms), error in zip(chunk, results, strict=True):
            if error is not None:
                batch.error(message, error)


_TRANSPORTS: dict[str, Callable[[_Batch, list[OutboxMessage]], None]] = {
    Channel.EMAIL: _deliver_email,
    Channel.SMS: _deliver_sms,
}


def outbox_deliver(*, limit: int | None = None, ids: Sequence[int] | None = None,
                   now: datetime | None = None) -> Delivery:
    """Claim up to ``limit`` due messages (or only ``ids``), send them, mark them.

    Must run outside any transaction (it commits the claim before sending, and each
    mark after its send): raises RuntimeError inside one. Safe to run in many workers
    at once: each claims different rows.
    """
    limit = limit or _setting("OUTBOX_BATCH_SIZE", 50)
    lease = timedelta(seconds=_setting("OUTBOX_LEASE_SECONDS", 120))
    token = _token()
    started = time.monotonic()
    now = now or timezone.now()
    claimed = _claim(now=now, limit=limit, lease=lease, token=token, ids=ids)
    batch = _Batch(token=token, lease_ends=started + lease.total_seconds())
    batch.result.claimed = len(claimed)
    if not claimed:
        return batch.result
    messages = list(OutboxMessage.objects.filter(pk__in=claimed).order_by("due_at", "pk"))
    by_channel: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        message.sending_at = now  # what a renderer judges "moot" against
        by_channel.setdefault(message.channel, []).append(message)
    for channel, group in by_channel.items():
        transport = _TRANSPORTS.get(channel)
        if transport is None:
            for message in group:
                batch.error(message, f"no transport for channel {channel!r}")
            continue
        try:
            transport(batch, group)
        except Exception:
            # Whatever went wrong, rows still held go back for the next round.
            log.exception("outbox: the %s transport failed", channel)
            batch.release(group)
    return batch.result


def outbox_sweep(*, budget_seconds: float | None = None) -> Delivery:
    """Beat: give back rows of lost workers, then deliver due batches until none is left
    or ``budget_seconds`` (well inside the lease) is used. Safe to run twice at once."""
    budget = budget_seconds if budget_seconds is not None else _setting(
        "OUTBOX_SWEEP_BUDGET_SECONDS", 50)
    outbox_reclaim_expired()
    total = Delivery()
    deadline = time.monotonic() + budget
    while True:
        result = outbox_deliver()
        for name in ("claimed", "sent", "retried", "failed", "cancelled", "released"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        if not result.full or result.released or time.monotonic() >= deadline:
            return total
