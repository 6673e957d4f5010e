"""flask-smorest on a service's app (shared/web.py): one Blueprint per resource, `@blp.arguments`
parses and validates, `@blp.response` dumps through the schema that documents it, so the OpenAPI
document at /openapi.json cannot drift from what is served.

Errors keep the project's one body (`{"error": {"code", "message", "details"}}`): invalid input is
a 400 `validation_failed` naming the fields, a body that is not a JSON object a 400
`malformed_json`, a body that is not JSON at all a 415. Every 4xx/5xx an operation can give is
documented with that body: the ones of its own (`Blueprint.refuses`) and the ones the platform
gives every route (the guard's 401/403/404/503, unreadable or invalid input, a body too large).

Who may call is documented too, from the same marks the guard reads (shared/identity/guard.py):
every operation says in `security` which credentials it takes, `[]` for a `@public` one, whose
description says what it checks instead; `x-scope` names the scope a closed one needs.
"""

from __future__ import annotations

from copy import copy, deepcopy
from typing import Any
from collections.abc import Callable

import marshmallow as ma
from flask import Flask, jsonify
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser

from shared.apidoc import marshmallow_plugin
from shared.errors import DomainError
from shared.identity.guard import CSRF_HEADER, PROXY_SECRET_HEADER, READS, SESSION_COOKIE, public
from shared.tenants import TENANT_ID
from shared.web import MAX_BODY, error_body

LOCATIONS = {"json": "fields", "query": "query parameters", "querystring": "query parameters"}


class RequestRefused(DomainError):
    def __init__(self, status: int, code: str, message: str, **details: Any):
        super().__init__(message, **details)
        self.status, self.code = status, code


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema):  # webargs' signature
        if not req.is_json:
            raise RequestRefused(415, "unsupported_media_type", "send the body as application/json")
        body = req.get_json(silent=True)  # through the app's JSON provider
        if not isinstance(body, dict):
            raise RequestRefused(400, "malformed_json", "the body is not a JSON object")
        return body

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        where = next(iter(messages), "json") if isinstance(messages, dict) and len(messages) == 1 else "json"
        fields = messages.get(where, messages) if isinstance(messages, dict) else messages
        raise RequestRefused(
            400, "validation_failed", f"some {LOCATIONS.get(where, 'fields')} are invalid", fields=fields
        )


class ErrorDetail(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "What went wrong, for programs"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for people"})
    details = ma.fields.Dict(metadata={"description": "Specifics, e.g. `fields` with the invalid ones"})


class ErrorBody(ma.Schema):
    error = ma.fields.Nested(ErrorDetail, required=True)


# --- who may call: the credentials the guard takes (shared/identity/guard.py) ---------------------------

SECURITY_SCHEMES = {
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A staff member's token (EdDSA JWT, signed by workflow: POST "
        "/v1/tenants/{tenant}/sessions; keys at workflow's /.well-known/jwks.json), "
        "for the tenant it names",
    },
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "scrm_<id>_<secret>",
        "description": "One of the path's tenant's API keys (`Authorization: Bearer scrm_…`), "
        "with the scope read, write or admin",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The cookie a browser got at sign-in (a staff token)",
    },
    "csrfToken": {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": "With the session cookie, on anything but a read: the session's CSRF token "
        "(the sign-in answer's `csrf`)",
    },
    "trustedProxy": {
        "type": "apiKey",
        "in": "header",
        "name": PROXY_SECRET_HEADER,
        "description": "A trusted proxy's secret (off unless SCRM_TRUSTED_PROXY_SECRET is set); "
        "it names the staff member in X-Staff-Id and their roles in X-Staff-Roles",
    },
}


def security(method: str) -> list[dict[str, list]]:
    """The credentials a closed operation takes: any one of them (a session's write needs its CSRF token)."""
    session = {"sessionCookie": []} if method.upper() in READS else {"sessionCookie": [], "csrfToken": []}
    return [{"staffToken": []}, {"apiKey": []}, session, {"trustedProxy": []}]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ErrorBody}}}


TENANT_PARAMETER = {
    "in": "path",
    "name": "tenant",
    "required": True,
    "description": "The tenant (`scrm tenant create`); another shape is a 404",
    "schema": {"type": "string", "pattern": f"^{TENANT_ID.pattern}$"},
}


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [deepcopy(TENANT_PARAMETER)] if "<tenant>" in rule else []


