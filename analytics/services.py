from django.utils import timezone

from .models import Event


def event_record(*, kind: str, user=None, session_key: str = "", product_id: int | None = None,
                 store_id: int | None = None, channel: str = "", data: dict | None = None) -> Event:
    """Append one event. The one writer of analytics.Event."""
    return Event.objects.create(
        kind=kind,
        user=user if user is not None and user.is_authenticated else None,
        session_key=session_key or "",
        product_id=product_id,
        store_id=store_id,
        channel=channel,
        at=timezone.now(),
        data=data or {},
    )
