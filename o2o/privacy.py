"""The registry of a member's data, section by section (the service that exports and
erases is members.services.privacy; apps below members register here, so none of them
imports members)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PrivacySection:
    name: str
    export: Callable[[Any], Any]
    erase: Callable[[Any], None]
    blocks: Callable[[Any], str | None] | None = None
    prepare: Callable[[Any], None] | None = None


_sections: dict[str, PrivacySection] = {}


def privacy_section_register(name: str, *, export: Callable[[Any], Any],
                             erase: Callable[[Any], None],
                             blocks: Callable[[Any], str | None] | None = None,
                             prepare: Callable[[Any], None] | None = None) -> None:
    """Add (or replace, by ``name``) a section of the member's data.

    ``export(member)`` returns the section's part of the download (plain data; dates and
    Decimals are fine). ``blocks(member)`` returns why the account cannot be deleted now,
    or None. ``prepare(member)`` winds up what is in flight (runs before any section
    erases). ``erase(member)`` deletes or anonymises the section's rows. All run inside
    member_erase's transaction, with the member's User row locked."""
    _sections[name] = PrivacySection(name=name, export=export, erase=erase, blocks=blocks,
                                     prepare=prepare)


def privacy_sections() -> list[PrivacySection]:
    return list(_sections.values())


__all__ = ["PrivacySection", "privacy_section_register", "privacy_sections"]
