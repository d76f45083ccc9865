import pytest
from django.contrib.auth.models import Group

from members.roles import MARKETER
from tests.members.factories import StaffFactory


@pytest.fixture
def marketer(db):
    user = StaffFactory(email="marketer@example.com")
    user.groups.add(Group.objects.get(name=MARKETER))
    return user


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client
