"""Every write to stores, stock, transfers and appointments (see each module's lock notes).

Callers: admin, views, API, tasks, the demo loader, and orders (stock_reserve,
reserve_lines, reservations_close, reservation_commit, reservation_release, and for a
pickup whose pieces come by transfer transfer_create_locked and transfers_release_for).
"""

from .appointments import (
    TRANSITIONS as APPOINTMENT_TRANSITIONS,
)
from .appointments import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_create_historical,
    appointment_no_show,
    appointment_reschedule,
)
from .counts import stock_count_apply
from .emails import appointment_emails_enqueue
from .stock import (
    ReserveLine,
    reservation_commit,
    reservation_release,
    reservations_close,
    reservations_expire,
    reserve_lines,
    stock_receive,
    stock_reserve,
)
from .transfers import (
    TRANSITIONS as TRANSFER_TRANSITIONS,
)
from .transfers import (
    transfer_cancel,
    transfer_create,
    transfer_create_locked,
    transfer_receive,
    transfer_ship,
    transfers_release_for,
)
from .tryon_sales import (
    TryOnSale,
    appointment_holds_hand_over,
    tryon_sales,
    tryon_sales_register,
)

__all__ = [
    "APPOINTMENT_TRANSITIONS", "TRANSFER_TRANSITIONS", "ReserveLine", "TryOnSale",
    "appointment_holds_hand_over", "tryon_sales", "tryon_sales_register",
    "appointment_book", "appointment_cancel", "appointment_check_in", "appointment_complete",
    "appointment_create_historical",
    "appointment_emails_enqueue", "appointment_no_show",
    "appointment_reschedule", "reservation_commit", "reservation_release", "reservations_close",
    "reservations_expire", "reserve_lines",
    "stock_count_apply", "stock_receive", "stock_reserve", "transfer_cancel", "transfer_create",
    "transfer_create_locked", "transfer_receive", "transfer_ship", "transfers_release_for",
]
