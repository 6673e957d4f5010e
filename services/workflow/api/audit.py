"""The audit trail of the tenant's set-up in workflow: templates, the staff directory (members, sites,
time zone), API keys and passwords set (shared/audit.py)."""

from __future__ import annotations

from uuid import UUID

from shared import audit
from shared.identity.access import access_id

from services.workflow.accounts import credentials_id
from services.workflow.application import WorkflowApplication
from services.workflow.library import library_id
from services.workflow.staff import directory_id


def subjects(tenant: str) -> dict[str, UUID]:
    return {
        "templates": library_id(tenant),
        "staff": directory_id(tenant),
        "api_keys": access_id(tenant),
        "passwords": credentials_id(tenant),
    }


def blueprint(workflow: WorkflowApplication):
    return audit.blueprint(workflow, subjects)
