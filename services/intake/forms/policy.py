"""How intake learns forms from workflow's template.published events. Pure: it only collects events."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.intake.forms.domain import Form, form_id


def form_policy(new_token: Callable[[], str] = lambda: secrets.token_hex(12)):
    def policy(envelope: Envelope, uow: UnitOfWork) -> None:
        # No tenant: published before templates went public (see TemplatePublished); nobody to show it to.
        if envelope.type != "template.published" or not envelope.tenant:
            return
        data = envelope.data
        form = uow.get(form_id(envelope.tenant, data["key"]))
        if form is None:
            form = Form(tenant=envelope.tenant, key=data["key"], token=new_token())
            uow.add(form)
        form.learn(
            version=data["version"],
            name=data["name"],
            fields=data["fields"],
            variant_of=data.get("variant_of"),
            regions=data.get("regions") or [],
        )

    return policy
