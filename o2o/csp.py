"""The Content-Security-Policy (django-csp): scripts, styles, images, fonts and fetches
from the shop itself only; no plugins, no framing, forms post to the shop or to Stripe
Checkout. No nonces: anonymous pages are cached whole and shared (o2o.middleware), and a
nonce in a shared page would be no secret. The two inline blocks the shop keeps (the
no-js switch in base.html's head, the 500 page's styles, which may not touch static files) are
allowed by their SHA-256, computed from the templates when settings load, so an edit to
them cannot silently break the page: the hash follows the file.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


def inline_hashes(*templates: Path) -> dict[str, list[str]]:
    """{"script": [...], "style": [...]}: the CSP source of each inline block."""
    found: dict[str, list[str]] = {"script": [], "style": []}
    for template in templates:
        for kind, body in INLINE.findall(template.read_text(encoding="utf-8")):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            found[kind].append(f"'sha256-{digest}'")
    return found


def policy(base_dir: Path, *, report_only: bool = False) -> dict:
    # The no-js switch is in includes/head.html (the head's part every page shares,
    # rendered once by catalog.chrome); base.html is read too, should one come back there.
    hashes = inline_hashes(base_dir / "templates" / "base.html",
                           base_dir / "templates" / "includes" / "head.html",
                           base_dir / "templates" / "500.html")
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'", *hashes["script"]],
            "style-src": ["'self'", *hashes["style"]],
            "img-src": ["'self'", "data:"],
            "font-src": ["'self'"],
            "connect-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "frame-ancestors": ["'none'"],
            # A checkout form's answer redirects to Stripe Checkout's page.
            "form-action": ["'self'", "https://checkout.stripe.com"],
        },
    }
