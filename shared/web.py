"""What every service's HTTP app shares: JSON errors, health, readiness, metrics, correlation ids,
OpenAPI (filled in by shared/restapi.py, where requests are parsed and answers dumped).

Errors are values at the edge: every 4xx/5xx body is
`{"error": {"code": "...", "message": "...", "details": {...}}}`.

Closed by default, for every route of every app: request JSON is read within bounds
(shared/jsonbody.py, MAX_BODY here), a <tenant> in the path must have the one shape of a tenant id
(shared/tenants.py) or the answer is a 404, and no answer may be sniffed into another type.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from shared import correlation
from shared.errors import DomainError, NotFound
from shared.identity.guard import Identity, protect, public
from shared.jsonbody import BoundedJSONProvider
from shared.logs import ENVIRON_KEYS
from shared.metrics import HTTP_REQUESTS, HTTP_SECONDS, web_exposition
from shared.readiness import Check, readiness
from shared.tenants import is_tenant_id

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
        # An app's resources are documented where they are made: shared/restapi.py replaces this view.
        return jsonify(openapi="3.0.3", info={"title": title, "version": "1.0.0"}, paths={})

    protect(app, identity)
    return app


def ready_when(app: Flask, *checks: Check) -> Flask:
    """`app`'s /readyz answers 200 only while every check passes."""
    app.extensions["readiness"].extend(checks)
    return app
