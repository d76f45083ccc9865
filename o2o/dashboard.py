"""Panels: what each app shows on the back office's home and dashboards.

The admin home is a workplace per role (today at my store, my store's week, the whole
chain), and the dashboards compare channels, stores and periods. Each app contributes
its own panels from its own module, registered when its AppConfig.ready() imports it,
so the kernel imports no app and analytics (the top layer) renders whatever is there;
a new app adds panels without touching the others::

    from o2o.dashboard import Panel, Scope, panel_register

    @panel_register
    class OpenCases(Panel):
        key = "feedback.open_cases"
        title = _("Open feedback cases")
        permission = "feedback.view_feedbackcase"   # who sees it ("" : every staff user)
        places = (HOME,)                              # HOME and/or DASHBOARD
        order = 20                                    # smaller first
        template = "feedback/panels/open_cases.html"

        def context(self, request, scope: Scope) -> dict:
            return {"cases": cases_open(store_ids=scope.store_ids)}

``scope`` is what the viewer may see and has chosen: the stores (``None``: every store,
for head office; a manager's and a clerk's are their own), the period and the period
to compare with, the channel. A panel reads only inside it: a manager never sees
another store's numbers, in a panel or in its export.

A panel with figures also answers ``tables(request, scope)``: its numbers as ``Table``s
(a title, column headings, rows of plain values). analytics offers them for download
(CSV and XLSX) under the panel, computed within the same scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

HOME = "home"  # the admin home: the day's work
DASHBOARD = "dashboard"  # the dashboards: figures over a period


@dataclass(frozen=True)
class Scope:
    store_ids: frozenset[int] | None  # None: every store (the viewer may see all)
    start: date  # first day of the period, shop time
    end: date  # last day of the period (inclusive)
    compare_start: date | None = None
    compare_end: date | None = None
    channel: str = ""  # "" every channel; else a channel key analytics defines

    def sees_store(self, store_id: int | None) -> bool:
        return self.store_ids is None or store_id in self.store_ids


@dataclass(frozen=True)
class Table:
    title: Any
    columns: tuple[Any, ...]
    rows: tuple[tuple, ...]


class Panel:
    """A block of the home or the dashboards. Subclass, set the class attributes, write
    ``context``; the template gets ``panel``, ``scope`` and what ``context`` returns."""

    key: ClassVar[str] = ""
    title: ClassVar[Any] = ""
    permission: ClassVar[str] = ""
    places: ClassVar[tuple[str, ...]] = (DASHBOARD,)
    order: ClassVar[int] = 100
    template: ClassVar[str] = ""

    def visible_to(self, user) -> bool:
        return bool(user.is_active and user.is_staff
                    and (not self.permission or user.has_perm(self.permission)))

    def context(self, request, scope: Scope) -> dict:
        raise NotImplementedError

    def tables(self, request, scope: Scope) -> list[Table]:
        """The panel's figures for download (none unless the panel says)."""
        return []


_panels: dict[str, Panel] = {}


def panel_register(cls: type[Panel]) -> type[Panel]:
    """Class decorator: add (or replace, by key) a panel."""
    if not cls.key or not cls.template:
        raise ValueError(f"{cls.__name__} needs a key and a template")
    _panels[cls.key] = cls()
    return cls


def panels_for(user, place: str) -> list[Panel]:
    """The panels ``user`` sees at ``place`` (HOME or DASHBOARD), in order."""
    return sorted((p for p in _panels.values() if place in p.places and p.visible_to(user)),
                  key=lambda p: (p.order, p.key))
