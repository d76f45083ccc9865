from datetime import date

import pytest

from o2o import dashboard
from o2o.dashboard import DASHBOARD, HOME, Panel, Scope, panel_register, panels_for
from tests.members.factories import StaffFactory, UserFactory


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(dashboard, "_panels", {})


@pytest.mark.django_db
def test_panels_are_shown_by_place_permission_and_order(registry):
    @panel_register
    class Second(Panel):
        key, title, order, template, places = "t.second", "Second", 20, "t.html", (HOME,)

    @panel_register
    class First(Panel):
        key, title, order, template = "t.first", "First", 10, "t.html"
        places = (HOME, DASHBOARD)

    @panel_register
    class Secret(Panel):
        key, title, template, places = "t.secret", "Secret", "t.html", (HOME,)
        permission = "members.view_contact"

    clerk = StaffFactory()
    assert [p.key for p in panels_for(clerk, HOME)] == ["t.first", "t.second"]
    assert [p.key for p in panels_for(clerk, DASHBOARD)] == ["t.first"]
    assert panels_for(UserFactory(), HOME) == []  # shoppers never
    boss = StaffFactory(is_superuser=True)
    assert [p.key for p in panels_for(boss, HOME)] == ["t.first", "t.second", "t.secret"]


def test_a_panel_needs_a_key_and_a_template(registry):
    with pytest.raises(ValueError):
        panel_register(type("Nameless", (Panel,), {}))


def test_the_scope_limits_stores():
    mine = Scope(store_ids=frozenset({1, 2}), start=date(2026, 12, 1), end=date(2026, 12, 7))
    assert mine.sees_store(1) and not mine.sees_store(3)
    assert Scope(store_ids=None, start=date(2026, 1, 1), end=date(2026, 1, 2)).sees_store(99)
