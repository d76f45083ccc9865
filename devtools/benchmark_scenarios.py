"""What `make bench` measures: one line per scenario.

    Scenario("catalog", "/catalog/"),
    Scenario("catalog-en", "/en/catalog/", compare_to="home-en"),
    Scenario("api-products", "/api/v1/products/", headers={"Accept": "application/json"}),
    Scenario("book", "/api/v1/bookings/", method="POST", body={"slot": 1}, expect_status=201),

``path`` is requested on 127.0.0.1 with a fresh (anonymous, cookie-less) request each
time over kept-alive connections. ``body``: bytes or str as they are, a dict or list
as JSON (Content-Type: application/json unless ``headers`` says otherwise).
``expect_status``: one status or a tuple of them; any other answer is an error.
``compare_to`` names the scenario whose requests/s the "vs" column divides by (the
bare Django view unless told otherwise; it is run even when ``--only`` leaves it out).
``connections``: this scenario's number of concurrent connections, when it differs
from the runner's ``--connections`` (e.g. bookings under heavier parallel load).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

BASELINE = "bare"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    method: str = "GET"
    body: bytes | str | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect_status: int | tuple[int, ...] = 200
    compare_to: str | None = BASELINE
    connections: int | None = None
    # Python run by ``manage.py shell -c`` once the scenario has been loaded: it raises
    # (and the bench fails) when the load left the data wrong, e.g. an overbooked seat.
    check: str | None = None
    # "purchases": shoppers buy pieces of the bench catalog in the background while this
    # scenario's load runs (the busy shop: benchmark_flows.Purchases, 4 a second).
    background: str | None = None

    @property
    def expected(self) -> frozenset[int]:
        statuses = self.expect_status
        return frozenset((statuses,) if isinstance(statuses, int) else statuses)

    def request_bytes(self, host: str) -> bytes:
        """The whole HTTP/1.1 request, sent as it is for every repetition."""
        headers = {"Host": host, "User-Agent": "o2o-bench/1", "Accept": "*/*"}
        body = self.body
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode()
        headers.update(self.headers)
        if body is not None or self.method.upper() in {"POST", "PUT", "PATCH"}:
            headers["Content-Length"] = str(len(body or b""))
        head = f"{self.method.upper()} {self.path} HTTP/1.1\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return (head + "\r\n").encode("latin-1") + (body or b"")


# The first is the baseline every other scenario is compared with.
SCENARIOS: list[Scenario] = [
    Scenario(BASELINE, "/bench/bare", compare_to=None),
    Scenario("home", "/"),
    Scenario("home-en", "/en/"),
    # The catalog on the bench data (load_bench_data: 10,000 products, 40,000 variants).
    Scenario("list", "/products/"),
    Scenario("list-filtered", "/products/?category=rings&material=gold&sort=price&page=3"),
    Scenario("list-search", "/products/?q=%E6%88%92%E6%8C%87"),  # 戒指
    Scenario("product", "/products/bench-00042/"),
    Scenario("product-en", "/en/products/bench-00042/"),
    Scenario("api-list", "/api/v1/products/?category=necklaces&sort=-price"),
    # The busy shop: anonymous browsing while 4 purchases a second sell pieces of the
    # bench catalog (some of them the last at their shop).
    Scenario("busy-list", "/products/", background="purchases"),
    Scenario("busy-search", "/products/?q=%E6%88%92%E6%8C%87", background="purchases"),
]


# --- Stores: try-on slots and bookings (stores/api.py) ----------------------------------
def _tryon_day() -> str:
    """A day three weeks ahead in Beijing time, not one of the demo's holidays (whose short
    hours shift the grid), for a booking at 13:00 (on the 45-minute grid of sh-njxl)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    day = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=20)
    while (day.month, day.day) in {(1, 1), (5, 1), (10, 1)}:
        day += timedelta(days=1)
    return day.isoformat()


