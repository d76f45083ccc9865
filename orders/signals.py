"""What orders tells the apps above it (feedback, marketing, analytics), which it never
imports.

Sent inside the transaction of the change, once the change is written, so a listener
writes its own rows (a survey invitation, a journey step, an outbox message) in the same
transaction: they commit, or roll back, with the change. Listeners must be quick, must
not call the network, and must not swallow errors they cannot handle.

    order_handed_over  the pieces reached the shopper: collected at the store (a pickup,
                       or a counter sale) or delivered. kwargs: order, at
    ticket_closed      an after-sales ticket was closed (done). kwargs: ticket, at
"""

from django.dispatch import Signal

order_handed_over = Signal()
ticket_closed = Signal()
