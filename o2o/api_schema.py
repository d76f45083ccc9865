"""What the OpenAPI schema (drf-spectacular) says about errors, for every operation.

Every error body the API answers has the same shape, ``{"code", "detail"}`` (plus
``fields`` for bad input, and whatever the code adds: ``skus``, ``open_orders``...):
ApplicationError.as_dict for our rules, o2o.errors.api_exception_handler for DRF's own
(not signed in, bad JSON, a field's problem). ``errors_documented`` (a postprocessing
hook) lists on every operation the answers any request may get besides its own: 400 bad
input, 403 not signed in or no CSRF token, 404 no such thing, 429 too many tries, and 414
(an address longer than the server reads, answered by gunicorn in plain text).
"""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: a stable code for programs, a sentence for people.",
    "properties": {
        "code": {"type": "string", "description": "Stable, e.g. invalid, not_authenticated, "
                                                  "sold_out, rate_limited"},
        "detail": {"type": "string", "description": "For people, in the request's language"},
        "fields": {"type": "object", "description": "Bad input: each field's problems, "
                                                    "shaped like the request"},
    },
    "required": ["code", "detail"],
}

GENERIC = {
    "400": "Bad input (see code, and fields)",
    "403": "Not signed in, not allowed, or the CSRF token is missing",
    "404": "No such thing (or not yours)",
    "429": "Too many tries in a short time: wait, then try again",
}
URI_TOO_LONG = {"description": "The address is longer than the server reads (plain text, "
                               "from the web server)"}


def errors_documented(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in GENERIC.items():
                responses.setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": ref}}})
            responses.setdefault("414", URI_TOO_LONG)
    return result