def _platform_refusals(doc: dict[str, Any], method: str, rule: str, closed: bool, scope: str | None) -> dict:
    """The 4xx/5xx the platform gives an operation, whatever its view does."""
    refusals: dict[int, str] = {}
    if "<tenant>" in rule:
        refusals[404] = (
            "No such tenant, or not the credential's (the same answer as a missing record)"
            if closed
            else "Not the shape of a tenant id"
        )
    if closed:
        refusals[401] = "No credential, or one that is not valid (expired, revoked, another tenant's key)"
        refusals[403] = f"The credential lacks the {scope!r} scope" + (
            "" if method.upper() in READS else f", or a session's write lacks {CSRF_HEADER}"
        )
        refusals[503] = "Credentials cannot be checked right now (Retry-After)"
    if any(p.get("in") == "query" for p in doc.get("parameters", []) if isinstance(p, dict)):
        refusals[400] = "Invalid query parameters: details.fields names them"
    if "application/json" in doc.get("requestBody", {}).get("content", {}):
        refusals[400] = (
            "Invalid fields (validation_failed: details.fields names them) or not a JSON object (malformed_json)"
        )
        refusals[415] = "The body is not application/json"
    if doc.get("requestBody"):
        refusals[413] = f"The body is larger than the route takes ({MAX_BODY // 1024} KiB for JSON)"
    return refusals


def _noting(key: str, value: dict) -> Callable[[Callable], Callable]:
    """A decorator that adds `value` to the view's documentation under `key` (see _prepare_access_doc)."""

    def decorator(view: Callable) -> Callable:
        apidoc = getattr(view, "_apidoc", {})
        noted = apidoc.get(key, {})
        added = value
        if key == "refusals":  # two reasons for one status: both are documented
            added = {status: "; ".join(dict.fromkeys([noted.get(status, why), why])) for status, why in value.items()}
        view._apidoc = {**apidoc, key: {**noted, **added}}  # type: ignore[attr-defined]
        return view

    return decorator


class Blueprint(_Blueprint):
    """flask-smorest's Blueprint, with the platform's parsing and its access and refusals documented."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_access_doc)

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable | None = None,
        provide_automatic_options: bool | None = None,
        *,
        parameters: list | None = None,
        **options: Any,
    ) -> None:
        full = (self.url_prefix or "") + rule
        if view_func is not None:  # the guard's marks (public, requires), read where the doc is made
            view_func._apidoc = {
                **getattr(view_func, "_apidoc", {}),
                "access": {  # type: ignore[attr-defined]
                    "public": getattr(view_func, "public", False),
                    "scope": getattr(view_func, "scope", None),
                    "rule": full,
                },
            }
        super().add_url_rule(
            rule,
            endpoint,
            view_func,
            provide_automatic_options,
            parameters=_path_parameters(full) + (parameters or []),
            **options,
        )

    def arguments(self, schema: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
        """flask-smorest's, with a schema class made an instance once (webargs would make one per request)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)

    @staticmethod
    def refuses(refusals: dict[int, str]) -> Callable[[Callable], Callable]:
        """Document the 4xx/5xx a view gives of its own (status: when), each with the one error body."""
        return _noting("refusals", refusals)

    @staticmethod
    def takes(content: dict[str, Any], description: str | None = None) -> Callable[[Callable], Callable]:
        """Document a body the view reads itself (media type: schema), for bodies that are not a JSON
        object `arguments` can check (a multipart upload, callback XML, a form checked per version)."""
        body = {
            "required": True,
            "content": {kind: {"schema": schema} for kind, schema in content.items()},
            **({"description": description} if description else {}),
        }
        return _noting("takes", body)

    @staticmethod
    def answers(status: int, content: dict[str, Any], description: str) -> Callable[[Callable], Callable]:
        """Document an answer that is not JSON (media type: schema), e.g. a page or an image; the view
        answers it itself."""
        return _noting(
            "answers",
            {
                status: {
                    "description": description,
                    "content": {kind: {"schema": schema} for kind, schema in content.items()},
                }
            },
        )

    @staticmethod
    def _prepare_access_doc(doc: dict, doc_info: dict, *, method: str, **_: Any) -> dict:
        if "takes" in doc_info:
            doc.setdefault("requestBody", doc_info["takes"])
        doc.setdefault("responses", {}).update(doc_info.get("answers", {}))
        access = doc_info.get("access", {})
        closed = not access.get("public")
        scope = access.get("scope") or ("read" if method.upper() in READS else "write")
        doc["security"] = security(method) if closed else []
        if closed:
            doc["x-scope"] = scope
        responses = doc.setdefault("responses", {})
        responses.setdefault("default", "DEFAULT_ERROR")  # anything unexpected: a 500 with the error body
        own = doc_info.get("refusals", {})
        for status, description in (
            _platform_refusals(doc, method, access.get("rule", ""), closed, scope) | own
        ).items():
            given = responses.get(status, responses.get(str(status)))
            if status in own or not isinstance(given, dict):  # flask-smorest's own are a bare status name
                responses.pop(str(status), None)
                responses[status] = _error(description)
        return doc


