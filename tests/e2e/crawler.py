"""A browser that does what each role's menus offer: opens every page they lead to and
sends every form on it with valid input, noting every answer of the shop that is a
4xx or 5xx (the page itself, or anything it loads from the shop).

Used by tests/e2e/test_crawl.py. A form is filled the way a person would: every field
the form requires, and the fields whose names say what they want (a mobile number, an
email, a date of birth...), with values that are valid in this shop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.utils import timezone

# Forms sent last, in this order: they empty the bag, end the account or the session,
# or turn a guest into a member.
LAST = ("/cart/remove/", "/privacy/delete", "/accounts/signup/", "/accounts/login/",
        "/logout/")
# Forms never sent: the browser's own dialog forms (no request).
NO_REQUEST_METHODS = ("dialog",)
TALL_CELL_PX = 90  # a list cell taller than this has wrapped a word a character a line


@dataclass
class Problem:
    role: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"[{self.role}] {self.where}: {self.what}"


@dataclass
class Visit:
    role: str
    base: str
    screenshots: Path
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    shots: int = 0


def same_origin(base: str, url: str) -> bool:
    return urlsplit(url).netloc == urlsplit(base).netloc


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Recorder:
    """Every answer of the shop a page's work brings, kept until read."""

    def __init__(self, page, base: str):
        self.base = base
        self.answers: list[tuple[int, str, str]] = []
        page.on("response", self._seen)

    def _seen(self, response) -> None:
        if same_origin(self.base, response.url):
            self.answers.append((response.status, response.request.method,
                                 path_of(response.url)))

    def take(self) -> list[tuple[int, str, str]]:
        answers, self.answers = self.answers, []
        return answers


def links_in(page, selector: str, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        selector, "els => els.map(e => e.href).filter(h => h)")
    found = []
    for href in hrefs:
        if not same_origin(base, href):
            continue
        path = path_of(href)
        if "#" in path or "/logout" in path or path.startswith("/media/"):
            continue
        if path.endswith((".ics", ".png", ".csv", ".json", ".svg", ".jpg")):
            continue
        found.append(path.split("#")[0])
    return list(dict.fromkeys(found))


FILL_SCRIPT = """
(form, values) => {
  const pick = (name, type) => {
    for (const [pattern, value] of values) {
      if (new RegExp(pattern).test(name)) return value;
    }
    return null;
  };
  const radios = new Set();
  for (const el of form.elements) {
    const name = el.name || "";
    const type = (el.type || "").toLowerCase();
    if (!name || el.disabled || ["hidden", "submit", "button", "reset", "file"].includes(type)) continue;
    if (type === "radio") {
      if (radios.has(name)) continue;
      radios.add(name);
      const group = [...form.querySelectorAll(`input[type=radio][name="${name}"]`)].filter(r => !r.disabled);
      const wanted = pick(name, type);
      const chosen = wanted && wanted.startsWith("!") && group.find(r => r.value === wanted.slice(1));
      if (chosen) chosen.checked = true;
      else if (!group.some(r => r.checked) && group.length) group[0].checked = true;
      continue;
    }
    if (type === "checkbox") {
      if (el.required) el.checked = true;
      continue;
    }
    if (el.tagName === "SELECT" && name === "action" && form.id === "changelist-form") {
      // An admin list's actions: the first that is not "delete", on the first row.
      const option = [...el.options].find(o => o.value && o.value !== "delete_selected");
      if (option) el.value = option.value;
      const row = form.querySelector("input.action-select");
      if (row) row.checked = true;
      continue;
    }
    if (el.tagName === "SELECT") {
      const wanted = pick(name, type);
      if (wanted !== null && wanted.startsWith("!") &&
          [...el.options].some(o => o.value === wanted.slice(1))) {
        el.value = wanted.slice(1);
      } else if (!el.value) {
        const option = [...el.options].find(o => o.value && !o.disabled);
        if (option) el.value = option.value;
      }
      continue;
    }
    const wanted = pick(name, type);
    if (wanted !== null && (!el.value || el.dataset.crawlOverride !== undefined || wanted.startsWith("!"))) {
      el.value = wanted.replace(/^!/, "");
    } else if (!el.value && el.required) {
      el.value = type === "number" ? (el.min || "1")
        : type === "date" ? values.find(([p]) => p === "__date")[1]
        : type === "email" ? "crawl@example.com"
        : "巡检";
    }
  }
}
"""

SUBMIT_SCRIPT = """
form => {
  const button = form.querySelector('button[type=submit], input[type=submit], button:not([type])');
  if (form.requestSubmit) { form.requestSubmit(button || undefined); } else { form.submit(); }
}
"""


