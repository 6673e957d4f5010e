"""The H5 form channel's pure parts: links, rate limits, what an upload is, learning forms, descriptions."""

from __future__ import annotations

from datetime import datetime, timezone, UTC
from uuid import uuid4

import pytest

from shared.envelope import Envelope
from shared.eventstore import UnitOfWork

from services.intake.forms.domain import Form, form_id, parse_slug
from services.intake.forms.policy import form_policy
from shared.ratelimit import RateLimiter, TooManyRequests
from services.intake.forms.submission import describe
from services.intake.forms.uploads import TooLarge, Uploads, UnsupportedType, sniff
from tests.support.h5 import FIELDS, png


def test_a_slug_is_the_key_and_a_token_and_nothing_else():
    form = Form(tenant="acme", key="air-con_2", token="0123456789abcdef01234567")
    assert parse_slug(form.slug) == ("air-con_2", "0123456789abcdef01234567")
    assert form.admits("0123456789abcdef01234567") and not form.admits("0123456789abcdef01234568")
    for bad in (
        "air-con_2",
        "air-con_2.0123",
        "a.0123456789ABCDEF01234567",
        "a/b.0123456789abcdef01234567",
        ".0123456789abcdef01234567",
        "a.0123456789abcdef012345678",
    ):
        assert parse_slug(bad) is None, bad
    assert form_id("acme", "x") == form_id("acme", "x") != form_id("other", "x")


def test_the_bucket_allows_a_burst_then_the_rate_and_says_when_to_retry():
    now = [0.0]
    limiter = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0])  # one every 10 s
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("a")
    assert refused.value.retry_after == 10 and refused.value.status == 429
    limiter.take("b")  # each client its own bucket
    now[0] = 9.0
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("a")
    assert refused.value.retry_after == 1
    now[0] = 10.0
    limiter.take("a")
    now[0] = 1000.0  # refills to the burst, no further
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(TooManyRequests):
        limiter.take("a")


def test_the_limiter_forgets_refilled_clients_rather_than_growing():
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: now[0], max_keys=3)
    for client in "abc":
        limiter.take(client)
    now[0] = 5.0
    limiter.take("d")
    assert set(limiter._buckets) == {"d"}


def test_uploads_are_known_by_their_first_bytes():
    assert sniff(png()) == "png"
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "jpg"
    assert sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 ") == "webp"
    for other in (b"GIF89a", b"%PDF-1.7", b"<svg xmlns=", b"RIFF\x24\x00\x00\x00WAVEfmt ", b"", b"\x89PN"):
        assert sniff(other) is None, other
    uploads = Uploads(root=None, max_bytes=100)
    assert uploads.check(png(1, 1)) == "png"
    with pytest.raises(TooLarge):
        uploads.check(b"\xff\xd8\xff" + b"\0" * 98)
    with pytest.raises(UnsupportedType):
        uploads.check(b"<html>")


def envelope(tenant: str | None, key: str, version: int, name: str = "空调报修") -> Envelope:
    return Envelope(
        id=uuid4(),
        source="scrm/workflow",
        type="template.published",
        subject=uuid4(),
        time=datetime.now(UTC),
        tenant=tenant,
        sequence=version,
        data={
            "key": key,
            "version": version,
            "name": name,
            "fields": FIELDS,
            "variant_of": None,
            "regions": [],
            "by": "designer",
        },
    )


def test_forms_are_learned_once_per_version_and_keep_their_link():
    from services.intake.application import IntakeApplication

    app = IntakeApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    tokens = iter(["a" * 24, "b" * 24])
    policy = form_policy(lambda: next(tokens))

    def process(*envelopes: Envelope) -> None:
        uow = UnitOfWork(app, optimistic=False)
        for e in envelopes:
            policy(e, uow)
        app.record(uow.pending_events())

    process(envelope("acme", "aircon", 1), envelope(None, "old", 1))
    process(envelope("acme", "aircon", 1), envelope("acme", "aircon", 2, "新版"))  # the first one redelivered
    form = app.find(form_id("acme", "aircon"), "acme")
    assert (form.token, sorted(form.versions), form.latest.name, form.version) == ("a" * 24, [1, 2], "新版", 3)
    assert [f.key for f in form.published(1).fields] == [f["key"] for f in FIELDS]
    assert app.find(form_id("acme", "old"), "acme") is None


