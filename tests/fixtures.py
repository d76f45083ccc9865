"""Fixtures and builders the test packages share; tests/conftest.py exposes the fixtures
to every test. A package or module that needs a different one (a member with a name, a
shop with stock) declares its own under the same name: pytest takes the nearest.

Builders here are plain functions (``staff_of``); fixtures are the people and clients
most tests start from (``member``, ``signed_in``, ``superuser``, ``admin_client_``).
"""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from members import roles
from o2o.celery import app as celery_app
from stores.models import StaffAssignment
from tests.members.factories import StaffFactory, UserFactory


def staff_of(*stores, group: str | None = roles.STORE_STAFF, role: str | None = None,
             sync_roles: bool = False):
    """A staff user in ``group`` (None: no group), assigned to each of ``stores`` (with
    ``role``, else the model's default). ``sync_roles`` first creates the role groups."""
    if sync_roles:
        roles.roles_sync(apps)
    user = StaffFactory()
    if group:
        user.groups.add(Group.objects.get(name=group))
    extra = {"role": role} if role else {}
    for store in stores:
        StaffAssignment.objects.create(user=user, store=store, **extra)
    return user


@pytest.fixture
def member(db):
    """A shopper with an account (phone and e-mail, no profile yet)."""
    return UserFactory()


@pytest.fixture
def signed_in(client, member):
    """The test client, signed in as ``member``."""
    client.force_login(member)
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client_(client, superuser):
    """The test client, signed in to the admin as a superuser made by our factory."""
    client.force_login(superuser)
    return client


@pytest.fixture
def eager():
    """Celery runs tasks in the caller's thread for the test, as .delay() is called."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before