def field_values(role: str, values: dict[str, str]) -> list[tuple[str, str]]:
    """(name pattern, value) in order: the first pattern that matches a field wins. A
    value starting with "!" replaces what the field holds."""
    today = timezone.localdate()
    return [
        ("^__date$", (today + timedelta(days=3)).isoformat()),
        ("^q$", values.get("q", "戒指")),
        ("^number$", values.get("certificate", "")),
        ("^login$", values.get("login", "")),
        ("^oldpassword$", values.get("password", "")),
        ("^password$", values.get("password", "")),
        ("^password[12]$", "!Pearl-and-jade-2026"),
        ("^confirm$", values.get("password", "")),
        ("email", values.get("email", f"crawl.{role}@example.com")),
        ("phone_tail$", values.get("phone_tail", "")),
        ("(^|_)phone$|mobile", values.get("phone", "139 0000 8888")),
        ("^(name|contact_name|recipient)$", "林晓月"),
        ("province", "上海市"), ("^city$", "上海市"), ("district", "静安区"),
        ("street", "南京西路 1266 号"), ("postcode", "200040"),
        ("birthday|anniversary", "1990-05-17"),
        ("ring_size|^size$", "12"),
        ("^quantity$", "1"),
        ("^kind$", "!cleaning"),
        ("^price_min$", "1000"), ("^price_max$", "80000"),
        ("^(code|coupon_code)$", values.get("coupon", "")),
        ("^points$", "0"),
        ("^target$", "500"),  # a gold price alert's price per gram
        ("description|note|reason|^message$", "巡检：请帮忙看看。"),
        ("^reference$", "POS-CRAWL-1"),
        ("^skus?$|^lines$", values.get("sku", "")),
        ("^date$", (today + timedelta(days=3)).isoformat()),
    ]


def screenshot(page, visit: Visit, name: str) -> None:
    visit.shots += 1
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "home"
    visit.screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(visit.screenshots / f"{visit.shots:03d}-{slug}.png"))


def check_answers(visit: Visit, where: str, answers, allowed: frozenset[int] = frozenset()):
    for status, method, path in answers:
        if status >= 400 and status not in allowed:
            visit.problems.append(Problem(visit.role, where, f"{status} for {method} {path}"))


def check_list_cells(page, visit: Visit, where: str) -> None:
    """Admin lists: no cell may wrap a name one character a line."""
    tallest = page.evaluate("""() => Math.max(0, ...[...document.querySelectorAll(
        '#result_list td, #result_list th')].map(c => c.getBoundingClientRect().height))""")
    if tallest > TALL_CELL_PX:
        visit.problems.append(Problem(visit.role, where,
                                      f"a list cell {tallest:.0f}px tall (text wrapped)"))


def open_page(page, recorder: Recorder, visit: Visit, path: str) -> bool:
    recorder.take()
    try:
        response = page.goto(visit.base + path, wait_until="load")
    except Exception as exc:  # a page that never loads is a finding, not a crash
        visit.problems.append(Problem(visit.role, path, f"did not load: {exc}"))
        return False
    check_answers(visit, path, recorder.take())
    visit.pages.append(path)
    if response is None or response.status >= 400:
        return False
    check_list_cells(page, visit, path)
    screenshot(page, visit, path)
    return True


def form_plan(page) -> list[dict]:
    return page.eval_on_selector_all("form", """forms => forms.map((f, i) => ({
        index: i,
        method: (f.getAttribute('method') || 'get').toLowerCase(),
        // f.action would be an <input name="action"> when a form has one
        action: new URL(f.getAttribute('action') || location.href, location.href).href,
        id: f.id || '',
        fields: [...f.elements].filter(e => e.name && e.type !== 'hidden').map(e => e.name),
        // an admin list's actions other than "delete" (none: nothing for the form to do)
        actions: [...f.querySelectorAll('select[name=action] option')]
          .filter(o => o.value && o.value !== 'delete_selected').length,
        // what tells two forms to the same address apart (remove coupon / place order)
        button: [...f.querySelectorAll('[type=submit], button:not([type])')]
          .map(b => `${b.name}=${b.value}`).join(' '),
    }))""")


def form_key(form: dict) -> str:
    # The same step of another record (check in appointment 21, 22...) is the same form.
    action = re.sub(r"/\d+/", "/N/", urlsplit(form["action"]).path)
    return f"{form['method']} {action} {sorted(set(form['fields']))} {form['button']}"


