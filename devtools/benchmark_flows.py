"""Stateful load for `make bench`: what one fixed request cannot measure.

A scenario in devtools/benchmark_scenarios.py sends the same bytes again and again with no
cookies. Checking out needs a cart, so a client here is a shopper with a session: it
fetches its cart (the CSRF cookie), adds a piece and checks out through the API, again
and again, each of ``clients`` shoppers on a connection of its own. Two runs:

- ``checkout``: a piece with plenty of stock, for ``seconds``: throughput and latency of
  add-to-cart and of checkout under 50 parallel shoppers;
- ``checkout-race``: a fresh piece with 5 in stock and 50 shoppers at the same moment:
  exactly 5 orders, every other answer a clear 409 "sold out" (checked in the database
  afterwards by the caller).
- ``coupon-race``: 50 signed-in members check out at the same moment with the same
  fresh single-use code (a printed one): exactly 1 order carries it, the others hear
  coupon_used; then 50 with a public code (which needs a member) of an offer limited to
  5 redemptions: exactly 5 (coupon_limit_reached for the rest). Checked in the database
  afterwards.

The points read (``points-balance``) is timed in the bench database itself
(``TIME_POINTS``): a member with 10,000 ledger entries, the cached balance against the
sum of the ledger.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

HOST = "127.0.0.1"


# A guest may hold one order paid at the counter at a time (orders' hold limits, which
# the bench server cannot lift by a setting), and the demo's shopper holds some with
# 13800138000: every bench purchase gives a mobile number of its own.
_phones = itertools.count(time.time_ns() // 1000)


def contact_phone() -> str:
    return f"139{next(_phones) % 10**8:08d}"


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

    def buy(self, *, sku: str, store: str, name: str,
            coupon: str = "") -> tuple[float, float, int, str]:
        """Add one piece and check it out for pickup, paid at the counter (with the coupon
        code, when given). Returns (add seconds, checkout seconds, checkout status, error
        code)."""
        if "csrftoken" not in self.cookies:
            self.request("GET", "/api/v1/cart/")
        started = time.perf_counter()
        status, answer = self.request("POST", "/api/v1/cart/items/", {"sku": sku, "quantity": 1})
        added = time.perf_counter()
        if status >= 400:
            return added - started, 0.0, status, str(answer.get("code", ""))
        order = {"fulfilment": "pickup", "store": store, "pay_at_counter": True,
                 "contact_name": name, "contact_phone": contact_phone()}
        if coupon:
            order["coupon_code"] = coupon
        status, answer = self.request("POST", "/api/v1/checkout/", order)
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
         store: str, coupon: str = "", sessions: list[str] | None = None) -> FlowResult:
    result = FlowResult(name, clients, 0.0)
    lock = threading.Lock()
    clock: list[float] = []  # the start, set when the last shopper is ready

    def go() -> None:
        clock.append(time.perf_counter())

    barrier = threading.Barrier(clients, action=go)

    def shopper(i: int) -> None:
        me = Shopper(port, cookies={"sessionid": sessions[i]} if sessions else {})
        try:
            me.request("GET", "/api/v1/cart/")  # the CSRF cookie, before the clock starts
            barrier.wait(timeout=60)
            while True:
                add, checkout, status, code = me.buy(sku=sku, store=store, name=f"压测{i}",
                                                     coupon=coupon)
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


def coupon_race(*, port: int, clients: int, sku: str, store: str, code: str, name: str,
                sessions: list[str]) -> FlowResult:
    """Every member once (signed in with ``sessions``), at the same moment, checking out
    with the same code."""
    return _run(name, port=port, clients=clients, seconds=None, sku=sku, store=store,
                coupon=code, sessions=sessions)


# The head of the scripts below that need a signed-in user: ``signed_in(user)`` saves a
# session of theirs and returns its key (the ``sessionid`` cookie).
SIGN_IN = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils.module_loading import import_string
def signed_in(user):
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The first backend that can fetch a user (django-axes' comes first and cannot).
    session[BACKEND_SESSION_KEY] = next(path for path in settings.AUTHENTICATION_BACKENDS
                                        if hasattr(import_string(path), "get_user"))
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key
"""

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
PREPARE_DESK = SIGN_IN + """
import json
from members.models import User
from orders.models import Order
from stores.models import Store
store = Store.objects.get(code="sh-njxl")
order = (Order.objects.filter(store=store, status="ready_for_pickup").exclude(pickup_code="")
         .order_by("pk").first())
clerk = User.objects.filter(is_superuser=True).order_by("pk").first()
print(json.dumps({"store": store.code, "code": order.pickup_code if order else "",
                  "session": signed_in(clerk)}))
"""

