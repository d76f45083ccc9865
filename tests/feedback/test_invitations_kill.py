"""Invitations survive killed workers: 300 survey emails due at once, the Celery worker
SIGKILLed mid-batch twice and started again; every invitation's email is sent, once in
the database (one outbox row each, marked sent), and what arrived twice arrived under the
same Message-ID (tests/o2o/test_outbox_kill.py has the process machinery)."""

from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from feedback.models import SurveyInvitation, Trigger
from feedback.services import Moment, invitation_schedule
from feedback.services.invitations import KIND_EMAIL, about_invitation
from o2o.models import OutboxMessage
from o2o.outbox import message_id_for
from tests.o2o.delivery_log import delivered
from tests.o2o.test_outbox_kill import processes, wait_for  # noqa: F401 - the fixture
from tests.stores.factories import StoreFactory

from .factories import survey_for

COUNT = 300


@pytest.mark.long
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_twice_sends_every_invitation(processes, settings):  # noqa: F811
    settings.QUIET_HOURS = ""
    survey_for(delay=0)
    store = StoreFactory()
    at = timezone.now()
    with transaction.atomic():
        for n in range(COUNT):
            invitation_schedule(moment=Moment(
                trigger=Trigger.PICKUP, occasion=f"order:kill-{n}", at=at, channel="online",
                language="zh-hans", contact_name="林小姐", contact_email=f"k{n}@example.com",
                store=store, reference=f"K{n:04d}"))
    invitations = list(SurveyInvitation.objects.values_list("pk", flat=True))
    assert len(invitations) == COUNT
    rows = OutboxMessage.objects.filter(kind=KIND_EMAIL)
    assert rows.count() == COUNT

    group = processes()
    key = group.env["DELIVERY_LOG_KEY"]
    group.start("beat")
    caught_mid_batch = 0
    for threshold in (60, 180):
        group.start("worker")
        wait_for(lambda t=threshold: len(delivered(key)) >= t, 90,
                 lambda t=threshold: f"{t} deliveries\n{group.logs()}")
        group.kill("worker")
        caught_mid_batch += rows.filter(state=OutboxMessage.State.SENDING).exists()
    assert caught_mid_batch >= 1
    group.start("worker")
    wait_for(lambda: rows.filter(state=OutboxMessage.State.SENT).count() == COUNT, 120,
             lambda: f"every invitation sent: {Counter(rows.values_list('state', flat=True))}"
                     f"\n{group.logs()}")

    # Counted in the database: one email row per invitation, each sent.
    per_invitation = Counter(rows.values_list("about", flat=True))
    assert per_invitation == Counter({about_invitation(pk): 1 for pk in invitations})
    # Counted at the mail server: every invitation arrived, a repeat only under its own id.
    arrived = Counter(entry["id"] for entry in delivered(key))
    expected = {message_id_for(f"{about_invitation(pk)}:email") for pk in invitations}
    assert set(arrived) == expected
    duplicates = sum(arrived.values()) - len(arrived)
    assert duplicates <= group.kills * 2, (duplicates, arrived.most_common(3))
    assert all(store.name in entry["subject"] for entry in delivered(key))  # the survey's
