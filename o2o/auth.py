"""The user as the apps below members (catalog, stores) see it.

``members.User`` is AUTH_USER_MODEL, one layer above catalog and stores: they name it by
string in foreign keys (``settings.AUTH_USER_MODEL``) and annotate with ``User`` from
here, which says what they need of a person and nothing more. members.User satisfies it.
"""

from __future__ import annotations

from typing import Any, Protocol


class User(Protocol):
    pk: Any
    is_active: bool
    is_staff: bool
    is_superuser: bool
    name: str
    email: str | None
    phone: str | None
    language: str

    def has_perm(self, perm: str, obj: Any = None) -> bool: ...
