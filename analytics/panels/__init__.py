"""analytics' own panels, registered in o2o.dashboard like any other app's (imported by
AnalyticsConfig.ready): the home per role, and the dashboards' sections."""

from . import funnels, home, members, places, sales, staff, stock  # noqa: F401
