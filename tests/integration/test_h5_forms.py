"""H5 form pages against real stores (SQLite and PostgreSQL): a template published in workflow is
learned by intake's worker from the public template.published event, its page shows the fields,
submissions are checked against the version shown, images are uploaded, and the ticket opens in
workflow with the form's values."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import pytest

from shared.contracts import validate_envelope
from shared.persistence import outbox_reader

from services.intake import bootstrap as intake_boot
from services.intake.api import create_app
from services.intake.domain import ticket_id
from services.intake.forms.domain import form_id
from shared.ratelimit import RateLimiter
from services.intake.forms.uploads import Uploads
from services.intake.forms.web import FormChannel
from services.workflow import bootstrap as workflow_boot
from services.workflow.templates import examples
from tests.support.h5 import FIELDS, TEMPLATE, png
from tests.support.identity import identity_of, open_tenant, staff

STAFF = staff("designer", "admin")


def publish(workflow_web, template: dict) -> None:
    base = f"/v1/tenants/acme/templates/{template['key']}"
    assert workflow_web.put(base + "/draft", json=template, headers=STAFF).status_code == 200
    published = workflow_web.post(base + "/publish", headers=STAFF)
    assert published.status_code == 201, published.get_json()


@pytest.fixture
def platform(settings, tmp_path):
    """Workflow's API and worker, intake's worker and web app with a small rate limit, one store each."""
    open_tenant(settings)
    workflow = workflow_boot.application(settings)
    workflow_web = workflow_boot.create_app(workflow, identity_of(workflow)).test_client()
    publish(workflow_web, TEMPLATE)
    learner = intake_boot.follower(settings)
    learner.run_once()
    intake = learner.app
    limiter = RateLimiter(per_minute=60, burst=100)
    web = create_app(
        intake, identity_of(intake), forms=FormChannel(Uploads(tmp_path / "uploads", max_bytes=64 * 1024), limiter)
    )
    yield {
        "workflow": workflow,
        "workflow_web": workflow_web,
        "learner": learner,
        "intake": intake,
        "web": web.test_client(),
        "limiter": limiter,
    }
    learner.subscription.close()


def page_path(p) -> str:
    return f"/h5/acme/{p['intake'].find(form_id('acme', 'aircon'), 'acme').slug}"


def upload(p, data: bytes, name: str = "a.png", content_type: str = "image/png"):
    return p["web"].post(
        page_path(p) + "/uploads",
        data={"file": (io.BytesIO(data), name, content_type)},
        content_type="multipart/form-data",
    )


def good_body(ref: str, submission_id: str = "s-1") -> dict:
    return {
        "submission_id": submission_id,
        "version": 1,
        "customer": {"name": "王五", "phone": "13900000000", "address": "杭州市西湖区"},
        "values": {
            "fault": "空调不制冷，外机响",
            "units": "2",
            "kind": "空调",
            "symptoms": ["不制冷", "噪音"],
            "visit_on": "2026-12-01",
            "serial": "ab-1234",
            "photos": [ref],
            "model": "KF-350",
        },
    }


def test_a_published_template_is_learned_from_workflows_public_event(platform, settings):
    reader = outbox_reader("workflow", settings)
    envelopes = reader.read(0)
    reader.close()
    published = [validate_envelope(e) for e in envelopes if e.type == "template.published"]
    assert [(e.tenant, e.data["key"], e.data["version"]) for e in published] == [("acme", "aircon", 1)]
    form = platform["intake"].find(form_id("acme", "aircon"), "acme")
    assert [f.key for f in form.latest.fields] == [f["key"] for f in FIELDS]
    assert platform["intake"].position("workflow") == published[0].sequence  # kept with the form's events

    slug = form.slug
    TEMPLATE2 = {**TEMPLATE, "name": "空调报修（新）"}
    publish(platform["workflow_web"], TEMPLATE2)
    platform["learner"].run_once()
    again = platform["intake"].find(form_id("acme", "aircon"), "acme")
    assert (again.slug, sorted(again.versions), again.latest.name) == (slug, [1, 2], "空调报修（新）")


def rules_on(html: str) -> dict[str, dict]:
    """Each field's rules as the page's script reads them."""
    return {
        key: json.loads(unescape(rules))
        for key, rules in re.findall(r'data-key="([^"]+)"[^>]*data-rules=\'([^\']*)\'', html)
    }


def test_the_page_shows_every_field_with_its_checks(platform):
    answer = platform["web"].get(page_path(platform))
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert '<meta name="viewport"' in html and "<title>空调报修</title>" in html
    rules = rules_on(html)
    assert list(rules) == ["customer.name", "customer.phone", "customer.address", *(f["key"] for f in FIELDS)]
    assert rules["fault"] == {"type": "long_text", "required": True, "min_length": 4, "max_length": 500}
    assert rules["model"] == {"type": "text", "required": False, "max_length": 200, "pattern": "[A-Z]{2}-[0-9]{3}"}
    assert rules["units"] == {
        "type": "number",
        "required": True,
        "minimum": "1",
        "maximum": "20",
        "max_abs": "1000000000000000",
        "places": 10,
    }
    assert rules["budget"]["places"] == 2 and rules["budget"]["minimum"] == "0"  # money, in CNY
    assert rules["photos"] == {"type": "image", "required": True, "max_length": 3}
    assert rules["serial"]["shape"] == "[A-Z0-9][A-Z0-9-]{3,63}"
    assert all(f'<option value="{o}">{o}</option>' in html for o in ("空调", "冰箱", "洗衣机"))
    assert all(f'type="checkbox" value="{o}"' in html for o in ("不制冷", "漏水", "噪音"))
    assert 'type="date" id="f-visit_on"' in html
    assert 'type="file" id="f-photos" accept="image/jpeg,image/png,image/webp" multiple' in html


def test_the_page_asks_only_what_the_template_asks_of_the_customer_and_each_thing_once(platform):
    """Issue 14 items 9 and 11: the repair template's page listed the staff's fields (维修报价, 完工照片,
    审核意见), asked name, phone and address twice, and wanted a latitude and longitude typed in."""
    repair = examples.load("repair").to_dict()
    publish(platform["workflow_web"], repair)
    platform["learner"].run_once()
    slug = platform["intake"].find(form_id("acme", "repair"), "acme").slug
    html = platform["web"].get(f"/h5/acme/{slug}").get_data(as_text=True)
    asked = [f["key"] for f in repair["fields"] if f.get("ask_customer")]
    assert list(rules_on(html)) == asked  # no 联系人 block: the template's own fields give the contact
    for staff_only in ("维修报价", "客户接受报价", "完工照片", "审核意见", "保修状态", "联系人", "纬度", "经度"):
        assert staff_only not in html, staff_only

    path = f"/h5/acme/{slug}/submissions"
    values = {
        "customer": "王五",
        "contact_phone": "139 0000 0000",
        "address": {"address": "深圳市南山区科技园 1 号"},
        "serial_number": "sn-20240101",
        "fault_description": "不制冷",
    }
    staff_work = platform["web"].post(
        path, json={"submission_id": "r-0", "version": 1, "values": {**values, "finish_photos": ["x"], "quote": "100"}}
    )
    assert staff_work.status_code == 400
    assert set(staff_work.get_json()["error"]["details"]["errors"]) == {"finish_photos", "quote"}
    accepted = platform["web"].post(path, json={"submission_id": "r-1", "version": 1, "values": values})
    assert accepted.status_code == 201, accepted.get_json()
    submission = platform["intake"].submission("acme", "h5", "r-1")
    assert submission.customer == {"name": "王五", "phone": "13900000000", "address": "深圳市南山区科技园 1 号"}
    assert submission.values["address"] == {"address": "深圳市南山区科技园 1 号"}  # an address alone is enough
    assert submission.region == "广东/深圳"
    missing = platform["web"].post(path, json={"submission_id": "r-2", "version": 1, "values": {}}).get_json()
    assert {"customer", "contact_phone", "address", "serial_number", "fault_description"} <= set(
        missing["error"]["details"]["errors"]
    )


def test_unknown_forms_and_wrong_tokens_are_the_same_404(platform):
    path = page_path(platform)
    for wrong in (
        path[:-1] + ("0" if path[-1] != "0" else "1"),
        "/h5/acme/aircon",
        "/h5/nobody/" + path.split("/")[-1],
        "/h5/acme/other." + "0" * 24,
    ):
        answer = platform["web"].get(wrong)
        assert answer.status_code == 404 and answer.get_json()["error"]["message"] == "no such form", wrong


def test_every_bad_field_is_reported_at_once(platform):
    answer = platform["web"].post(
        page_path(platform) + "/submissions",
        json={
            "submission_id": "bad-1",
            "version": 1,
            "customer": {"name": "王五", "phone": "abc", "address": ""},
            "values": {
                "fault": "漏",
                "units": "50",
                "kind": "电视",
                "model": "kf350",
                "photos": ["f" * 64 + ".png"],
                "colour": "red",
            },
        },
    )
    assert answer.status_code == 400
    errors = answer.get_json()["error"]["details"]["errors"]
    assert set(errors) == {"customer.phone", "customer.address", "fault", "units", "kind", "model", "photos", "colour"}
    assert errors["photos"] == "refers to an image that was not uploaded"
    assert "20" in errors["units"] and "pattern" in errors["model"]

    stale = platform["web"].post(page_path(platform) + "/submissions", json={**good_body("x"), "version": 7})
    assert stale.status_code == 400 and "version" in stale.get_json()["error"]["details"]["errors"]
    not_json = platform["web"].post(page_path(platform) + "/submissions", data="x", content_type="text/plain")
    assert not_json.status_code == 415


def test_uploads_are_sniffed_and_limited(platform, tmp_path):
    image = png()
    first, second = upload(platform, image), upload(platform, image, "b.jpg", "image/jpeg")
    assert first.status_code == second.status_code == 201
    ref = first.get_json()["ref"]
    assert ref == second.get_json()["ref"] and ref.endswith(".png")  # content-addressed, sniffed: not .jpg
    stored = list((tmp_path / "uploads" / "acme").rglob("*.png"))
    assert len(stored) == 1 and stored[0].read_bytes() == image
    assert not [p for p in (tmp_path / "uploads").rglob(".upload-*")]  # no temporary files left behind
    shown = platform["web"].get(first.get_json()["url"])
    assert shown.status_code == 200 and shown.mimetype == "image/png" and shown.data == image

    disguised = upload(platform, b"%PDF-1.7 not an image", "c.png", "image/png")
    assert disguised.status_code == 415 and disguised.get_json()["error"]["code"] == "unsupported_file_type"
    too_big = upload(platform, image + b"\0" * (64 * 1024))
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "file_too_large"
    huge = upload(platform, image + b"\0" * (1024 * 1024))  # beyond the request limit: refused while read
    assert huge.status_code == 413
    no_file = platform["web"].post(page_path(platform) + "/uploads", data={}, content_type="multipart/form-data")
    assert no_file.status_code == 400


def test_a_submission_opens_the_ticket_with_its_values_once(platform, settings):
    ref = upload(platform, png()).get_json()["ref"]
    path = page_path(platform) + "/submissions"
    first = platform["web"].post(path, json=good_body(ref))
    again = platform["web"].post(path, json=good_body(ref))
    assert (first.status_code, again.status_code) == (201, 200), first.get_json()
    assert first.get_json()["ticket_id"] == again.get_json()["ticket_id"] == str(ticket_id("acme", "h5", "s-1"))

    reader = outbox_reader("intake", settings)
    envelopes = reader.read(0)
    reader.close()
    assert len(envelopes) == 1
    created = validate_envelope(envelopes[0]).data
    assert created["template"] == "aircon" and created["route"] == {"by": "form", "key": "aircon"}
    assert created["values"]["units"] == "2" and created["values"]["serial"] == "AB-1234"
    assert created["customer"]["phone"] == "13900000000" and "故障描述：空调不制冷" in created["description"]

    worker = workflow_boot.follower(settings)
    worker.run_once()
    worker.subscription.close()
    ticket = worker.app.ticket(ticket_id("acme", "h5", "s-1"), "acme")
    assert (ticket.template, ticket.template_version) == ("aircon", 1)
    values = ticket.progress["values"]
    assert values["symptoms"] == ["不制冷", "噪音"] and values["photos"] == [ref] and values["kind"] == "空调"


def test_clients_are_limited_per_form_with_retry_after(platform):
    platform["limiter"].burst, platform["limiter"].rate = 2, 1 / 60  # two at once, then one a minute
    path = page_path(platform) + "/submissions"
    codes = [platform["web"].post(path, json={"submission_id": f"r{i}"}).status_code for i in range(3)]
    assert codes == [400, 400, 429]
    limited = platform["web"].post(page_path(platform) + "/uploads", data={}, content_type="multipart/form-data")
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    other = platform["web"].post(path, json={}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 400  # another client has its own bucket
