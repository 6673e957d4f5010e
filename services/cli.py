"""`scrm`: run the platform, each service's HTTP app and worker, relays, and ops tasks."""

from __future__ import annotations

import json
import os
import re
from importlib import import_module
from pathlib import Path
from collections.abc import Callable

import click

from shared import logs
from shared.deadline import bound_database_waits
from shared.serve import DEFAULTS, expose_metrics, run_until_stopped, serve_http, tune_gc_for_batches
from shared.settings import SERVICES, TRANSPORTS, Settings

from services.intake.admin_cli import region as intake_region
from services.intake.cli import tenant as intake_tenant
from services.intake.forms.cli import form_link
from services.notify.cli import dead_letters as notify_dead_letters
from services.notify.cli import setup as notify_setup
from services.settlement.cli import COMMANDS as SETTLEMENT_COMMANDS
from services.supervisor import WORKERS
from services.workflow.cli import rebuild_views as workflow_rebuild_views
from services.workflow.cli import templates as workflow_templates
from services.workflow.cli import timers as workflow_timers
from services.workflow.tenant_cli import keys as token_keys
from services.workflow.tenant_cli import tenant


def web_ports(base: int = 8001) -> dict[str, int]:
    """intake on `base`, then workflow, settlement and notify."""
    return {service: base + i for i, service in enumerate(SERVICES)}


def web_metrics_folder(settings: Settings, service: str, bind: str) -> Path:
    """Where the gunicorn workers of `service`'s web app on `bind` keep their metrics
    (PROMETHEUS_MULTIPROC_DIR): one folder per app and address, so two on one data folder never
    count each other's workers."""
    return settings.data_dir / "metrics" / f"{service}-web@{re.sub(r'[^A-Za-z0-9.-]+', '_', bind)}"


def _bootstrap(service: str):
    return import_module(f"services.{service}.bootstrap")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option(
    "--transport",
    type=click.Choice(TRANSPORTS),
    envvar="SCRM_TRANSPORT",
    default="embedded",
    help="How services exchange events: read each other's stores, or through Kafka.",
)
@click.option("--data-dir", envvar="SCRM_DATA_DIR", default="var", help="Folder for SQLite stores and the outbox.")
@click.option(
    "--database-url",
    envvar="SCRM_DATABASE_URL",
    default=None,
    help="PostgreSQL URL; each service uses its own schema. Default: SQLite files.",
)
@click.option("--kafka-bootstrap", envvar="SCRM_KAFKA_BOOTSTRAP", default="127.0.0.1:9092")
def cli(transport: str, data_dir: str, database_url: str | None, kafka_bootstrap: str) -> None:
    """Work-order platform (工单系统) for SCRM."""
    # Children started by `scrm run` inherit the same configuration through the environment.
    os.environ.update(
        SCRM_TRANSPORT=transport, SCRM_DATA_DIR=os.path.abspath(data_dir), SCRM_KAFKA_BOOTSTRAP=kafka_bootstrap
    )
    if database_url:
        os.environ["SCRM_DATABASE_URL"] = database_url


def _metrics_options(command: Callable) -> Callable:
    command = click.option(
        "--metrics-host",
        envvar="SCRM_METRICS_HOST",
        default="127.0.0.1",
        help="The address the metrics are served on (0.0.0.0 in a container).",
    )(command)
    return click.option(
        "--metrics-port",
        type=int,
        envvar="SCRM_METRICS_PORT",
        default=None,
        help="Serve Prometheus metrics at /metrics on this port (0: one the system picks, "
        "announced in the `metrics.serving` log line)  [default: off]",
    )(command)


