"""One way to move a stateful record through its life cycle (STYLE.md "State transitions").

Each record with a status (an order, an appointment, a transfer, a service ticket) has
its table of moves, written down once, and a ``Lifecycle`` made from it. Every service
that moves the record does the same five things, in one transaction::

    locked = ORDER.lock(order)                  # 1. SELECT ... FOR UPDATE OF the row
    ...guards of its own, on the locked row...  # 2. re-check on what is really there
    ORDER.move(locked, to,                      # 3. the table says yes (else refused)
               fields={"paid_at": now},         # 4. save status + fields (update_fields)
               audit=lambda previous: ...,      # 5. write the audit row
               on_commit=[send_email])          # 6. side effects after the commit

so the checks cannot drift apart between life cycles, and nothing else assigns
``status``. ``refused`` builds the error of the record's own app (each keeps its stable
code and its sentence), a subclass of ``TransitionNotAllowed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import models, transaction

from .errors import ConflictError

M = TypeVar("M", bound=models.Model)


class TransitionNotAllowed(ConflictError):
    """The record's status does not allow this move (its life cycle's table)."""

    code = "transition_not_allowed"


def _default_refusal(record: models.Model, to: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(f"{record._meta.verbose_name} {record.pk}: "
                                f"{getattr(record, 'status', '?')} -> {to}")


@dataclass(frozen=True)
class Lifecycle(Generic[M]):
    model: type[M]
    table: Mapping[Any, frozenset]
    refused: Callable[[M, Any], TransitionNotAllowed] = _default_refusal
    status_field: str = "status"
    select_related: tuple[str, ...] = ()
    # Extra rule beyond the table (e.g. the fulfilment of an order): (record, to) -> bool.
    also: Callable[[M, Any], bool] | None = field(default=None)

    def allows(self, status: Any, to: Any, record: M | None = None) -> bool:
        """The table (and ``also``, given the record) allows ``status`` -> ``to``."""
        if to not in self.table.get(status, frozenset()):
            return False
        return record is None or self.also is None or self.also(record, to)

    def next_statuses(self, record: M) -> list:
        """Every status the record may move to now, in the table's order of statuses."""
        current = getattr(record, self.status_field)
        return [to for to in self.table if self.allows(current, to, record)]

    def lock(self, record: M) -> M:
        """The record's row, locked for this transaction (only its own row: ``of=self``)."""
        queryset = self.model._default_manager.select_for_update(of=("self",))
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        return queryset.get(pk=record.pk)

    def check(self, locked: M, to: Any) -> None:
        """Raise the record's TransitionNotAllowed unless the move is allowed now."""
        if not self.allows(getattr(locked, self.status_field), to, locked):
            raise self.refused(locked, to)

    def move(self, locked: M, to: Any, *, fields: Mapping[str, Any] | None = None,
             audit: Callable[[Any], object] | None = None,
             on_commit: Iterable[Callable[[], object]] = (),
             idempotent: bool = False) -> bool:
        """Move a row locked by ``lock`` to ``to``: check the table, set the status and
        ``fields``, save those columns (and ``updated_at`` where the model has one), call
        ``audit(previous_status)`` and schedule ``on_commit`` after the commit.

        With ``idempotent`` a record already at ``to`` is left alone (False); otherwise
        that is refused like any move the table does not list. Must run inside the
        transaction that locked the row."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("Lifecycle.move needs the transaction that locked the row")
        previous = getattr(locked, self.status_field)
        if idempotent and previous == to:
            return False
        self.check(locked, to)
        setattr(locked, self.status_field, to)
        update = [self.status_field]
        for name, value in (fields or {}).items():
            setattr(locked, name, value)
            update.append(name)
        if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
            update.append("updated_at")
        locked.save(update_fields=update)
        if audit is not None:
            audit(previous)
        for callback in on_commit:
            transaction.on_commit(callback)
        return True
