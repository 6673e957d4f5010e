"""Statements do not depend on how workflow's events arrive: in one batch or many, delivered again,
published again at new positions (a replay), or with the worker restarted in between. On SQLite and
PostgreSQL, and as a property over any batching on SQLite."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import orjson
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st

from shared.settings import Settings
from shared.transport import Batch

from services.settlement import bootstrap, examples
from tests.integration.settlement_feed import T0, Feed, batches

TICKETS = [UUID(int=i + 1) for i in range(3)]
SET_UP = T0 - timedelta(days=1)


def feed() -> Feed:
    """Three tickets: one simple; one reopened with work after the reopen and a part returned; one in
    香港 (HKD) with its SLA met, whose events interleave with the others'."""
    f = Feed()
    a, b, c = TICKETS
    f.opened(a, 0), f.opened(b, 1, "北京/朝阳"), f.opened(c, 2, "香港")
    f.work(a, 3, "part", "tech-a", [("P-FILTER", "2")])
    f.work(b, 4, "labour", "tech-b", [("L-REPAIR", "1"), ("L-VISIT", "1")])
    f.work(c, 5, "labour", "tech-c", [("L-REPAIR", "1")])
    f.work(a, 6, "labour", "tech-a", [("L-REPAIR", "1")])
    f.sla_met(c, 7, on_time=True)
    f.closed(a, 8), f.closed(b, 9), f.closed(c, 10)
    f.reopened(b, 11)
    f.work(b, 12, "part", "tech-b", [("P-VALVE", "2")])
    f.work(b, 13, "return", "tech-b", [("P-VALVE", "1")])
    f.closed(b, 14)
    return f


def settle(settings: Settings, plan: list) -> dict[UUID, bytes]:
    """Run the plan (batches, "restart") through settlement's worker; each ticket's documents as bytes."""
    app = bootstrap.application(settings, clock=lambda: SET_UP)
    examples.load(app, "acme", "finance-1")
    follower = bootstrap.follower(settings)
    for step in plan:
        if step == "restart":
            follower = bootstrap.follower(settings)
        else:
            follower.process(step)
    return {t: orjson.dumps(app.ledger("acme", t).statements) for t in TICKETS}


def republished(envelopes, after: int) -> Batch:
    """The envelopes published again at new positions after `after`, as `scrm replay` does."""
    copies = [replace(e, sequence=after + i + 1) for i, e in enumerate(envelopes)]
    return Batch("workflow", copies[-1].sequence, copies)


def test_batching_redelivery_replays_and_restarts_change_no_statement(settings, request):
    envelopes = feed().envelopes
    whole = settle(settings, batches(envelopes, []))
    assert all(whole.values())
    documents = [orjson.loads(whole[t]) for t in TICKETS]
    assert [[d["kind"] for d in docs] for docs in documents] == [
        ["statement"],
        ["statement", "reversal", "statement"],
        ["statement"],
    ]
    pieces = batches(envelopes, [2, 5, 9, 11])
    plan = [
        pieces[0],
        pieces[1],
        "restart",
        pieces[1],
        pieces[2],
        republished(envelopes[:7], envelopes[-1].sequence),
        "restart",
        pieces[3],
        pieces[2],
        pieces[4],
        republished(envelopes, 100),
    ]
    again = replace(settings, data_dir=settings.data_dir / "again")  # another store, to settle it all again
    if settings.database_url:
        again = replace(again, database_url=request.getfixturevalue("postgres").create_database())
    assert settle(again, plan) == whole


@hypothesis_settings(max_examples=15, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 17), max_size=8),
    restarts=st.lists(st.booleans(), min_size=9, max_size=9),
    replay=st.integers(0, 18),
)
def test_any_batching_gives_the_same_statements(cuts, restarts, replay):
    envelopes = feed().envelopes
    with tempfile.TemporaryDirectory() as whole_dir, tempfile.TemporaryDirectory() as split_dir:
        whole = settle(Settings(data_dir=Path(whole_dir)), batches(envelopes, []))
        plan = []
        for piece, restart in zip(batches(envelopes, cuts), restarts):
            plan += [piece, piece] + (["restart"] if restart else [])  # each batch delivered twice
        plan.append(republished(envelopes[:replay] or envelopes[:1], envelopes[-1].sequence))
        assert settle(Settings(data_dir=Path(split_dir)), plan) == whole
