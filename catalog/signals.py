"""Domain signals of the catalog, for observers it must not know (analytics)."""

from django.dispatch import Signal

# Sent by the product page: sender=Product, product_id, user (or None), session_key,
# user_agent (the browser's, for the funnel's devices).
product_viewed = Signal()
