"""`scrm workflow templates ...`: an operator manages a tenant's templates from the shell."""

from __future__ import annotations

import click


@click.group("templates")
def templates() -> None:
    """A tenant's ticket templates (工单模板)."""


@templates.command("load-examples")
@click.argument("tenant")
@click.option("--by", default="operator", help="Who publishes them (recorded with the events).")
def load_examples(tenant: str, by: str) -> None:
    """Publish the example templates (installation, repair, refund) for TENANT."""
    from shared.errors import DomainError
    from shared.settings import Settings

    from services.workflow.bootstrap import application

    workflow = application(Settings.from_env())
    try:
        for template in workflow.load_examples(tenant, by):
            click.echo(f"{template.key} v{template.version}: {template.name}")
    except DomainError as e:
        raise click.ClickException(e.message) from None
    finally:
        workflow.close()
