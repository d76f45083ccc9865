"""Reports read from the replica when one is configured (settings.REPORTING_DATABASE).

Only reads made inside ``reporting_reads()`` go there: the dashboards, their panels
(whichever app wrote them) and their exports are rendered inside it; every write, and
every read of the shop itself, stays on the primary. Raw SQL of analytics goes through
``reporting_connection()``, the ORM through this router. A replica lags the primary by
a moment; a report can live with that, the shop's pages could not.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

_reporting: ContextVar[bool] = ContextVar("analytics_reporting", default=False)


def reporting_alias() -> str:
    """The database reports read from now: the replica inside ``reporting_reads()`` (when
    there is one), else the primary."""
    alias = getattr(settings, "REPORTING_DATABASE", "default")
    if _reporting.get() and alias in connections.settings:
        return alias
    return "default"


def reporting_connection():
    return connections[reporting_alias()]


@contextmanager
def reporting_reads():
    token = _reporting.set(True)
    try:
        yield
    finally:
        _reporting.reset(token)


class ReportingRouter:
    def db_for_read(self, model, **hints):
        alias = reporting_alias()
        return alias if alias != "default" else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary by replication; nothing is migrated there.
        return False if db == "replica" else None
