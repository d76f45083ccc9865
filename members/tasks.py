"""Celery tasks: thin and idempotent; each calls one members service."""

from celery import shared_task

from .services import tiers_refresh_all


@shared_task(acks_late=True)
def tiers_refresh_task() -> int:
    """Nightly: every member's tier from their spend over the last 12 months (spend that
    ages out lowers it). Safe to run twice. Returns how many tiers changed."""
    return tiers_refresh_all()
