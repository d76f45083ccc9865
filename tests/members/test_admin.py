import pytest
from django.urls import reverse

from members.models import User

from .factories import UserFactory

pytestmark = pytest.mark.django_db

NO_INLINES = {"store_assignments-TOTAL_FORMS": "0", "store_assignments-INITIAL_FORMS": "0"}


def test_staff_add_a_user_with_a_phone_only(admin_client_):
    response = admin_client_.post(reverse("admin:members_user_add"), {
        "email": "", "phone": "138 0013 8000", "name": "林小姐",
        "password1": "Gold-ring-2026!", "password2": "Gold-ring-2026!",
        "usable_password": "true", **NO_INLINES,
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(phone="+8613800138000")
    assert user.email is None


def test_adding_a_user_with_neither_email_nor_phone_is_a_form_error(admin_client_):
    response = admin_client_.post(reverse("admin:members_user_add"), {
        "email": "", "phone": "", "password1": "Gold-ring-2026!", "password2": "Gold-ring-2026!",
        "usable_password": "true", **NO_INLINES,
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors().as_data()
    assert [error.code for error in errors] == ["no_login"]
    assert User.objects.count() == 1  # only the admin


def test_superusers_see_whole_numbers_in_the_user_list(admin_client_):
    # Who sees them masked (store staff, marketers) is in test_admin_masking.py.
    UserFactory(phone="+8613800138000")
    response = admin_client_.get(reverse("admin:members_user_changelist"))
    assert "13800138000" in response.text.replace(" ", "")
