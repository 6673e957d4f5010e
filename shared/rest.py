"""flask-smorest on the project's conventions, for apps built on shared/web.py: one Blueprint per
resource, `@blp.arguments` / `@blp.response` with marshmallow schemas (the OpenAPI document is made
from them and served at /openapi.json), and every error in the standard body
`{"error": {"code", "message", "details"}}`, invalid input a 400 `validation_failed` that names the
fields (webargs' 422 is not used)."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask, jsonify
from webargs.flaskparser import FlaskParser

from shared.web import error_body

LOCATIONS = ("json", "query", "querystring", "view_args", "path", "form", "headers")


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()


class Api(flask_smorest.Api):
    def handle_http_exception(self, error):
        data = getattr(error, "data", None) or {}
        messages = data.get("errors") or data.get("messages")
        if messages and error.code in (400, 422):
            return error_body(400, "validation_failed", "some fields are invalid", fields=_by_field(messages))
        code = (error.name or "error").lower().replace(" ", "_")
        return error_body(error.code or 500, code, data.get("message") or error.description or error.name)


def _by_field(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs keys errors by location first ({"json": {"field": [...]}}): by field, as json_body does."""
    found: dict[str, Any] = {}
    for location, errors in messages.items():
        found.update(errors if location in LOCATIONS and isinstance(errors, dict) else {location: errors})
    return found


def rest_api(app: Flask, title: str) -> Api:
    """The app's API; its OpenAPI document replaces the hand-made one at /openapi.json."""
    app.config.update(API_TITLE=title, API_VERSION="1.0.0", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    app.view_functions["openapi"] = lambda: jsonify(api.spec.to_dict())
    return api
