"""Domain signals of the catalog, for observers it must not know (analytics)."""

from django.dispatch import Signal

# Sent by the product page: sender=Product, product_id, user (or None), session_key,
# user_agent (the browser's, for the funnel's devices).
product_viewed = Signal()

# Sent by catalog.services.metal_rate_create inside its transaction, for a rate in force
# now (a rate entered for later is read by its listeners' own sweeps): sender=MetalRate,
# rate (the MetalRate row), at.
metal_rate_entered = Signal()
