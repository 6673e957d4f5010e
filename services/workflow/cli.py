"""`scrm workflow templates ...`: an operator manages a tenant's templates from the shell;
`scrm workflow rebuild-views` rebuilds the read models from the log."""

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
    from shared.tenants import SHAPE, is_tenant_id

    from services.workflow.bootstrap import application

    if not is_tenant_id(tenant):  # what no route would ever serve
        raise click.BadParameter(SHAPE, param_hint="TENANT")
    workflow = application(Settings.from_env())
    try:
        for template in workflow.load_examples(tenant, by):
            click.echo(f"{template.key} v{template.version}: {template.name}")
    except DomainError as e:
        raise click.ClickException(e.message) from None
    finally:
        workflow.close()


@click.command("timers")
@click.option(
    "--slice", "slice_text", default="0/1", metavar="K/N", help="Be slice K of N timer processes (by ticket)."
)
def timers(slice_text: str) -> None:
    """Fire SLA timers (warnings, breaches, escalations) when due. The worker runs them too; more
    processes may run at once: each timer is recorded exactly once."""
    from shared import logs
    from shared.serve import run_until_stopped
    from shared.settings import Settings
    from shared.slices import Slice

    from services.workflow.bootstrap import timers as timer_worker

    logs.configure("workflow-timers")
    run_until_stopped(timer_worker(Settings.from_env(), Slice.parse(slice_text)).run)


@click.command("rebuild-views")
def rebuild_views() -> None:
    """Rebuild the read models (ticket lists, kanban, dashboard) from workflow's log, from scratch."""
    from tqdm import tqdm

    from shared.serve import tune_gc_for_batches
    from shared.settings import Settings

    from services.workflow.bootstrap import application
    from services.workflow.readmodels.projector import rebuild

    tune_gc_for_batches()  # a batch job: it decodes every event of the log
    workflow = application(Settings.from_env())
    try:
        total = workflow.recorder.max_notification_id() or 0
        with tqdm(total=total, unit="event", desc="ticket views") as bar:
            rebuild(workflow, lambda position: bar.update(position - bar.n))
            bar.update(total - bar.n)  # the last events may be no ticket's
        click.echo(f"rebuilt from {total} log position(s)")
    finally:
        workflow.close()
