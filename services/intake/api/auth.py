"""Who may call intake's REST API: the holder of one of the tenant's API keys, sent as
`Authorization: Bearer <key>`. A missing, wrong, revoked or other tenant's key, and a tenant
that does not exist, all get the same 401: the answer never tells which. (An id no tenant can have
is a 404 before this, as on every route: shared/web.py.)"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Flask, request

from shared import web
from shared.errors import DomainError

from services.intake.application import IntakeApplication

MAX_KEY = 200


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"

    def __init__(self) -> None:
        super().__init__("send a valid API key of this tenant: Authorization: Bearer <key>")


def check_key(intake: IntakeApplication, tenant: str) -> None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    usable = scheme.lower() == "bearer" and 0 < len(key) <= MAX_KEY
    ring = intake.key_ring(tenant) if usable else None
    if ring is None or not ring.admits(key):
        raise Unauthorized()


def guard(app: Flask, intake: IntakeApplication) -> Callable:
    """A decorator for views under /v1/tenants/<tenant>/: the key is checked before anything else."""
    if "unauthorized" not in app.extensions:
        app.extensions["unauthorized"] = True

        @app.errorhandler(Unauthorized)
        def unauthorized(e: Unauthorized):
            response, status = web.error_body(e.status, e.code, e.message)
            response.headers["WWW-Authenticate"] = 'Bearer realm="scrm"'
            return response, status

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(tenant: str, **kwargs):
            check_key(intake, tenant)
            return view(tenant, **kwargs)
        return checked
    return decorate
