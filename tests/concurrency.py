"""Races on real PostgreSQL connections: each racer is a thread with its own connection."""

import threading

from django.db import connection


def race(count, work):
    """Start ``work(i)`` for i in range(count) at the same moment; return (results, errors).
    Every outcome is collected, so the test says which ones it expects."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait(timeout=20)
            results.append(work(i))
        except Exception as exc:  # every outcome is collected; the caller checks them
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    assert len(results) + len(errors) == count
    return results, errors
