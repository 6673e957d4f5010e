"""The audit trail (操作审计): who changed a tenant's set-up, when and how, read from the events of the
aggregates that hold it (templates, the staff directory, API keys, channel settings, the price book …).
The events are the record: nothing is written twice. Only the tenant's administrators read it.

Every service lists its set-up aggregates; `trail` merges their events, newest first, a page at a time,
served at `GET /v1/tenants/<tenant>/audit` (`register` on a plain app, `blueprint` on a flask-smorest
one). A value that could open something (a password hash, a key digest, a sealed secret) is never shown.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Iterable, Mapping
from uuid import UUID

from eventsourcing.application import Application
from marshmallow import Schema, fields, validate

from shared.errors import NotAllowed
from shared.identity.guard import caller
from shared.restapi import Blueprint
from shared.jsonable import plain

UNSHOWN = ("digest", "hash", "password", "secret", "token", "aes_key")  # any key containing one of these
LIMIT, MOST = 50, 500
PATH, DOCUMENTED = "/v1/tenants/<tenant>/audit", "/v1/tenants/{tenant}/audit"
SUMMARY = "Who changed the tenant's set-up, when and how, newest first (administrators)"
Subjects = Callable[[str], Mapping[str, UUID]]  # tenant -> its set-up aggregates by name


class AuditQuery(Schema):
    limit = fields.Integer(load_default=LIMIT, validate=validate.Range(1, MOST))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class AuditEntry(Schema):
    at = fields.String(metadata={"description": "ISO 8601 with milliseconds"})
    by = fields.String(metadata={"description": "The staff member or API key (api-key:<id>); system: not a person"})
    what = fields.String(metadata={"description": "The change: the event's name"})
    subject = fields.String(metadata={"description": "What was changed (templates, staff, channels …)"})
    details = fields.Dict(metadata={"description": "The change's data, secrets left out"})


class AuditPage(Schema):
    total = fields.Integer()
    entries = fields.List(fields.Nested(AuditEntry))


def administrator() -> str:
    """The caller, if they may read the tenant's audit trail: its administrators, and admin keys."""
    principal = caller()
    if not principal.may("admin"):
        raise NotAllowed("only the tenant's administrators may read its audit trail", rule="admin")
    return principal.subject


def blueprint(application: Application, subjects: Subjects) -> Blueprint:
    """The audit route of a service."""
    blp = Blueprint("audit", __name__, description="The audit trail of the tenant's set-up")

    @blp.route(PATH, methods=["GET"])
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditPage)
    def audit(query: dict, tenant: str):
        """Who changed the tenant's set-up, when and how, newest first (administrators)"""
        administrator()
        return trail(application, subjects(tenant), query["limit"], query["offset"])

    return blp


def trail(app: Application, subjects: Mapping[str, UUID], limit: int = LIMIT, offset: int = 0) -> dict[str, Any]:
    """The changes recorded on `subjects` (a name -> the aggregate's id), newest first: one page and
    how many there are in all."""
    entries = sorted(
        (entry for name, id_ in subjects.items() for entry in _entries(app, name, id_)),
        key=lambda e: e[0],
        reverse=True,
    )
    return {"total": len(entries), "entries": [entry for _, entry in entries[offset : offset + limit]]}


def _entries(app: Application, subject: str, id_: UUID) -> Iterable[tuple[tuple, dict[str, Any]]]:
    """Each change with its place in time (instant, then version: one save records several at once)."""
    for event in app.events.get(id_):
        data = {k: v for k, v in vars(event).items() if not k.startswith("originator_") and k != "timestamp"}
        by = data.pop("by", None) or data.pop("created_by", None)
        if by is None and type(event).__name__ == "Created":
            continue  # an aggregate begun, with nothing in it yet: its first change says who
        yield (
            (event.timestamp, event.originator_version),
            {
                "at": plain(event.timestamp),
                "by": by or "system",
                "what": type(event).__name__,
                "subject": subject,
                "details": plain(shown(data)),
            },
        )


def shown(data: Any) -> Any:
    """`data` without what could open something."""
    if isinstance(data, Mapping):
        return {k: shown(v) for k, v in data.items() if not any(word in k.lower() for word in UNSHOWN)}
    if isinstance(data, (list, tuple)):
        return [shown(v) for v in data]
    return data
