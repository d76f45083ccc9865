"""What orders tells the apps above it (feedback, marketing, analytics), which it never
imports.

Sent inside the transaction of the change, once the change is written, so a listener
writes its own rows (a survey invitation, a journey step, an outbox message) in the same
transaction: they commit, or roll back, with the change. Listeners must be quick, must
not call the network, and must not swallow errors they cannot handle.

    order_handed_over  the pieces reached the shopper: collected at the store (a pickup,
                       or a counter sale) or delivered. kwargs: order, at
    ticket_closed      an after-sales ticket was closed (done). kwargs: ticket, at

And one the shopper's pages send, after the fact (outside any transaction), for the
funnel: only a page knows which browser the shopper uses.

    shopper_step       a step of an online shopper: "bag" (added to the bag), "checkout"
                       (opened the checkout), "placed" (placed an order; ``order``).
                       kwargs: step, order (or None), user (or None), session_key,
                       user_agent. Send it with ``shopper_step_send(request, step)``.
"""

from django.dispatch import Signal

order_handed_over = Signal()
ticket_closed = Signal()
shopper_step = Signal()


def shopper_step_send(request, step: str, *, order=None) -> None:
    user = request.user if request.user.is_authenticated else None
    shopper_step.send(sender=None, step=step, order=order, user=user,
                      session_key=request.session.session_key or "",
                      user_agent=request.headers.get("User-Agent", ""))
