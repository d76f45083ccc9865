import pytest
from django.contrib.auth.models import Group

from members.roles import ANALYST, MARKETER, ROLES, STORE_MANAGER, STORE_STAFF, roles_sync

pytestmark = pytest.mark.django_db


def perms(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_the_migration_created_every_role_with_exactly_its_permissions():
    for name, wanted in ROLES.items():
        assert perms(name) == set(wanted), name


def test_roles_say_what_each_may_do():
    assert "orders.change_order" in perms(STORE_STAFF)
    assert "stores.change_stocklevel" not in perms(STORE_STAFF)
    assert "stores.change_stocklevel" in perms(STORE_MANAGER)
    assert "members.add_coupondefinition" in perms(MARKETER)
    assert "orders.change_order" not in perms(MARKETER)
    assert all(p.split(".")[1].startswith("view_") for p in perms(ANALYST))


def test_roles_sync_is_idempotent():
    from django.apps import apps

    roles_sync(apps)
    roles_sync(apps)
    assert Group.objects.filter(name__in=ROLES).count() == len(ROLES)
    assert perms(STORE_STAFF) == set(ROLES[STORE_STAFF])