SCENARIOS += [
    # 14 days of a store's slots, no piece chosen: cached per store and day.
    Scenario("stores-slots-14d-cached", "/api/v1/stores/sh-njxl/slots/?days=14",
             headers={"Accept": "application/json"}),
    # 14 days of slots for a store and a piece: hours, closures, seats, transfer lead time.
    Scenario("stores-slots-14d", "/api/v1/stores/sh-njxl/slots/?days=14&skus=N-0006-40",
             headers={"Accept": "application/json"}),
    # 50 shoppers want the same time: the seats go (201), everyone else hears "taken" (409),
    # and afterwards no seat holds two live appointments.
    Scenario("stores-book-contended", "/api/v1/appointments/", method="POST",
             body={"store": "sh-njxl", "starts_at": f"{_tryon_day()}T13:00:00+08:00",
                   "skus": ["N-0006-40"], "name": "压测", "phone": "13800138000"},
             headers={"Accept": "application/json"}, expect_status=(201, 409), connections=50,
             check=(
                 "from datetime import datetime\n"
                 "from stores.models import ACTIVE_APPOINTMENT, Appointment, Store\n"
                 "store = Store.objects.get(code='sh-njxl')\n"
                 f"at = datetime.fromisoformat('{_tryon_day()}T13:00:00+08:00')\n"
                 "live = Appointment.objects.filter(store=store, starts_at=at,"
                 " status__in=ACTIVE_APPOINTMENT)\n"
                 "n, seats = live.count(), live.values('seat').distinct().count()\n"
                 "assert 0 < n <= store.tryon_seats and seats == n, (n, seats, store.tryon_seats)\n"
                 "print(f'[bench]   {n} bookings for {store.tryon_seats} seats, none overbooked')")),
]


# What the issue (18: fast while the shop is busy) asks of each figure, printed beside it:
# (measure, bound). "rps": requests/s as a share of the bare view's in the same run, at
# least; "cpu": server CPU per request as a multiple of the bare view's, at most; "p99"
# and "p50": milliseconds, at most (p50: the median, for the cold figures,
# devtools/benchmark_cold.py). "cpu-ms" and "p99-ms": milliseconds of CPU (a purchase's)
# and of waiting (the 50 shoppers' p99) on the issue's machine, judged as the same
# multiple of this run's bare view (ISSUE_BARE_CPU_MS; docs/decisions.md, "Issue 18's
# bounds in milliseconds").
TARGETS: dict[str, tuple[str, float]] = {
    "cold-list (10,000 products)": ("p50", 30.0),
    "cold-search (10,000 products)": ("p50", 30.0),
    "purchase CPU (fixed price)": ("cpu-ms", 10.0),
    "purchase CPU (by weight)": ("cpu-ms", 10.0),
    "busy-list": ("rps", 1 / 3),
    "busy-search": ("rps", 1 / 3),
    "member-home": ("cpu", 8.0),
    "member-list": ("cpu", 8.0),
    "member-search": ("cpu", 8.0),
    "member-product": ("cpu", 8.0),
    "stores-slots-14d-cached": ("cpu", 3.0),
    "checkout (50 shoppers)": ("p99-ms", 500.0),
}

# The bare view's server CPU a request where the issue was measured ("a bare Django JSON
# view costs about 0.21 ms of server CPU per request"). Its targets are "ratios to the
# bare view measured in the same run", so a bound it gives in milliseconds of CPU or of
# waiting is that many bare views: 10 ms of a purchase's CPU is 47.6 bare requests' CPU,
# and 500 ms of p99 is 500 ms x (this run's bare CPU a request / 0.21 ms). The cold
# pages' 30 ms are judged as written (stricter on a slower machine, and met).
ISSUE_BARE_CPU_MS = 0.21

# A figure that must not grow with the catalog: its median at most this multiple of the
# same page's over the 1,000-product catalog, in the same run.
SCALING: dict[str, tuple[str, float]] = {
    "cold-list (10,000 products)": ("cold-list (1,000 products)", 1.5),
    "cold-search (10,000 products)": ("cold-search (1,000 products)", 1.5),
}
