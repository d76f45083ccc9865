"""The Chinese catalog is complete, and the committed .mo says what the .po says."""

import ast
import gettext
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def po_entries() -> list[dict]:
    entries, current, key = [], {}, None
    for raw in PO.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current.get("msgid") is not None:
                entries.append(current)
            current, key = {}, None
        elif line.startswith("#,"):
            current["flags"] = line
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line):
            key = match.group(1)
            current.setdefault(key, []).append(match.group(2))
        elif line.startswith('"') and key:
            current[key].append(line)
    return [{k: (_unquote(v) if isinstance(v, list) else v) for k, v in e.items()}
            for e in entries]


def test_every_message_has_a_chinese_translation():
    missing = [e["msgid"] for e in po_entries()
               if e["msgid"] and not (e.get("msgstr") or e.get("msgstr[0]"))]
    fuzzy = [e["msgid"] for e in po_entries() if "fuzzy" in e.get("flags", "") and e["msgid"]]
    assert missing == [], f"untranslated: {missing[:10]}"
    assert fuzzy == [], f"fuzzy (ignored at run time): {fuzzy[:10]}"


def test_the_compiled_catalog_is_up_to_date():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries():
        msgid = entry["msgid"]
        if not msgid or "msgid_plural" in entry:
            continue
        if "msgctxt" in entry:
            got = compiled.pgettext(entry["msgctxt"], msgid)
        else:
            got = compiled.gettext(msgid)
        if got != entry["msgstr"]:
            stale.append(msgid)
    assert stale == [], f"run `make messages`: {stale[:10]}"
