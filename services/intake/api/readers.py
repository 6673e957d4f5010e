"""Who reads intake's REST API: the tenant's systems (API keys) and its administrators. What intake
shows is the customer (phone, name, address, identities) and what they wrote, and intake cannot know
which of it a template's field rules hide from a staff member at the node they handle: staff read
tickets through workflow, which does (services/workflow/sight.py). A staff member may still raise
tickets and record what they are given (the sidebar, opportunities)."""

from __future__ import annotations

from flask import Flask, g, request

from shared.errors import NotAllowed

READS = ("GET", "HEAD")
OPEN_TO_STAFF = {"whoami"}  # endpoints any member may read: who the service takes them to be


def only_systems_and_administrators_read(app: Flask) -> None:
    """After the platform's guard: a staff member who is no administrator reads nothing here (403)."""

    @app.before_request
    def refuse_staff_reads() -> None:
        principal = g.get("principal")  # none on public routes (callbacks, H5 pages): they check their own way
        if (
            request.method in READS
            and principal is not None
            and principal.staff
            and not principal.may("admin")
            and request.endpoint not in OPEN_TO_STAFF
        ):
            raise NotAllowed(
                "intake's customer data is read by the tenant's systems (an API key) and its "
                "administrators; staff read tickets through workflow",
                rule="readers",
            )
