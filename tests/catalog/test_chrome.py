"""The page chrome (catalog.chrome): rendered once per language, category menu and sign-in
state, filled per request. Nothing of one visitor may reach another, the language and the
catalog show at once, and the forms in it carry a token that works."""
# The shop fixture is test_views' (imported below): its parameters are not redefinitions.
# ruff: noqa: F811

import re

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.urls import reverse

from catalog import chrome
from catalog.cache import _bump
from catalog.models import Category, Variant, WishlistItem
from orders.models import Cart, CartLine
from orders.services.cart import cart_add
from tests.members.factories import UserFactory

from .test_views import LIST, _default_language, product_url, shop  # noqa: F401

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def bag_count(html: str) -> str:
    """The header's count as shown: its digits, or "hidden" when the bag is empty."""
    found = re.search(r"data-cart-count( hidden)?>(\d+)<", html)
    assert found, "the header has no bag count"
    return "hidden" if found.group(1) else found.group(2)


def heart_pressed(html: str) -> bool:
    return 'aria-pressed="true"' in html


def normalized(html: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value="-"', html)


@pytest.fixture
def two_members(shop):
    """Ann has two pieces in her bag and the solitaire in her wishlist; Bo has neither."""
    ann = UserFactory(email="ann@example.com", name="Ann Lee")
    bo = UserFactory(email="bo@example.com", name="Bo Chen")
    bag = Cart.objects.create(member=ann)
    for sku in ("DIAMOND-SOLI-10", "GOLD-RING-12"):
        cart_add(cart=bag, variant=Variant.objects.get(sku=sku))
    WishlistItem.objects.create(user=ann, product=shop["diamond-solitaire"])
    return ann, bo


@pytest.mark.parametrize("page", ["/", "/en/", LIST, f"{LIST}?q=ring", "product"])
def test_a_second_member_never_sees_the_firsts_bag_heart_or_token(shop, two_members, page):
    ann, bo = two_members
    url = product_url(shop["diamond-solitaire"]) if page == "product" else page
    first, second = Client(), Client()
    first.force_login(ann)
    second.force_login(bo)

    anns = first.get(url).content.decode()  # her page fills the shells
    bos = second.get(url).content.decode()

    assert bag_count(anns) == "2" and bag_count(bos) == "hidden"
    if page == "product":
        assert heart_pressed(anns) and not heart_pressed(bos)
    ann_token, bo_token = set(TOKEN.findall(anns)), set(TOKEN.findall(bos))
    assert ann_token and bo_token and not ann_token & bo_token
    assert not any(ann.email in shell or ann.name in shell or token in shell
                   for shell in chrome._shells.values() for token in ann_token)
    # Signed out: the anonymous chrome (sign-in links, no logout form, no token).
    first.logout()
    theirs = first.get(url).content.decode()
    assert bag_count(theirs) == "hidden" and "account/logout" not in theirs
    assert reverse("account_login") in theirs and not TOKEN.search(theirs)


def test_a_warm_shell_gives_the_same_page_as_a_cold_one(shop, two_members):
    """What one request filled in stays out of the next: the page after another visitor
    (other words searched, another bag, another menu entry current) is the page rendered
    from nothing."""
    ann, bo = two_members
    first, second = Client(), Client()
    first.force_login(ann)
    second.force_login(bo)
    first.get(f"{LIST}?q=pearl&category=rings")
    url = f"{LIST}?q=%3Cb%3E%22gold&category=necklaces"
    warm = second.get(url).content.decode()
    chrome._shells.clear()
    cold = second.get(url).content.decode()
    assert normalized(warm) == normalized(cold)
    assert 'value="&lt;b&gt;&quot;gold"' in warm  # the search box's words, escaped
    header = warm.split("<main", 1)[0]
    assert "pearl" not in header
    necklaces = reverse("catalog:product_list") + "?category=necklaces"
    assert f'href="{necklaces}" aria-current="page"' in header
    assert header.count('aria-current="page"') == 1


def test_the_menu_marks_the_page_it_is_on(client, shop, member):
    client.force_login(member)
    everything = client.get(LIST).content.decode()
    assert f'href="{LIST}" aria-current="page"' in everything
    rings = client.get(f"{LIST}?category=rings").content.decode()
    assert f'href="{LIST}" aria-current="page"' not in rings
    assert f'href="{LIST}?category=rings" aria-current="page"' in rings
    bag = client.get(reverse("orders:cart")).content.decode()
    assert f'href="{reverse("orders:cart")}" aria-label="购物袋" aria-current="page"' in bag


def test_a_language_switch_shows_the_other_languages_chrome(client, shop, member):
    client.force_login(member)
    url = product_url(shop["diamond-solitaire"])
    chinese = client.get(url).content.decode()
    english = client.get(f"/en{url}").content.decode()
    assert "退出登录" in chinese and "Sign out" not in chinese
    assert "Sign out" in english and "退出登录" not in english
    assert ">Rings<" in english and ">戒指<" in chinese  # the category menu's language
    # Each page links to itself in the other language.
    assert f'class="lang-switch" href="/en{url}"' in chinese
    assert f'class="lang-switch" href="{url}"' in english
    assert f'hreflang="en" href="http://testserver/en{url}"' in chinese


def test_a_catalog_change_shows_in_the_chrome_at_once(client, shop, member):
    client.force_login(member)
    assert ">戒指<" in client.get("/").content.decode()
    Category.objects.filter(slug="rings").update(name="指环")
    _bump()  # what catalog_changed() does on commit
    html = client.get("/").content.decode()
    assert ">指环<" in html and ">戒指<" not in html


def test_a_catalog_change_that_leaves_the_menu_reuses_the_shells(client, shop, member):
    """A price or product edit moves the catalog version, not the chrome: the shells
    rendered for the menu serve on (re-rendering them was 5 ms of each first page)."""
    client.force_login(member)
    chrome._shells.clear()
    first = client.get("/").content.decode()
    shells = dict(chrome._shells)
    assert shells
    _bump()  # a price changed: the version moves, the menu stays
    assert normalized(client.get("/").content.decode()) == normalized(first)
    assert chrome._shells == shells  # no shell rendered again


def test_the_chromes_token_works_for_adding_to_the_bag_and_signing_out(shop, member):
    """The CSRF token filled into the cached header is this visitor's own."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    html = client.get(product_url(shop["diamond-solitaire"])).content.decode()
    token = TOKEN.search(html.split("<main", 1)[0]).group(1)  # the header's logout form
    variant = Variant.objects.get(sku="DIAMOND-SOLI-10")

    refused = client.post(reverse("orders:cart_add"), {"variant": variant.pk,
                                                       "csrfmiddlewaretoken": "x" * 64})
    assert refused.status_code == 403
    added = client.post(reverse("orders:cart_add"), {"variant": variant.pk,
                                                     "csrfmiddlewaretoken": token})
    assert added.status_code == 302
    assert CartLine.objects.get(cart__member=member).variant == variant
    assert bag_count(client.get("/").content.decode()) == "1"

    out = client.post(reverse("account_logout"), {"csrfmiddlewaretoken": token})
    assert out.status_code == 302
    assert "_auth_user_id" not in client.session
    assert bag_count(client.get("/").content.decode()) == "hidden"


def test_a_slot_outside_the_chrome_is_refused():
    with pytest.raises(TemplateSyntaxError, match="outside"):
        Template('{% load chrome_tags %}{% slot "q" %}').render(Context())


def test_the_policy_allows_the_inline_script_the_chrome_shows(client, shop, member):
    """The no-js switch moved into includes/head.html with the chrome: the
    Content-Security-Policy's hash must follow it (o2o/csp.py), or browsers block it."""
    import base64
    import hashlib

    client.force_login(member)
    response = client.get("/")
    policy = response.get("Content-Security-Policy") or response["Content-Security-Policy-Report-Only"]
    inline = re.findall(r"<script>(.*?)</script>", response.content.decode(), re.S)
    assert inline
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
