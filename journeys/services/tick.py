"""The tick: the daily sweeps, then due enrolments in batches until none is left (or
the time is up: the next tick goes on). Any number of ticks may run at once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from .engine import BATCH_SIZE, RunResult, enrolments_run_batch
from .triggers import journeys_sweep


@dataclass
class TickResult:
    entered: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    run: RunResult = field(default_factory=RunResult)


def journeys_tick(*, now: datetime | None = None, batch_size: int = BATCH_SIZE,
                  sweep: bool = True, max_seconds: float = 240.0,
                  durable: bool = True) -> TickResult:
    now = now or timezone.now()
    result = TickResult()
    if sweep:
        result.entered = journeys_sweep(now=now)
    started = time.monotonic()
    while time.monotonic() - started < max_seconds:
        batch = enrolments_run_batch(now=now, batch_size=batch_size, durable=durable)
        if not batch.claimed:
            break
        result.batches += 1
        total = result.run
        total.claimed += batch.claimed
        total.sent += batch.sent
        total.completed += batch.completed
        total.exited += batch.exited
        total.waiting += batch.waiting
        for reason, n in batch.skipped.items():
            total.skipped[reason] = total.skipped.get(reason, 0) + n
        if batch.claimed < batch_size:
            break
    return result
