"""flask-smorest on a service's app (shared/web.py): one Blueprint per resource, `@blp.arguments`
parses and validates, `@blp.response` dumps through the schema that documents it, so the OpenAPI
document at /openapi.json cannot drift from what is served.

Errors keep the project's one body (`{"error": {"code", "message", "details"}}`): invalid input is
a 400 `validation_failed` naming the fields, a body that is not a JSON object a 400
`malformed_json`, a body that is not JSON at all a 415.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, jsonify
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser

from shared.apidoc import marshmallow_plugin
from shared.errors import DomainError
from shared.identity.guard import public
from shared.web import error_body

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
        raise RequestRefused(400, "validation_failed", f"some {LOCATIONS.get(where, 'fields')} are invalid",
                             fields=fields)


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = Parser()


class ErrorDetail(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "What went wrong, for programs"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for people"})
    details = ma.fields.Dict(metadata={"description": "Specifics, e.g. `fields` with the invalid ones"})


class ErrorBody(ma.Schema):
    error = ma.fields.Nested(ErrorDetail, required=True)


class Api(_Api):
    ERROR_SCHEMA = ErrorBody

    def handle_http_exception(self, error):  # flask-smorest's hook
        code = (error.name or "error").lower().replace(" ", "_")
        return error_body(error.code or 500, code, error.description or error.name)


def attach(app: Flask, title: str, version: str = "1.0.0") -> Api:
    """An Api on `app`, whose document replaces the app's /openapi.json."""
    app.config.update(API_TITLE=title, API_VERSION=version, OPENAPI_VERSION="3.0.3")
    api = Api(app)
    marshmallow_plugin(api.spec)
    app.view_functions["openapi"] = public(lambda: jsonify(api.spec.to_dict()))
    return api