def _web_command(service: str) -> click.Command:
    @click.command("web", help=f"Serve {service}'s HTTP API under gunicorn.")
    @click.option("--bind", default=f"127.0.0.1:{web_ports()[service]}")
    @click.option(
        "--workers", type=int, default=None, help=f"gunicorn worker processes  [default: {DEFAULTS['workers']}]"
    )
    @click.option(
        "--connections",
        type=int,
        default=None,
        help=f"clients one worker serves at once (gevent)  [default: {DEFAULTS['worker_connections']}]",
    )
    @click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        envvar="SCRM_GUNICORN_CONFIG",
        help="A gunicorn configuration file (deploy/gunicorn.conf.py).",
    )
    def web(bind: str, workers: int, connections: int, config_file: str | None) -> None:
        logs.configure(f"{service}-web")
        settings = Settings.from_env()
        bound_database_waits(settings.request_deadline)  # inherited by every gunicorn worker
        # The service is imported in each worker, after gevent has patched it: psycopg chooses how
        # to wait when it is first imported. Its workers add up their metrics in one folder.
        serve_http(
            lambda: _bootstrap(service).web_app(),
            bind,
            workers,
            connections,
            config_file,
            metrics_folder=web_metrics_folder(settings, service, bind),
        )

    return web


def _worker_command(service: str) -> click.Command:
    @click.command("worker", help=f"Run {service}'s worker: consume upstream events and record reactions.")
    @_metrics_options
    @click.option(
        "--slice",
        "slice_text",
        default="0/1",
        metavar="K/N",
        help="Be slice K of N processes sharing the work (embedded transport; with Kafka, "
        "start more processes and partitions are shared).",
    )
    def worker(metrics_port: int | None, metrics_host: str, slice_text: str) -> None:
        from shared.slices import Slice

        logs.configure(f"{service}-worker")
        expose_metrics(metrics_port, metrics_host)
        tune_gc_for_batches()
        settings, slice_ = Settings.from_env(), Slice.parse(slice_text)
        module = _bootstrap(service)
        views = module.projector(settings, slice_) if hasattr(module, "projector") else None  # read models
        loops = [module.follower(settings, slice_).run]
        if hasattr(module, "sender"):  # notify's: sends the deliveries its follower requested
            loops.append(module.sender(settings, slice_).run)
        if hasattr(module, "timers"):  # workflow's SLA timers: durable, so any worker may fire them
            loops.append(module.timers(settings, slice_).run)
        if hasattr(module, "stock_keeper") and (keeper := module.stock_keeper(settings, slice_)):  # slice 0 only
            loops.append(keeper.run)
        if views is not None:
            loops.append(views.run)
        run_until_stopped(*loops)

    return worker


def _parked_command(service: str) -> click.Group:
    @click.group("parked", help=f"Events {service}'s worker could not process (dead letters).")
    def parked() -> None:
        pass

    @parked.command("list", help="Show the parked events that are not resolved.")
    def list_() -> None:
        for p in _bootstrap(service).follower(Settings.from_env()).parked():
            e = p.arrived
            click.echo(
                f"{p.id}  {p.created_on:%Y-%m-%d %H:%M:%S}  {e.tenant}  {e.type}  ticket {e.subject}\n    {p.error}"
            )

    @parked.command("retry", help="Process parked events again (after the fix is deployed).")
    @click.argument("ids", nargs=-1)
    def retry(ids: tuple[str, ...]) -> None:
        follower = _bootstrap(service).follower(Settings.from_env())
        chosen = [p for p in follower.parked() if not ids or str(p.id) in ids]
        failed = 0
        for p in chosen:
            try:
                follower.retry(p)
                click.echo(f"{p.id}  processed")
            except Exception as error:  # reported, stays parked
                failed += 1
                click.echo(f"{p.id}  still failing: {error!r}", err=True)
        if failed:
            raise SystemExit(1)

    return parked


for _service in SERVICES:
    group = click.Group(_service, help=f"The {_service} service.")
    group.add_command(_web_command(_service))
    if _service in WORKERS:
        group.add_command(_worker_command(_service))
        group.add_command(_parked_command(_service))
    cli.add_command(group)