# Fresh offers for the coupon scenarios (new each run, so runs never interfere; 5% off with
# no minimum, so any piece qualifies): a public code without limits for the check, a
# printed single-use code and a public code of an offer limited to 5 redemptions for the
# races. Public codes need a signed-in member: 50 bench members (made once, their carts
# emptied) with a session each, and a CSRF secret for the check's POST. The check's
# answer is verified here with the engine itself.
PREPARE_COUPONS = SIGN_IN + """
import json, time
from decimal import Decimal
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.crypto import get_random_string
from catalog.models import Variant
from catalog.pricing import variant_price
from members.models import CouponDefinition
from members.services import coupon_batch_create, coupon_public_create
from members.services.coupons import coupon_check
from members.models import User
from members.services import member_profile_ensure
from orders.models import Cart
from stores.models import StockLevel, Store
from stores.services import stock_receive
members = []
for i in range(50):
    email = f"bench.shopper.{i:02d}@o2o.example"
    member = User.objects.filter(email=email).first()
    if member is None:
        member = User.objects.create_user(email, None, name=f"压测会员{i:02d}")
    member_profile_ensure(user=member)
    members.append(member)
Cart.objects.filter(member__in=members).delete()
sessions = [signed_in(member) for member in members]
store = Store.objects.get(code="sh-njxl")
plenty = (Variant.objects.filter(is_active=True, product__is_active=True, pricing_mode="fixed")
          .order_by("pk").first())
level = StockLevel.objects.filter(store=store, variant=plenty).first()
if level is None or level.on_hand - level.reserved < 100000:
    stock_receive(store=store, variant=plenty, quantity=200000)
tag = str(time.time_ns() % 10**9)
def offer(name, **fields):
    return CouponDefinition.objects.create(name=f"bench {name} {tag}", kind="percent",
                                           value=Decimal("5"), **fields)
check = coupon_public_create(definition=offer("check"), code="BCHK" + tag, actor=None)
batch = coupon_batch_create(definition=offer("single"), quantity=1, actor=None)
limited = coupon_public_create(definition=offer("limit", total_limit=5),
                               code="BLIM" + tag, actor=None)
price = variant_price(variant=plenty).amount
quote = coupon_check(code=check.code, member=members[0], channel="online",
                     lines=[(plenty, price)])
assert quote.discount > 0, quote
print(json.dumps({"store": store.code, "sku": plenty.sku, "check": check.code,
                  "single": batch.coupons.get().code, "limited": limited.code, "limit": 5,
                  "discount": str(quote.discount), "sessions": sessions,
                  "csrf": get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)}))
"""

CHECK_COUPON_RACE = """
from members.models import Coupon, Redemption
from orders.models import Order
coupon = Coupon.objects.select_related("definition").get(code="{code}")
redeemed = Redemption.objects.filter(definition=coupon.definition, reversed_at__isnull=True)
orders = Order.objects.filter(coupon_code="{code}")
assert redeemed.count() == {wanted} and orders.count() == {wanted}, (redeemed.count(),
                                                                      orders.count())
assert set(orders.values_list("number", flat=True)) == set(redeemed.values_list("reference",
                                                                               flat=True))
print(f"[bench]   {{orders.count()}} orders carry {code} (wanted {wanted}), none more")
"""

# A member with 10,000 ledger entries (made once, in bulk) and a signed-in session of
# theirs for GET /api/v1/me/ and /api/v1/me/points/.
PREPARE_POINTS = SIGN_IN + """
import json, random
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from members.models import PointsEntry, User
from members.services import member_profile_ensure, points_balance_rebuild
ENTRIES = 10_000
member = User.objects.filter(email="bench.points@o2o.example").first()
if member is None:
    member = User.objects.create_user("bench.points@o2o.example", None, name="压测会员")
member_profile_ensure(user=member)
have = PointsEntry.objects.filter(member=member).count()
if have < ENTRIES:
    rng, now = random.Random(have), timezone.now()
    rows = []
    for i in range(have, ENTRIES):
        at = now - timedelta(minutes=50 * (ENTRIES - i))
        if i % 4 == 3:
            rows.append(PointsEntry(member=member, kind="redeem", points=-rng.randint(1, 50) * 10,
                                    reference=f"BENCH{member.pk}R{i}", channel="online",
                                    created_at=at))
        else:
            spend = Decimal(rng.randint(200, 9000))
            rows.append(PointsEntry(member=member, kind="earn", points=int(spend), spend=spend,
                                    reference=f"BENCH{member.pk}E{i}", channel="store",
                                    created_at=at))
    PointsEntry.objects.bulk_create(rows, batch_size=2000)
    points_balance_rebuild(member_ids=[member.pk])
print(json.dumps({"member": member.pk, "session": signed_in(member),
                  "entries": PointsEntry.objects.filter(member=member).count()}))
"""

