"""`make bench`'s survey pieces, run in the test database: the scripts schedule, send and
count exactly; the memory and kill verdicts judge what they are given."""

import json

import pytest
from django.core import mail

from devtools.benchmark_feedback import COUNT, PREPARE, SCHEDULE, SEND, STATES, _flat, kill_ok
from feedback.models import SurveyInvitation
from tests.stores.factories import StoreFactory


def _run(script: str, capsys) -> dict:
    exec(script, {})  # the bench's own scripts, as manage.py shell runs them
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.django_db
def test_the_survey_bench_schedules_sends_and_counts_exactly(capsys, settings):
    settings.QUIET_HOURS = ""
    StoreFactory(code="sh-bench")
    assert _run(PREPARE.format(), capsys)["version"]
    made = _run(SCHEDULE.format(count=40, tag="t1"), capsys)
    assert made["made"] == 40 and len(made["ms"]) == 40
    # Six of the service (tests/feedback/test_invitations.py counts them), and here the
    # savepoint pair of each hand-over's transaction inside the test's own.
    assert made["queries"] / made["made"] <= 8
    invitations = SurveyInvitation.objects.filter(occasion__startswith="bench:t1:")
    assert invitations.count() == 40
    mail.outbox.clear()
    sent = _run(SEND.format(), capsys)
    assert (sent["sent"], sent["left"]) == (40, 0) and len(mail.outbox) == 40
    assert sent["queries"] / sent["sent"] <= 8
    counted = _run(COUNT.format(tag="t1"), capsys)
    ids = counted.pop("message_ids")
    assert counted == {"invitations": 40, "states": {"sent": 40}, "rows_per_invitation": [1],
                       "without_row": 0}
    assert sorted(m.extra_headers["Message-ID"] for m in mail.outbox) == ids
    assert _run(STATES.format(tag="t1"), capsys) == {"sent": 40}
    # A second run clears the first run's invitations before making its own.
    _run(PREPARE.format(), capsys)
    assert not SurveyInvitation.objects.filter(occasion__startswith="bench:").exists()


def test_the_verdicts():
    assert _flat([100_000, 120_000, 130_000, 140_000])  # +20 MB after the warm-up
    assert not _flat([100_000, 120_000, 200_000])  # +78 MB: something is held
    good = {"invitations": 3, "states": {"sent": 3}, "rows_per_invitation": [1],
            "without_row": 0, "distinct": 3}
    assert kill_ok(good)
    assert not kill_ok({**good, "states": {"sent": 2, "pending": 1}})
    assert not kill_ok({**good, "rows_per_invitation": [1, 2]})
    assert not kill_ok({**good, "distinct": 2})
