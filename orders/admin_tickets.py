"""Admin for after-sales service tickets (imported by orders/admin.py)."""
