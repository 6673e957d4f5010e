"""H5 form pages against real stores (SQLite and PostgreSQL): a template published in workflow is
learned by intake's worker from the public template.published event, its page shows the fields,
submissions are checked against the version shown, images are uploaded, and the ticket opens in
workflow with the form's values."""

from __future__ import annotations

import io
import re

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
    web = create_app(intake, identity_of(intake), forms=FormChannel(Uploads(tmp_path / "uploads", max_bytes=64 * 1024), limiter))
    yield {"workflow": workflow, "workflow_web": workflow_web, "learner": learner, "intake": intake,
           "web": web.test_client(), "limiter": limiter}
    learner.subscription.close()


def page_path(p) -> str:
    return f"/h5/acme/{p['intake'].find(form_id('acme', 'aircon'), 'acme').slug}"


def upload(p, data: bytes, name: str = "a.png", content_type: str = "image/png"):
    return p["web"].post(page_path(p) + "/uploads", data={"file": (io.BytesIO(data), name, content_type)},
                         content_type="multipart/form-data")


def good_body(ref: str, submission_id: str = "s-1") -> dict:
    return {"submission_id": submission_id, "version": 1,
            "customer": {"name": "王五", "phone": "13900000000", "address": "杭州市西湖区"},
            "values": {"fault": "空调不制冷，外机响", "units": "2", "kind": "空调", "symptoms": ["不制冷", "噪音"],
                       "visit_on": "2026-12-01", "serial": "ab-1234", "photos": [ref], "model": "KF-350"}}


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


def test_the_page_shows_every_field_with_its_checks(platform):
    answer = platform["web"].get(page_path(platform))
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert '<meta name="viewport"' in html and "<title>空调报修</title>" in html
    assert re.search(r'<textarea id="f-fault" required minlength="4" maxlength="500">', html)
    assert 'id="f-model" pattern="[A-Z]{2}-[0-9]{3}"' in html.replace(' maxlength="200"', "")
    assert re.search(r'id="f-units" inputmode="decimal" step="any" required min="1" max="20"', html)
    assert 'step="0.01" min="0"' in html  # money
    assert all(f'<option value="{o}">{o}</option>' in html for o in ("空调", "冰箱", "洗衣机"))
    assert all(f'type="checkbox" value="{o}"' in html for o in ("不制冷", "漏水", "噪音"))
    assert 'type="date" id="f-visit_on"' in html
    assert re.search(r'type="file" id="f-photos" accept="image/jpeg,image/png,image/webp" multiple\s+'
                     r'data-min="1" data-max="3"', html)


def test_unknown_forms_and_wrong_tokens_are_the_same_404(platform):
    path = page_path(platform)
    for wrong in (path[:-1] + ("0" if path[-1] != "0" else "1"), "/h5/acme/aircon", "/h5/nobody/" + path.split("/")[-1],
                  "/h5/acme/other." + "0" * 24):
        answer = platform["web"].get(wrong)
        assert answer.status_code == 404 and answer.get_json()["error"]["message"] == "no such form", wrong


def test_every_bad_field_is_reported_at_once(platform):
    answer = platform["web"].post(page_path(platform) + "/submissions", json={
        "submission_id": "bad-1", "version": 1, "customer": {"name": "王五", "phone": "abc", "address": ""},
        "values": {"fault": "漏", "units": "50", "kind": "电视", "model": "kf350", "photos": ["f" * 64 + ".png"],
                   "colour": "red"}})
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
