"""Celery tasks: thin and idempotent; each calls one marketing service. (The tiers'
nightly birthday coupons became the birthday journey: journeys.tasks.journeys_tick_task.)"""