def test_the_description_reads_like_the_form():
    from services.intake.forms.domain import FormVersion

    version = FormVersion.from_dict({"version": 1, "name": "空调报修", "fields": FIELDS})
    text = describe(
        version, {"fault": "不制冷", "units": "2", "symptoms": ["漏水", "噪音"], "photos": ["x.png", "y.png"]}
    )
    assert text.splitlines() == [
        "H5 表单「空调报修」",
        "故障描述：不制冷",
        "台数：2",
        "症状：漏水、噪音",
        "故障照片：2 个文件",
    ]
    assert len(describe(version, {"fault": "长" * 5000})) == 4000


def test_workflow_opens_the_ticket_with_the_forms_values_and_drops_those_its_version_refuses():
    from services.workflow.application import WorkflowApplication
    from services.workflow.assignment import Assigner
    from services.workflow.policies import ticket_policy
    from services.workflow.templates.model import Template
    from tests.support.h5 import TEMPLATE

    workflow = WorkflowApplication(Assigner(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    workflow.change_library(
        "acme", lambda lib: (lib.save_draft(Template.from_dict(TEMPLATE), "d"), lib.publish("aircon", "d"))
    )
    policy, opened = ticket_policy(workflow.assigner, workflow.load), []
    for values in ({"units": "3", "kind": "冰箱"}, {"units": "3", "kind": "电视", "colour": "red"}):
        subject = uuid4()
        created = Envelope(
            id=uuid4(),
            source="scrm/intake",
            type="ticket.created",
            subject=subject,
            time=datetime.now(UTC),
            tenant="acme",
            schema_version=2,
            data={
                "channel": "h5",
                "submission_id": str(subject),
                "description": "d",
                "customer": {"phone": "13900000000"},
                "template": "aircon",
                "values": values,
            },
        )
        uow = UnitOfWork(workflow)
        policy(created, uow)
        workflow.record(uow.pending_events())
        opened.append(workflow.ticket(subject, "acme").progress["values"])
    assert (opened[0]["units"], opened[0]["kind"]) == ("3", "冰箱")
    assert opened[1]["units"] == "3" and opened[1].get("kind") is None and "colour" not in opened[1]


def test_a_form_asks_what_the_template_asks_of_the_customer_else_what_a_new_ticket_needs():
    from services.intake.forms.domain import FormVersion

    fields = [
        {"key": "who", "label": "客户", "type": "customer", "required": True},
        {"key": "tel", "label": "电话", "type": "phone", "required": True},
        {"key": "spare_tel", "label": "备用电话", "type": "phone"},
        {"key": "fault", "label": "故障", "type": "long_text"},
        {"key": "quote", "label": "报价", "type": "money", "required": True},
        {"key": "photos", "label": "完工照片", "type": "image", "min_length": 1},
    ]
    marked = FormVersion.from_dict(
        {
            "version": 1,
            "name": "维修",
            "fields": [
                {**f, "ask_customer": True} if f["key"] in ("who", "tel", "spare_tel", "fault") else f for f in fields
            ],
        }
    )
    assert [f.key for f in marked.asked] == ["who", "tel", "spare_tel", "fault"]
    assert {part: f.key for part, f in marked.contact.items()} == {"name": "who", "phone": "tel"}  # the address: asked
    unmarked = FormVersion.from_dict({"version": 1, "name": "维修", "fields": fields})
    assert [f.key for f in unmarked.asked] == ["who", "tel", "quote"]
