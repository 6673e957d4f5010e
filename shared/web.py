"""What every service's HTTP app shares: JSON errors, body parsing, health, metrics, OpenAPI,
correlation ids.

Errors are values at the edge: every 4xx/5xx body is
`{"error": {"code": "...", "message": "...", "details": {...}}}`.

Closed by default, for every route of every app: request JSON is read within bounds
(shared/jsonbody.py, MAX_BODY here), a <tenant> in the path must have the one shape of a tenant id
(shared/tenants.py) or the answer is a 404, and no answer may be sniffed into another type.
"""

from __future__ import annotations

import re
import time
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, g, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from shared import correlation
from shared.apidoc import marshmallow_plugin
from shared.errors import DomainError, NotFound
from shared.identity.guard import Identity, protect, public
from shared.jsonbody import BoundedJSONProvider
from shared.logs import ENVIRON_KEYS
from shared.metrics import HTTP_REQUESTS, HTTP_SECONDS, web_exposition
from shared.readiness import Check, readiness
from shared.tenants import TENANT_ID, is_tenant_id

MAX_BODY = 256 * 1024


def error_body(status: int, code: str, message: str, /, **details: Any) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return jsonify(error=body), status


def create_app(name: str, title: str, identity: Identity) -> Flask:
    """An app of the platform's: every route closed unless marked public (shared/identity/guard.py).
    `/readyz` answers 200 once every check `ready_when` adds passes (the bootstraps add the store's
    and, with Kafka, the broker's)."""
    app = Flask(name)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json = BoundedJSONProvider(app)  # request JSON is read within bounds (shared/jsonbody.py)
    app.extensions["openapi"] = []
    app.extensions["readiness"] = []

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        response, status = error_body(e.status, e.code, e.message, **e.details)
        if status == 503:
            response.headers["Retry-After"] = "5"
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="scrm"'
        return response, status

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        code = (e.name or "error").lower().replace(" ", "_")
        return error_body(e.code or 500, code, e.description or e.name)

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        app.logger.exception("unhandled error")
        return error_body(500, "internal", "unexpected error; it has been logged")

    @app.before_request
    def take_turns():
        # Let the worker's other clients go first: on a kept-alive connection whose next request
        # has already arrived nothing waits, and without this one client could be served again
        # and again while others time out (gevent switches only at waits).
        time.sleep(0)

    @app.before_request
    def start_timer():
        g.started = time.perf_counter()

    @app.before_request
    def correlate():
        # Everything the request records is published under this id, and every log line carries
        # it, with the tenant and the ticket its path names; gunicorn's access line finds them in
        # the environ.
        g.correlation_id = correlation.accept(request.headers.get(correlation.HEADER))
        correlation.use(g.correlation_id)
        args = request.view_args or {}
        tenant = args.get("tenant") if is_tenant_id(args.get("tenant") or "") else None  # not any text a caller sent
        correlation.about(tenant, args.get("ticket_id"))
        known = {"correlation_id": g.correlation_id, "tenant": tenant, "ticket_id": args.get("ticket_id")}
        request.environ.update({key: str(known[name]) for name, key in ENVIRON_KEYS.items() if known[name]})

    @app.before_request
    def tenant_shaped():
        # Every route under a <tenant> serves only tenant ids of the one shape: anything else is
        # not there, before a handler (or the store) sees it.
        tenant = (request.view_args or {}).get("tenant")
        if tenant is not None and not is_tenant_id(tenant):
            raise NotFound("no such tenant")

    @app.after_request
    def no_sniffing(response: Response):
        # Browsers take the declared type: an upload or a JSON answer is never run as HTML or script.
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.after_request
    def answer_correlated(response: Response):
        response.headers[correlation.HEADER] = g.get("correlation_id") or correlation.accept(None)
        return response

    @app.teardown_request
    def forget_correlation(_):
        # This thread's next work (a test's, a greenlet's next request) starts without it.
        correlation.use(None)
        correlation.about()

    @app.after_request
    def observe(response: Response):
        endpoint = request.endpoint or "unknown"
        HTTP_REQUESTS.labels(name, endpoint, response.status_code).inc()
        HTTP_SECONDS.labels(name, endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.get("/healthz")
    @public
    def healthz():
        """Liveness: the process serves requests. Whether it can do its work is /readyz."""
        return jsonify(status="ok", service=name)

    @app.get("/readyz")
    @public
    def readyz():
        failed = readiness(app.extensions["readiness"])
        if failed:
            response, status = error_body(503, "not_ready", "a service this app needs is not answering", **failed)
            response.headers["Retry-After"] = "5"
            return response, status
        return jsonify(status="ready", service=name)

    @app.get("/metrics")
    @public
    def metrics():
        body, content_type = web_exposition()
        return Response(body, content_type=content_type)

    @app.get("/openapi.json")
    @public  # the API's shape, no data
    def openapi():
        return jsonify(openapi_spec(app, title))

    protect(app, identity)
    return app


def ready_when(app: Flask, *checks: Check) -> Flask:
    """`app`'s /readyz answers 200 only while every check passes."""
    app.extensions["readiness"].extend(checks)
    return app


def json_body(schema: Schema) -> dict[str, Any]:
    """The request's JSON body, loaded by `schema`; a clear 4xx otherwise."""
    if not request.is_json:
        raise _BadRequest(415, "unsupported_media_type", "send the body as application/json")
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        raise _BadRequest(400, "malformed_json", "the body is not a JSON object")
    try:
        return schema.load(raw)
    except ValidationError as e:
        raise _BadRequest(400, "validation_failed", "some fields are invalid", fields=e.messages) from None


def query_args(schema: Schema) -> dict[str, Any]:
    """The request's query string, loaded by `schema`; a clear 400 otherwise."""
    try:
        return schema.load(request.args)
    except ValidationError as e:
        raise _BadRequest(400, "validation_failed", "some query parameters are invalid", fields=e.messages) from None


class _BadRequest(DomainError):
    def __init__(self, status: int, code: str, message: str, **details: Any):
        super().__init__(message, **details)
        self.status, self.code = status, code


def document(app: Flask, method: str, path: str, summary: str, *, body: type[Schema] | None = None,
             responses: dict[int, str | type[Schema]] | None = None, query: type[Schema] | None = None) -> None:
    """Add an operation to the app's OpenAPI document (served at /openapi.json)."""
    operation: dict[str, Any] = {"summary": summary, "tags": [app.name], "responses": {}}
    if query is not None:
        operation["parameters"] = [{"in": "query", "schema": query}]
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    for status, what in (responses or {}).items():
        if isinstance(what, str):
            operation["responses"][str(status)] = {"description": what}
        else:
            operation["responses"][str(status)] = {
                "description": what.__name__, "content": {"application/json": {"schema": what}}}
    app.extensions["openapi"].append((path, method.lower(), operation))


def openapi_spec(app: Flask, title: str) -> dict[str, Any]:
    spec = APISpec(title=title, version="1.0.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    marshmallow_plugin(spec)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, operation in app.extensions["openapi"]:
        parameters = path_parameters(app, path) + operation.get("parameters", [])
        paths.setdefault(path, {})[method] = {**operation, "parameters": parameters} if parameters else operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
_CONVERTED = {"uuid": {"type": "string", "format": "uuid"}, "int": {"type": "integer", "minimum": 0},
              "float": {"type": "number", "minimum": 0}}


def path_parameters(app: Flask, path: str) -> list[dict[str, Any]]:
    """The variables of a documented path ("/v1/tenants/{tenant}/…"), typed as the Flask rule that
    serves it converts them, so the document says what the routes take."""
    for rule in app.url_map.iter_rules():
        pattern, converters, end = "", {}, 0
        for variable in _VARIABLE.finditer(rule.rule):
            pattern += re.escape(rule.rule[end:variable.start()])
            if variable["converter"] == "any":  # documented once per choice, as literal paths
                choices = (choice.strip(" '\"") for choice in variable["args"].split(","))
                pattern += f"(?:{'|'.join(map(re.escape, choices))})"
            else:
                pattern += re.escape(f"{{{variable['name']}}}")
                converters[variable["name"]] = variable["converter"]
            end = variable.end()
        if re.fullmatch(pattern + re.escape(rule.rule[end:]), path):
            return [{"in": "path", "name": name, "required": True, "schema": _parameter_schema(name, converter)}
                    for name, converter in converters.items()]
    return []


def _parameter_schema(name: str, converter: str | None) -> dict[str, Any]:
    if name == "tenant":
        return {"type": "string", "pattern": f"^{TENANT_ID.pattern}$"}
    return _CONVERTED.get(converter or "", {"type": "string", "minLength": 1})
