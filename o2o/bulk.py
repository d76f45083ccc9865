"""Many rows or ids as one statement parameter.

Django binds parameters on the client (psycopg's ClientCursor): a Python list given for
``%s::text[]`` is quoted element by element in Python (a regular expression per string),
and ``member_id__in=ids`` compiles one placeholder per id; for a campaign batch of 500
members that was a fifth of the batch's time. Cheaper spellings of the same data:

- ``json_rows(rows)``: the rows as one JSON text, encoded by the json module's C encoder
  and read by PostgreSQL::

      INSERT INTO t (a, b)
      SELECT r.a, r.b FROM json_to_recordset(%s::json) AS r(a bigint, b text)

  (keys are the column names; a nested dict or list arrives as json, ready for jsonb);
- ``int_array(ids)``: whole numbers as one array literal for ``%s::bigint[]``;
- the lookup ``one_of`` (every field and relation; registered by o2o's AppConfig):
  ``filter(member_id__one_of=ids)`` is ``member_id = ANY('{...}'::bigint[])``, one
  parameter whatever the number of ids. Unlike ``IN (SELECT unnest(...))`` it is an
  index condition, so the plan stays an index probe per id even when the table's
  statistics are stale (a campaign grows its tables by 100,000 rows in a minute).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Field, ForeignObject, Lookup


def json_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as one JSON array of objects, for ``json_to_recordset(%s::json)``."""
    return json.dumps(list(rows), ensure_ascii=False, separators=(",", ":"))


def int_array(values: Iterable[int | None]) -> str:
    """Whole numbers (None: NULL) as a PostgreSQL array literal, for ``%s::bigint[]``."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


class OneOf(Lookup):
    """``field__one_of=[1, 2, 3]``: the field equals one of the whole numbers."""

    lookup_name = "one_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, int_array(self.rhs)]


def register_lookups() -> None:
    Field.register_lookup(OneOf)
    ForeignObject.register_lookup(OneOf)  # relations keep lookups of their own
