import pytest

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