# The member's balance read in this process (one connection, warmed up), many times:
# the cached balance (what pages and the API read) against the ledger's sum.
TIME_POINTS = """
import json, math, time
from members.models import User
from members.services import points_balance, points_ledger_sum
member = User.objects.get(pk={member})
def timed(call, times):
    for _ in range(min(times, 50)):
        call()
    took = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    return took
balance = points_balance(member=member)
assert balance == points_ledger_sum(member=member), "the cache is not the ledger's sum"
print(json.dumps({{"balance": balance,
                   "points_balance": timed(lambda: points_balance(member=member), 2000),
                   "points_ledger_sum": timed(lambda: points_ledger_sum(member=member), 300)}}))
"""


# --- The busy shop: browsing while selling ----------------------------------------------

# Pieces of the bench catalog on a shop floor, in a random order: what the background
# purchases of the "busy" scenarios buy, each at the shop that has it (so some sell out
# there, as in a real shop: the lists' floor token moves, not only the product pages').
PREPARE_BUSY = """
import json, random
from django.db.models import F
from stores.models import StockLevel
rows = list(StockLevel.objects.filter(variant__sku__startswith="B", store__kind="store",
                                      store__is_active=True, on_hand__gt=F("reserved"))
            .values_list("variant__sku", "store__code")[:20000])
random.Random(11).shuffle(rows)
print(json.dumps({"pieces": rows[:5000]}))
"""

CHECK_NOT_OVERSOLD = """
from django.db.models import F
from stores.models import StockLevel
bad = StockLevel.objects.filter(reserved__gt=F("on_hand")).count()
negative = StockLevel.objects.filter(on_hand__lt=0).count()
assert bad == 0 and negative == 0, (bad, negative)
print("[bench]   nothing oversold: no stock row holds more reserved than on hand")
"""


class Purchases:
    """Shoppers buying at ``rate`` a second in the background (each purchase a new
    shopper: cart, add, checkout for pickup at the shop that has the piece, paid at the
    counter), for the "busy" scenarios."""

    def __init__(self, port: int, pieces: list[list[str]], rate: float = 4.0):
        self.port, self.pieces, self.rate = port, pieces, rate
        self.statuses: dict[str, int] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._next = 0
        self.started = self.stopped = 0.0

    def _buy(self, sku: str, store: str) -> None:
        try:
            _add, _checkout, status, code = Shopper(self.port).buy(sku=sku, store=store,
                                                                   name="压测")
            with self._lock:
                key = f"{status} {code}".strip()
                self.statuses[key] = self.statuses.get(key, 0) + 1
        except Exception as exc:  # counted; the browsing load goes on
            with self._lock:
                self.errors.append(repr(exc)[:200])

    def _loop(self) -> None:
        self.started = time.perf_counter()
        n = 0
        while not self._stop.is_set() and self._next < len(self.pieces):
            due = self.started + n / self.rate
            if self._stop.wait(max(0.0, due - time.perf_counter())):
                break
            sku, store = self.pieces[self._next]
            self._next += 1
            n += 1
            thread = threading.Thread(target=self._buy, args=(sku, store), daemon=True)
            thread.start()
            self._threads.append(thread)

    def start(self) -> None:
        self._stop.clear()
        self.statuses, self.errors, self._threads = {}, [], []
        self._loop_thread = threading.Thread(target=self._loop, daemon=True)
        self._loop_thread.start()

    def stop(self) -> dict:
        self._stop.set()
        self._loop_thread.join(timeout=30)
        self.stopped = time.perf_counter()
        for thread in self._threads:
            thread.join(timeout=60)
        placed = sum(n for k, n in self.statuses.items() if k.startswith("201"))
        seconds = self.stopped - self.started
        return {"purchases": placed, "per_second": round(placed / seconds, 2) if seconds else 0,
                "statuses": dict(self.statuses), "errors": len(self.errors)}

# A signed-in member with a piece in the bag, for the member-* page scenarios.
PREPARE_MEMBER = SIGN_IN + """
import json
from catalog.models import Variant
from members.models import User
from members.services import member_profile_ensure
from orders.models import Cart, CartLine
member = User.objects.filter(email="bench.member@o2o.example").first()
if member is None:
    member = User.objects.create_user("bench.member@o2o.example", None, name="压测会员")
member_profile_ensure(user=member)
cart, _created = Cart.objects.get_or_create(member=member)
if not CartLine.objects.filter(cart=cart).exists():
    piece = Variant.objects.filter(sku__startswith="B").order_by("pk").first()
    CartLine.objects.create(cart=cart, variant=piece, quantity=1, price_seen=piece.list_price)
print(json.dumps({"session": signed_in(member)}))
"""
