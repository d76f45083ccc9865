"""A local stand-in for Stripe's HTTP API, for the real ``stripe`` library (no network).

It speaks just what orders.services.payments uses: POST /v1/checkout/sessions,
GET /v1/checkout/sessions/<id>, POST /v1/refunds. Every request is recorded with its
form parameters decoded into nested dicts and lists, so tests assert what the library
sent. ``refuse_refunds = True`` makes refunds fail as Stripe does (HTTP 400 + error).

Webhooks are signed with the library's own scheme (``signed``).
"""

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import stripe

WEBHOOK_SECRET = "whsec_standin_secret"
SECRET_KEY = "sk_test_standin"


def decode_form(body: str) -> dict:
    """``a[b][0][c]=1`` -> {"a": {"b": [{"c": "1"}]}}, as Stripe reads its forms."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part, nxt in zip(parts, parts[1:] + [None], strict=True):
            if nxt is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


class StripeStandin:
    def __init__(self):
        self.requests: list[dict] = []
        self.sessions: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.refuse_refunds = False
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def calls(self, method: str, path_prefix: str) -> list[dict]:
        return [r for r in self.requests
                if r["method"] == method and r["path"].startswith(path_prefix)]

    # --- what Stripe answers ---------------------------------------------------------

    def create_session(self, params: dict) -> tuple[int, dict]:
        now = int(time.time())
        expires_at = int(params.get("expires_at", now + 24 * 3600))
        if not now + 30 * 60 <= expires_at <= now + 24 * 3600:
            return 400, _error("expires_at must be 30 minutes to 24 hours from now",
                               param="expires_at")
        items = params.get("line_items") or []
        if not items:
            return 400, _error("line_items is required", param="line_items")
        total = sum(int(i["price_data"]["unit_amount"]) * int(i["quantity"]) for i in items)
        sid = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": sid, "object": "checkout.session", "mode": params.get("mode"),
            "url": f"https://checkout.stripe.test/c/pay/{sid}",
            "amount_total": total, "currency": items[0]["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "customer_email": params.get("customer_email"),
            "payment_status": "unpaid", "status": "open", "expires_at": expires_at,
            "payment_intent": "pi_test_" + secrets.token_hex(12),
            "payment_method_types": params.get("payment_method_types"),
        }
        self.sessions[sid] = session
        return 200, session

    def create_refund(self, params: dict) -> tuple[int, dict]:
        if self.refuse_refunds:
            return 400, _error("Charge has already been refunded.", code="charge_already_refunded")
        refund = {"id": "re_test_" + secrets.token_hex(12), "object": "refund",
                  "amount": int(params["amount"]), "payment_intent": params.get("payment_intent"),
                  "status": "succeeded", "metadata": params.get("metadata") or {}}
        self.refunds.append(refund)
        return 200, refund

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(6))
                self.end_headers()
                self.wfile.write(data)

            def _record(self, method: str) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                path, _sep, query = self.path.partition("?")
                record = {"method": method, "path": path, "params": decode_form(raw or query),
                          "headers": dict(self.headers)}
                with standin.lock:
                    standin.requests.append(record)
                return record

            def do_POST(self):
                record = self._record("POST")
                if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                    return self._answer(401, _error("Invalid API key", type_="invalid_request_error"))
                with standin.lock:
                    if record["path"] == "/v1/checkout/sessions":
                        return self._answer(*standin.create_session(record["params"]))
                    if record["path"] == "/v1/refunds":
                        return self._answer(*standin.create_refund(record["params"]))
                return self._answer(404, _error("Unrecognized request URL"))

            def do_GET(self):
                record = self._record("GET")
                match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)", record["path"])
                if match and match[1] in standin.sessions:
                    return self._answer(200, standin.sessions[match[1]])
                return self._answer(404, _error("No such checkout session"))

        return Handler


def _error(message, *, param=None, code=None, type_="invalid_request_error"):
    return {"error": {"type": type_, "message": message, "param": param, "code": code}}


def signed(payload: dict | str, *, secret: str = WEBHOOK_SECRET, timestamp=None) -> tuple[str, str]:
    """(body, Stripe-Signature header) signed with the library's own scheme."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return body, stripe.WebhookSignature.generate_signature_header(body, secret,
                                                                    timestamp=timestamp)


@pytest.fixture(name="stripe_standin")
def stripe_standin_fixture(settings):
    """Stripe configured and pointed at a fresh local stand-in for the test."""
    standin = StripeStandin()
    standin.thread.start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = standin.base
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield standin
    standin.server.shutdown()
    standin.server.server_close()
