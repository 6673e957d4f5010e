"""`scrm intake form-link TENANT KEY`: the link of a published template's H5 page, for an operator
to put in a menu, a QR code or a message. The link holds a token, so it is not listed over HTTP."""

from __future__ import annotations

import json

import click


@click.command("form-link")
@click.argument("tenant")
@click.argument("key")
@click.option("--base-url", default="", help="Put this in front of the path, e.g. https://h5.example.com")
def form_link(tenant: str, key: str, base_url: str) -> None:
    """The H5 page link of TENANT's published template KEY (once intake's worker has learned it)."""
    from shared.settings import Settings

    from services.intake.bootstrap import application
    from services.intake.forms.domain import Form, form_id

    intake = application(Settings.from_env())
    try:
        form = intake.find(form_id(tenant, key), tenant, Form)
    finally:
        intake.close()
    if form is None:
        raise click.ClickException(
            f"{tenant} has no form {key!r}: publish the template in workflow, and make sure `scrm intake worker` runs"
        )
    path = f"/h5/{tenant}/{form.slug}"
    click.echo(
        json.dumps(
            {
                "tenant": tenant,
                "key": key,
                "version": form.latest.version,
                "name": form.latest.name,
                "path": path,
                "url": base_url.rstrip("/") + path,
            },
            ensure_ascii=False,
        )
    )
