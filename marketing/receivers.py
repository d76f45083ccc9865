"""What marketing hears from the apps below it: a signed-in member viewed a product
(catalog.signals.product_viewed) becomes one push onto the views buffer. Guests and staff
are never in a segment, so their views are not kept here (analytics keeps every view)."""

from django.dispatch import receiver

from catalog.signals import product_viewed

from .buffer import view_push


@receiver(product_viewed, dispatch_uid="marketing-product-viewed")
def product_viewed_remember(sender, product_id, user=None, **kwargs):
    if user is None or not user.is_authenticated or user.is_staff:
        return
    view_push(member_id=user.pk, product_id=product_id)
