"""Every write of analytics: events, the facts and rollups behind the dashboards, the
catalog's insights, the weekly reports and the slow movers' transfers."""

from .events import event_record, events_flush
from .insights import product_insights_refresh

__all__ = ["event_record", "events_flush", "product_insights_refresh"]
