"""What members tells the apps above it (journeys, analytics), which it never imports.
Sent inside the transaction of the change (see orders/signals.py for the contract).

    member_joined   a new member: signed up on the web (or through allauth's flows), or
                    registered at a store's counter. kwargs: member, channel, at
"""

from django.dispatch import Signal

member_joined = Signal()
