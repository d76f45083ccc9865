"""What analytics hears from the other apps (they never import analytics).

- A product view (catalog) and a shopper's steps (orders: bag, checkout, placed) become
  events in the Redis buffer, with the kind of device the browser is.
- A placed order's device rides on its "placed" event; the buffer's flush records it
  (analytics.services.events) and marks the order for the fold. The request itself
  writes nothing to the database for analytics.

Changed orders are marked for the fold by a trigger on their audit rows, in the change's
own transaction (migration analytics/0004).
"""

from django.dispatch import receiver

from catalog.signals import product_viewed
from orders.signals import shopper_step

from .buffer import event_push
from .devices import device_of


@receiver(product_viewed, dispatch_uid="analytics-product-viewed")
def product_viewed_record(sender, product_id, user=None, session_key="", user_agent="",
                          **kwargs):
    event_push(kind="product.viewed", product_id=product_id,
               user_id=user.pk if user is not None and user.is_authenticated else None,
               session_key=session_key or "", channel="online",
               data={"device": device_of(user_agent)})


@receiver(shopper_step, dispatch_uid="analytics-shopper-step")
def shopper_step_record(sender, step, order=None, user=None, session_key="", user_agent="",
                        **kwargs):
    event_push(kind=f"shop.{step}",
               user_id=user.pk if user is not None and user.is_authenticated else None,
               session_key=session_key or "", channel="online",
               data={"device": device_of(user_agent),
                     **({"order": order.number, "order_id": order.pk} if order else {})})
