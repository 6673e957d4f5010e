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


@click.command("timers")
@click.option("--slice", "part", default="0/1", metavar="K/N", help="Be slice K of N timer processes (by ticket).")
def timers(part: str) -> None:
    """Fire SLA timers (warnings, breaches, escalations) when due. The worker runs them too; more
    processes may run at once: each timer is recorded exactly once."""
    from shared import logs
    from shared.serve import run_until_stopped
    from shared.settings import Settings
    from shared.transport import Slice

    from services.workflow.bootstrap import timers as timer_worker

    logs.configure("workflow-timers")
    run_until_stopped(timer_worker(Settings.from_env(), Slice.parse(part)).run)