cli.commands["intake"].add_command(intake_tenant)  # channel credentials and routes
cli.commands["intake"].add_command(form_link)  # the link of a published template's H5 page
cli.commands["intake"].add_command(intake_region)  # place names -> regions
cli.commands["workflow"].add_command(workflow_templates)  # publish the example templates
cli.commands["workflow"].add_command(workflow_timers)  # SLA timers on their own (the worker runs them too)
cli.commands["workflow"].add_command(workflow_rebuild_views)
cli.add_command(tenant)  # tenants and their API keys (workflow owns them)
cli.add_command(token_keys)  # the keys that sign staff tokens
cli.commands["notify"].add_command(notify_dead_letters)  # list and re-drive deliveries that failed for good
cli.commands["notify"].add_command(notify_setup)  # rules, message templates, quiet hours, links, accounts
for _command in SETTLEMENT_COMMANDS:  # terms set-up, price book import, period statements to files
    cli.commands["settlement"].add_command(_command)


@cli.command()
@click.argument("service", type=click.Choice(SERVICES))
@_metrics_options
def relay(service: str, metrics_port: int | None, metrics_host: str) -> None:
    """Publish SERVICE's outbox (its public events, in the order it recorded them) to Kafka."""
    from shared.transport.kafka import KafkaRelay

    logs.configure(f"{service}-relay")
    expose_metrics(metrics_port, metrics_host)
    run_until_stopped(KafkaRelay(service, Settings.from_env()).run)


@cli.command()
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--from", "after", type=int, default=0, help="Replay the events after this position of the outbox.")
@click.option("--to", "upto", type=int, default=None, help="…up to this one  [default: the end now]")
def replay(service: str, after: int, upto: int | None) -> None:
    """Publish SERVICE's public events to Kafka again (a new subscriber, topics a broker lost);
    consumers take them as redeliveries. The relay's own position is left alone."""
    from tqdm import tqdm

    from shared.transport.kafka import KafkaRelay

    logs.configure(f"{service}-replay")
    relay = KafkaRelay(service, Settings.from_env())
    try:
        upto = relay.last_position() if upto is None else upto
        with tqdm(total=max(upto - after, 0), unit="position", desc=f"replay {service}") as bar:
            done = relay.replay(after, upto, bar.update)
    finally:
        relay.close()
    click.echo(
        f"positions {after}-{upto} of {service}: {done.read} public events read, {done.published} "
        f"published again to {relay.topic}, {done.skipped} positions skipped (private events)"
    )


@cli.group()
def db() -> None:
    """Event store administration."""


@db.command("init")
def db_init() -> None:
    """Create every service's tables once, before workers start (they then skip creation), and
    fill the outbox of a store written before it had one."""
    from shared.identity.tokens import KeySet

    settings = Settings.from_env()
    if not settings.token_keys_file.exists():  # the keys that sign staff tokens, made once
        KeySet.generate().save(settings.token_keys_file)
        click.echo(f"token keys: {settings.token_keys_file}")
    for service in SERVICES:
        app = _bootstrap(service).application(settings)  # its tables, read models included
        try:
            backfilled = app.backfill_outbox()
        finally:
            app.close()
        click.echo(f"{service}: ready" + (f" ({backfilled} public events written to its outbox)" if backfilled else ""))


@cli.command()
def contracts() -> None:
    """Print the public event contracts as an AsyncAPI document (payloads in JSON Schema)."""
    from shared.asyncapi import asyncapi

    settings = Settings.from_env()
    click.echo(
        json.dumps(asyncapi(settings.kafka_partitions, settings.kafka_replication), indent=2, ensure_ascii=False)
    )


@cli.command()
@click.option("--host", default="127.0.0.1")
@click.option("--base-port", type=int, default=8001, help="intake's port; workflow, settlement, notify follow.")
@click.pass_context
def run(ctx: click.Context, host: str, base_port: int) -> None:
    """Start the whole platform on this machine (embedded by default) until Ctrl-C."""
    from services.supervisor import Supervisor

    logs.configure("supervisor")
    Supervisor(Settings.from_env(), host, web_ports(base_port)).run(prepare=lambda: ctx.invoke(db_init))


def main() -> None:
    cli(prog_name="scrm")
