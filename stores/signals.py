"""What stores tells the apps above it, which it never imports. Sent inside the
transaction of the change (see orders/signals.py for the contract).

    appointment_completed  a try-on ended with its outcome (bought or not).
                           kwargs: appointment, outcome, at
"""

from django.dispatch import Signal

appointment_completed = Signal()
