"""`/healthz`: is the database, Redis and the Celery broker reachable?

200 with every check ``ok`` when all are up; 503 naming the failing part otherwise.
Each probe is bounded by a short timeout so a dead dependency cannot hang the page.

``HealthCheckMiddleware`` answers it first in the stack, before anything reads the
Host header: a container's own healthcheck or a load balancer asks for
``http://127.0.0.1:8000/healthz`` (or the pod's address), which is no name in
ALLOWED_HOSTS, and must not be refused with a 400 (DisallowedHost) or redirected to
HTTPS. It reveals nothing but whether the parts answer.
"""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

PROBE_TIMEOUT_SECONDS = 2


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


def _broker() -> None:
    from o2o.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT_SECONDS)


CHECKS = {"database": _database, "redis": _redis, "broker": _broker}


@never_cache
@require_GET
def healthz(request):
    results = {}
    for name, probe in CHECKS.items():
        started = time.perf_counter()
        try:
            probe()
        except Exception as exc:  # any failure is the answer, not a crash
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    healthy = all(r["ok"] for r in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": results},
        status=200 if healthy else 503,
    )


class HealthCheckMiddleware:
    """``/healthz`` whatever the Host header; every other request passes on untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
