"""The audit trail of the tenant's set-up in intake: its channels' credentials and routes
(shared/audit.py; the secrets are sealed, and left out besides)."""

from __future__ import annotations

from uuid import UUID

from shared import audit

from services.intake.application import IntakeApplication
from services.intake.tenant import settings_id


def subjects(tenant: str) -> dict[str, UUID]:
    return {"channels": settings_id(tenant)}


def blueprint(intake: IntakeApplication):
    return audit.blueprint(intake, subjects)
