import pytest

from stores.services import stock_receive
from tests.catalog.factories import VariantFactory

from .factories import tryon_store, warehouse


@pytest.fixture
def shop(db):
    return tryon_store(code="sh-test", seats=2)


@pytest.fixture
def depot(db):
    return warehouse(code="wh-test", dispatch_days=2)


@pytest.fixture
def variant(db):
    return VariantFactory()


@pytest.fixture
def piece(shop):
    """A piece with two on hand at ``shop`` (modules that need another count declare
    their own ``piece``)."""
    variant = VariantFactory()
    stock_receive(store=shop, variant=variant, quantity=2)
    return variant
