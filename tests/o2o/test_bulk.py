"""o2o.bulk: many rows or ids as one parameter, read back exactly by PostgreSQL, whatever
the text holds (quotes, backslashes, braces, commas, NUL-free odd Unicode, nested data)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import Consent, User
from o2o.bulk import int_array, json_rows

pytestmark = pytest.mark.django_db

ODD = ['a"b', "back\\slash", "{brace}", "comma,here", "引号“中文”", "emoji 💍", "", "NULL",
       "new\nline", "tab\tx", "'single'"]


def test_json_rows_round_trip_every_odd_text_and_nested_data():
    rows = [{"n": i, "text": text, "data": {"list": [1, text], "x": None}}
            for i, text in enumerate(ODD)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT r.n, r.text, r.data FROM json_to_recordset(%s::json) "
                       "AS r(n int, text text, data jsonb) ORDER BY r.n", [json_rows(rows)])
        back = cursor.fetchall()
    assert [(n, text) for n, text, _data in back] == list(enumerate(ODD))
    # (Django reads jsonb as its text)
    assert [json.loads(data) for _n, _t, data in back] == [row["data"] for row in rows]


def test_int_array_keeps_order_nulls_and_refuses_what_is_not_a_number():
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::bigint[]", [int_array([3, None, 1, 2**40])])
        assert cursor.fetchone()[0] == [3, None, 1, 2**40]
        cursor.execute("SELECT %s::bigint[]", [int_array([])])
        assert cursor.fetchone()[0] == []
    with pytest.raises(ValueError):
        int_array(["1}; DROP TABLE x; --"])


def test_one_of_is_one_parameter_and_matches_in():
    users = [User.objects.create_user(email=f"bulk{i}@example.com", password="x")
             for i in range(5)]
    ids = [u.pk for u in users[:3]] + [10**12]
    with CaptureQueriesContext(connection) as seen:
        found = set(User.objects.filter(pk__one_of=ids).values_list("pk", flat=True))
    assert found == set(User.objects.filter(pk__in=ids).values_list("pk", flat=True))
    assert found == {u.pk for u in users[:3]}
    assert "= ANY(" in seen.captured_queries[0]["sql"]
    assert list(User.objects.filter(pk__one_of=[])) == []
    # through a relation as well
    Consent.objects.create(member=users[0], channel="email")
    assert Consent.objects.filter(member__one_of=[users[0].pk]).count() == 1
    assert Consent.objects.filter(member_id__one_of=[users[1].pk]).count() == 0
