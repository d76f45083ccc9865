"""Stateful load for `make bench`: what one fixed request cannot measure.

A scenario in o2o/benchmark_scenarios.py sends the same bytes again and again with no
cookies. Checking out needs a cart, so a client here is a shopper with a session: it
fetches its cart (the CSRF cookie), adds a piece and checks out through the API, again
and again, each of ``clients`` shoppers on a connection of its own. Two runs:

- ``checkout``: a piece with plenty of stock, for ``seconds``: throughput and latency of
  add-to-cart and of checkout under 50 parallel shoppers;
- ``checkout-race``: a fresh piece with 5 in stock and 50 shoppers at the same moment:
  exactly 5 orders, every other answer a clear 409 "sold out" (checked in the database
  afterwards by the caller).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

HOST = "127.0.0.1"


@dataclass
class Shopper:
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Accept": "application/json", "Host": HOST}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            payload = {}
        return response.status, payload if isinstance(payload, dict) else {}

    def buy(self, *, sku: str, store: str, name: str) -> tuple[float, float, int, str]:
        """Add one piece and check it out for pickup, paid at the counter.
        Returns (add seconds, checkout seconds, checkout status, error code)."""
        if "csrftoken" not in self.cookies:
            self.request("GET", "/api/v1/cart/")
        started = time.perf_counter()
        status, answer = self.request("POST", "/api/v1/cart/items/", {"sku": sku, "quantity": 1})
        added = time.perf_counter()
        if status >= 400:
            return added - started, 0.0, status, str(answer.get("code", ""))
        status, answer = self.request("POST", "/api/v1/checkout/", {
            "fulfilment": "pickup", "store": store, "pay_at_counter": True,
            "contact_name": name, "contact_phone": "13800138000"})
        done = time.perf_counter()
        if status >= 400:  # leave the cart empty for the next round
            self.request("DELETE", f"/api/v1/cart/items/{sku}/", {})
        return added - started, done - added, status, str(answer.get("code", ""))


@dataclass
class FlowResult:
    name: str
    clients: int
    seconds: float
    add_ms: list[float] = field(default_factory=list)
    checkout_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def count(self, status: int, code: str = "") -> None:
        key = f"{status} {code}".strip()
        self.statuses[key] = self.statuses.get(key, 0) + 1


def _run(name: str, *, port: int, clients: int, seconds: float | None, sku: str,
         store: str) -> FlowResult:
    result = FlowResult(name, clients, 0.0)
    lock = threading.Lock()
    clock: list[float] = []  # the start, set when the last shopper is ready

    def go() -> None:
        clock.append(time.perf_counter())

    barrier = threading.Barrier(clients, action=go)

    def shopper(i: int) -> None:
        me = Shopper(port)
        try:
            me.request("GET", "/api/v1/cart/")  # the CSRF cookie, before the clock starts
            barrier.wait(timeout=60)
            while True:
                add, checkout, status, code = me.buy(sku=sku, store=store, name=f"压测{i}")
                with lock:
                    result.add_ms.append(add * 1000)
                    if checkout:
                        result.checkout_ms.append(checkout * 1000)
                    result.count(status, code)
                if seconds is None or time.perf_counter() >= clock[0] + seconds:
                    return
        except Exception as exc:  # reported in the table; the run goes on
            with lock:
                result.errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=shopper, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=(seconds or 0) + 180)
    result.seconds = time.perf_counter() - clock[0] if clock else 0.0
    return result


def checkout_throughput(*, port: int, clients: int, seconds: float, sku: str,
                        store: str) -> FlowResult:
    return _run("checkout", port=port, clients=clients, seconds=seconds, sku=sku, store=store)


def checkout_race(*, port: int, clients: int, sku: str, store: str) -> FlowResult:
    """Every shopper once, at the same moment, for the same few pieces."""
    return _run("checkout-race", port=port, clients=clients, seconds=None, sku=sku, store=store)


# Run by ``manage.py shell -c`` in the bench database before the flows: prints the
# pieces to buy. The race piece is new each run (5 in stock), so runs never interfere.
PREPARE = """
import json, time
from decimal import Decimal
from catalog.models import Variant
from stores.models import StockLevel, Store
from stores.services import stock_receive
store = Store.objects.get(code="sh-njxl")
plenty = (Variant.objects.filter(is_active=True, product__is_active=True, pricing_mode="fixed")
          .order_by("pk").first())
level = StockLevel.objects.filter(store=store, variant=plenty).first()
if level is None or level.on_hand - level.reserved < 100000:
    stock_receive(store=store, variant=plenty, quantity=200000)
race = Variant.objects.create(product=plenty.product, sku=f"RACE-{time.time_ns() % 10**12}",
                              pricing_mode="fixed", list_price=Decimal("999.00"))
stock_receive(store=store, variant=race, quantity=5)
print(json.dumps({"store": store.code, "plenty": plenty.sku, "race": race.sku}))
"""

CHECK_RACE = """
from orders.models import OrderLine
from stores.models import StockLevel
level = StockLevel.objects.get(store__code="{store}", variant__sku="{sku}")
sold = OrderLine.objects.filter(sku="{sku}").count()
assert sold == 5 and level.reserved == 5 and level.on_hand == 5, (sold, level.reserved)
print(f"[bench]   {{sold}} orders for 5 pieces, none oversold")
"""

# A signed-in clerk's session and a pickup waiting at the store, for the desk lookup.
PREPARE_DESK = """
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from members.models import User
from orders.models import Order
from stores.models import Store
store = Store.objects.get(code="sh-njxl")
order = (Order.objects.filter(store=store, status="ready_for_pickup").exclude(pickup_code="")
         .order_by("pk").first())
clerk = User.objects.filter(is_superuser=True).order_by("pk").first()
session = import_module(settings.SESSION_ENGINE).SessionStore()
session[SESSION_KEY] = str(clerk.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = clerk.get_session_auth_hash()
session.save()
print(json.dumps({"store": store.code, "code": order.pickup_code if order else "",
                  "session": session.session_key}))
"""
