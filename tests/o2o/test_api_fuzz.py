"""A bounded schemathesis run over the whole API, as a guest and as a signed-in member:
every operation of /api/schema/ gets generated requests (valid and invalid ones), and any
5xx, any status the schema does not list, or any body or content type that disagrees
with the schema fails the test. Examples per operation are few and derandomised, so the
run stays under a minute and fails the same way twice."""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from stores.services import stock_receive
from tests.catalog.factories import VariantFactory
from tests.members.factories import UserFactory
from tests.stores.factories import StoreFactory

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())

BOUNDED = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                   phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=list(HealthCheck))


@pytest.fixture
def shop(db):
    """A little shop for the requests to find (a store with stock, a member) and the
    headers of a guest's and of the member's browser session. Then, as Django's test
    client does, the test's connection (inside its transaction) stays open across the
    WSGI requests instead of being closed at the end of each."""
    store = StoreFactory(code="fuzz-sh")
    variant = VariantFactory(sku="FUZZ-1")
    stock_receive(store=store, variant=variant, quantity=3)
    member = UserFactory(email="fuzz@example.com", phone="+8613900009999")
    world = {"store": store, "variant": variant, "member": member,
             "guest_headers": session_headers(), "member_headers": session_headers(member)}
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield world
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def session_headers(user=None) -> dict[str, str]:
    """Cookies and the CSRF header of a browser session (signed in as ``user``)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    client.get("/api/v1/cart/")
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "X-CSRFToken": cookies.get("csrftoken", "")}


@pytest.mark.django_db
@schema.parametrize()
@BOUNDED
def test_the_api_as_a_guest(case, shop):
    case.call_and_validate(headers=shop["guest_headers"], checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@BOUNDED
def test_the_api_as_a_member(case, shop):
    case.call_and_validate(headers=shop["member_headers"], checks=CHECKS)
