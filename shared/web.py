"""What every service's HTTP app shares: JSON errors, health, metrics, OpenAPI (filled in by
shared/restapi.py, where requests are parsed and answers dumped).

Errors are values at the edge: every 4xx/5xx body is
`{"error": {"code": "...", "message": "...", "details": {...}}}`.

Closed by default, for every route of every app: request JSON is read within bounds
(shared/jsonbody.py, MAX_BODY here), a <tenant> in the path must have the one shape of a tenant id
(shared/tenants.py) or the answer is a 404, and no answer may be sniffed into another type.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException

from shared.errors import DomainError, NotFound
from shared.identity.guard import Identity, protect, public
from shared.jsonbody import BoundedJSONProvider
from shared.metrics import HTTP_REQUESTS, HTTP_SECONDS
from shared.tenants import is_tenant_id

MAX_BODY = 256 * 1024


def error_body(status: int, code: str, message: str, /, **details: Any) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return jsonify(error=body), status


def create_app(name: str, title: str, identity: Identity, health: Callable[[], bool] = lambda: True) -> Flask:
    """An app of the platform's: every route closed unless marked public (shared/identity/guard.py)."""
    app = Flask(name)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json = BoundedJSONProvider(app)  # request JSON is read within bounds (shared/jsonbody.py)

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
    def observe(response: Response):
        endpoint = request.endpoint or "unknown"
        HTTP_REQUESTS.labels(name, endpoint, response.status_code).inc()
        HTTP_SECONDS.labels(name, endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.get("/healthz")
    @public
    def healthz():
        ok = health()
        return jsonify(status="ok" if ok else "unhealthy", service=name), 200 if ok else 503

    @app.get("/metrics")
    @public
    def metrics():
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json")
    @public  # the API's shape, no data
    def openapi():
        # An app's resources are documented where they are made: shared/restapi.py replaces this view.
        return jsonify(openapi="3.0.3", info={"title": title, "version": "1.0.0"}, paths={})

    protect(app, identity)
    return app
