"""What analytics hears from the other apps (they never import analytics)."""

from django.dispatch import receiver

from catalog.signals import product_viewed

from .buffer import event_push


@receiver(product_viewed, dispatch_uid="analytics-product-viewed")
def product_viewed_record(sender, product_id, user=None, session_key="", **kwargs):
    event_push(kind="product.viewed", product_id=product_id,
               user_id=user.pk if user is not None and user.is_authenticated else None,
               session_key=session_key or "", channel="online")
