import pytest

from .factories import survey_for


@pytest.fixture
def invitations_uncapped(settings):
    """No quiet hours and no per-member cap: every invitation goes out when asked."""
    settings.QUIET_HOURS = ""
    settings.FEEDBACK_MEMBER_CAP_DAYS = 0


@pytest.fixture
def version(db):
    """The post-pickup survey, published."""
    return survey_for()