class Api(_Api):
    ERROR_SCHEMA = ErrorBody

    def handle_http_exception(self, error):  # flask-smorest's hook
        code = (error.name or "error").lower().replace(" ", "_")
        return error_body(error.code or 500, code, error.description or error.name)


# --- the platform's own routes (shared/web.py, shared/identity/guard.py), in every document --------------


class WhoAmI(ma.Schema):
    tenant = ma.fields.String()
    subject = ma.fields.String(metadata={"description": "The staff member, or `api-key:<id>`"})
    kind = ma.fields.String(metadata={"description": "staff, api_key or proxy"})
    roles = ma.fields.List(ma.fields.String())
    scopes = ma.fields.List(ma.fields.String())


class Health(ma.Schema):
    status = ma.fields.String(metadata={"description": "ok, or what is wrong"})
    service = ma.fields.String()


def _content(media_type: str, schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


_PUBLIC = "Public: no credential, and no data of any tenant's"
PLATFORM_ROUTES: dict[str, dict[str, Any]] = {
    "healthz": {
        "summary": "Liveness: whether the process can serve",
        "description": _PUBLIC,
        "responses": {
            200: _content("application/json", Health, "Serving"),
            503: _content("application/json", Health, "Not serving"),
        },
    },
    "readyz": {
        "summary": "Readiness: whether the process should be sent traffic",
        "description": _PUBLIC,
        "responses": {
            200: _content("application/json", {"type": "object"}, "Ready"),
            503: _content("application/json", {"type": "object"}, "Not ready"),
        },
    },
    "metrics": {
        "summary": "Prometheus metrics",
        "description": _PUBLIC,
        "responses": {200: _content("text/plain", {"type": "string"}, "The text exposition format")},
    },
    "openapi": {
        "summary": "This document",
        "description": _PUBLIC + ": the API's shape",
        "responses": {200: _content("application/json", {"type": "object"}, "OpenAPI 3.0")},
    },
    "whoami": {
        "summary": "Who this service takes the caller to be (to check a credential)",
        "responses": {200: _content("application/json", WhoAmI, "The caller")},
    },
}


def _document_platform_routes(app: Flask, api: Api) -> None:
    for rule in list(app.url_map.iter_rules()):
        documented = PLATFORM_ROUTES.get(rule.endpoint)
        if documented is None:
            continue
        view = app.view_functions[rule.endpoint]
        operations = {}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = deepcopy(documented)
            operations[method.lower()] = Blueprint._prepare_access_doc(
                operation, {"access": {"public": getattr(view, "public", False), "rule": rule.rule}}, method=method
            )
        documented_rule = copy(rule)  # an app's own rule has no defaults, which flask-smorest's plugin expects
        documented_rule.defaults = rule.defaults or {}
        api.spec.path(rule=documented_rule, operations=operations, parameters=_path_parameters(rule.rule))


def attach(app: Flask, title: str, version: str = "1.0.0") -> Api:
    """An Api on `app`, whose document replaces the app's /openapi.json."""
    app.config.update(API_TITLE=title, API_VERSION=version, OPENAPI_VERSION="3.0.3")
    api = Api(app)
    marshmallow_plugin(api.spec)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    _document_platform_routes(app, api)
    app.view_functions["openapi"] = public(lambda: jsonify(api.spec.to_dict()))
    return api
