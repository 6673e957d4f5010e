"""Templates on the real platform: a template published with `scrm workflow templates load-examples`,
a chat message routed to it, staff acting on the ticket over real HTTP (two racing actions give one
success and one 409); and the three example templates run through, end to end."""

import subprocess
import sys
import threading

import pytest
import requests

from tests.integration import test_workflow_templates as flows
from tests.integration.test_workflow_templates import Desk
from tests.support.platform import Platform
from tests.support.wecom import scrm, send_text, set_up
from tests.support.identity import admin as admin_headers, staff as as_staff

pytestmark = pytest.mark.e2e

STAFF = {"boss": {"roles": ["service_supervisor"]}, "cs-1": {"roles": ["customer_service"], "supervisor": "boss"}}


def race(platform, path: str, bodies: list[dict], staff: str) -> list[int]:
    """Post the bodies at the same moment; their status codes."""
    start, codes = threading.Barrier(len(bodies)), []

    def post(body):
        start.wait()
        codes.append(platform.post("workflow", path, json=body, headers=as_staff(staff)).status_code)

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(codes)


def test_a_refund_routed_from_chat_runs_on_the_published_template(tmp_path):
    with Platform(tmp_path / "data") as platform:
        loaded = subprocess.run(
            [sys.executable, "-m", "services", "workflow", "templates", "load-examples", "acme"],
            env=platform.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert loaded.returncode == 0 and "refund v1" in loaded.stdout, loaded.stderr
        set_up(platform)
        scrm(platform, "route", "acme", "--channel", "wecom", "--keyword", "退款", "--template", "refund")
        for user, member in STAFF.items():
            answer = requests.put(
                f"{platform.urls['workflow']}/v1/tenants/acme/staff/{user}",
                json=member,
                headers=admin_headers(),
                timeout=10,
            )
            assert answer.status_code == 200, answer.text

        send_text(platform, "我要退款，订单 JD12345678", "990001")
        ticket_id = platform.look_up("/v1/tenants/acme/channels/wecom/messages/990001").json()["ticket_id"]
        ticket = platform.wait_for_ticket(ticket_id)
        assert (ticket["template"], ticket["node"], ticket["handler"]) == ("refund", "apply", "role:customer_service")

        actions = f"/v1/tenants/acme/tickets/{ticket_id}/actions"
        advanced = platform.post(
            "workflow",
            actions,
            headers=as_staff("cs-1"),
            json={"action": "advance", "values": {"refund_reason": "破损", "refund_amount": "88"}},
        )
        assert advanced.status_code == 200 and advanced.json()["handler"] == "boss", advanced.text
        version = advanced.json()["version"]
        codes = race(
            platform,
            actions,
            [
                {"action": "approve", "node": "review", "expected_version": version},
                {"action": "reject", "node": "review", "expected_version": version},
            ],
            "boss",
        )
        assert codes == [200, 409]
        timeline = platform.get("workflow", f"/v1/tenants/acme/tickets/{ticket_id}/timeline").json()["timeline"]
        assert [e["data"]["action"] for e in timeline if e["type"] in ("Transitioned", "Closed")] in (
            ["advance", "approve"],
            ["advance", "reject"],
        )


# --- the three example templates, end to end ---------------------------------------------------

KEYWORDS = {"installation": "安装", "repair": "报修", "refund": "退款"}


class Answer:
    """A requests response shaped like the Flask test client's, for the shared flows."""

    def __init__(self, response: requests.Response):
        self.status_code = response.status_code
        self.json = response.json() if response.content else None


class RealHttp:
    def __init__(self, base: str):
        self.base = base

    def get(self, path: str, headers: dict | None = None) -> Answer:
        return Answer(requests.get(self.base + path, headers=headers, timeout=10))

    def post(self, path: str, json: dict | None = None, headers: dict | None = None) -> Answer:
        return Answer(requests.post(self.base + path, json=json, headers=headers, timeout=10))

    def put(self, path: str, json: dict | None = None, headers: dict | None = None) -> Answer:
        return Answer(requests.put(self.base + path, json=json, headers=headers, timeout=10))


class ChatDesk(Desk):
    """The integration tests' desk on the real platform: tickets come from WeCom messages routed by
    keyword, through intake, the worker and workflow's HTTP API in their own processes."""

    def __init__(self, platform: Platform):
        self.platform, self.http, self.opened = platform, RealHttp(platform.urls["workflow"]), 0

    def open(self, template: str) -> str:
        self.opened += 1
        msg_id = f"77{self.opened:04d}"
        send_text(self.platform, f"{KEYWORDS[template]}：请处理 {self.opened}", msg_id)
        ticket_id = self.platform.look_up(f"/v1/tenants/acme/channels/wecom/messages/{msg_id}").json()["ticket_id"]
        self.platform.wait_for_ticket(ticket_id)
        return f"/v1/tenants/acme/tickets/{ticket_id}"


@pytest.mark.parametrize(
    "flow",
    [
        flows.test_installation_splits_into_parts_check_and_scheduling_and_joins_before_install,
        flows.test_repair_branches_on_warranty_status,
        flows.test_refund_is_returned_approved_and_rejected_and_hides_the_payment_reference,
    ],
    ids=["installation", "repair", "refund"],
)
def test_the_example_templates_run_through_the_real_platform(tmp_path, flow):
    with Platform(tmp_path / "data") as platform:
        set_up(platform)
        for template, keyword in KEYWORDS.items():
            scrm(platform, "route", "acme", "--channel", "wecom", "--keyword", keyword, "--template", template)
        desk = ChatDesk(platform)
        for user, member in flows.STAFF.items():
            assert desk.http.put(f"/v1/tenants/acme/staff/{user}", json=member, headers=flows.ADMIN).status_code == 200
        assert desk.http.post("/v1/tenants/acme/templates/examples", headers=flows.ADMIN).status_code == 201
        flow(desk)