def send_forms(page, recorder: Recorder, visit: Visit, path: str, done: set[str],
               deferred: list[tuple[str, dict]]) -> None:
    fresh = True  # the page is as it was opened: its first form needs no reload
    """Every form of the page at ``path`` once (a form is its action and fields: the
    header's search, met on every page, is sent once)."""
    for form in form_plan(page):
        if form["method"] in NO_REQUEST_METHODS:
            continue
        if form["id"] == "changelist-form" and not form["actions"]:
            continue  # a list without actions of its own: the form sends nothing
        key = form_key(form)
        if key in done:
            continue
        done.add(key)
        if any(marker in form["action"] for marker in LAST):
            deferred.append((path, form))
            continue
        send_form(page, recorder, visit, path, form, reload=not fresh)
        fresh = False
        follow_up(page, recorder, visit, done)


def send_form(page, recorder: Recorder, visit: Visit, path: str, form: dict, *,
              reload: bool = True) -> None:
    if reload and not open_page_quietly(page, recorder, visit, path):
        return
    # Found again by what it is, not by its place: an earlier form may have changed the
    # page (a coupon removed takes its form away).
    index = next((f["index"] for f in form_plan(page) if form_key(f) == form_key(form)), None)
    if index is None:
        return
    target = page.locator("form").nth(index)
    where = f"{path} → form {form['method'].upper()} {path_of(form['action'])}"
    target.evaluate(FILL_SCRIPT, field_values(visit.role, visit.values))
    recorder.take()
    try:
        with page.expect_navigation(wait_until="load", timeout=3000):
            target.evaluate(SUBMIT_SCRIPT)
    except Exception:  # a form sent by a script (no navigation) or refused by the browser
        page.wait_for_timeout(300)
    check_answers(visit, where, recorder.take())
    visit.forms.append(where)
    if form["method"] == "post":
        screenshot(page, visit, f"sent {path_of(form['action'])}")


def follow_up(page, recorder: Recorder, visit: Visit, done: set[str]) -> None:
    """The next step a form led to (the counter's "payment received" after its check of
    the pieces, the desk's hand-over after a lookup): its new POST form is sent at once,
    on the page as the first form left it."""
    here = path_of(page.url)
    for form in form_plan(page):
        key = form_key(form)
        if (form["method"] != "post" or key in done or form["id"] == "changelist-form"
                or any(marker in form["action"] for marker in LAST)):
            continue
        done.add(key)
        send_form(page, recorder, visit, here, form, reload=False)
        return


def open_page_quietly(page, recorder: Recorder, visit: Visit, path: str) -> bool:
    recorder.take()
    response = page.goto(visit.base + path, wait_until="load")
    check_answers(visit, path, recorder.take())
    return response is not None and response.status < 400


def crawl(page, visit: Visit, start: list[str], *, menus: str, content: str,
          depth: int, per_page: int, limit: int, skip: set[str],
          cap: dict[str, int] | None = None) -> None:
    """Open ``start`` and what their ``menus`` link to, then (to ``depth``) up to
    ``per_page`` new links of each page's ``content``; send every form met. Pages in
    ``skip`` (another role opened them the same way) are left out; ``cap`` limits the
    pages under a path prefix (a catalog has many lists and pieces alike)."""
    recorder = Recorder(page, visit.base)
    seen: list[str] = []
    queue: list[tuple[str, int]] = [(p, 0) for p in start]
    done_forms: set[str] = set()
    deferred: list[tuple[str, dict]] = []
    counted: dict[str, int] = {}

    def capped(path: str) -> bool:
        for prefix, most in (cap or {}).items():
            if path.startswith(prefix):
                if counted.get(prefix, 0) >= most:
                    return True
                counted[prefix] = counted.get(prefix, 0) + 1
        return False

    while queue and len(seen) < limit:
        path, level = queue.pop(0)
        if path in seen or (path in skip and path not in start) or capped(path):
            continue
        seen.append(path)
        if not open_page(page, recorder, visit, path):
            continue
        found = [link for link in links_in(page, menus, visit.base)
                 # the language switch: the English twin only from an English start
                 if path.startswith("/en/") or not link.startswith("/en/")
                 ] if path in start else []
        if level < depth:
            queued = {q for q, _ in queue} | set(found)
            fresh = [p for p in links_in(page, content, visit.base)
                     if p not in seen and p not in queued and p not in skip
                     and not p.startswith("/en/")]  # the English twin of a page: no news
            found += fresh[:per_page]
        for link in found:
            if link not in seen and all(link != q for q, _ in queue):
                queue.append((link, level + 1))
        send_forms(page, recorder, visit, path, done_forms, deferred)
    skip.update(seen)
    for path, form in sorted(deferred, key=lambda item: [
            marker in item[1]["action"] for marker in LAST].index(True)):
        send_form(page, recorder, visit, path, form)
