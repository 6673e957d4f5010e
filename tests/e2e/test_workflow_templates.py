"""A template published with `scrm workflow templates load-examples`, a chat message routed to it,
and staff acting on the ticket over real HTTP: two racing actions give one success and one 409."""

import subprocess
import sys
import threading

import pytest
import requests

from tests.support.platform import Platform
from tests.support.wecom import scrm, send_text, set_up

pytestmark = pytest.mark.e2e

STAFF = {"boss": {"roles": ["service_supervisor"]}, "cs-1": {"roles": ["customer_service"], "supervisor": "boss"}}


def race(platform, path: str, bodies: list[dict], staff: str) -> list[int]:
    """Post the bodies at the same moment; their status codes."""
    start, codes = threading.Barrier(len(bodies)), []

    def post(body):
        start.wait()
        codes.append(platform.post("workflow", path, json=body, headers={"X-Staff-Id": staff}).status_code)
    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(codes)


def test_a_refund_routed_from_chat_runs_on_the_published_template(tmp_path):
    with Platform(tmp_path / "data") as platform:
        loaded = subprocess.run([sys.executable, "-m", "services", "workflow", "templates", "load-examples", "acme"],
                                env=platform.env, capture_output=True, text=True, timeout=60)
        assert loaded.returncode == 0 and "refund v1" in loaded.stdout, loaded.stderr
        set_up(platform)
        scrm(platform, "route", "acme", "--channel", "wecom", "--keyword", "退款", "--template", "refund")
        for user, member in STAFF.items():
            answer = requests.put(f"{platform.urls['workflow']}/v1/tenants/acme/staff/{user}", json=member,
                                  headers={"X-Staff-Id": "admin"}, timeout=10)
            assert answer.status_code == 200, answer.text

        send_text(platform, "我要退款，订单 JD12345678", "990001")
        ticket_id = platform.look_up("/v1/tenants/acme/channels/wecom/messages/990001").json()["ticket_id"]
        ticket = platform.wait_for_ticket(ticket_id)
        assert (ticket["template"], ticket["node"], ticket["handler"]) == ("refund", "apply", "role:customer_service")

        actions = f"/v1/tenants/acme/tickets/{ticket_id}/actions"
        advanced = platform.post("workflow", actions, headers={"X-Staff-Id": "cs-1"}, json={
            "action": "advance", "values": {"refund_reason": "破损", "refund_amount": "88"}})
        assert advanced.status_code == 200 and advanced.json()["handler"] == "boss", advanced.text
        version = advanced.json()["version"]
        codes = race(platform, actions, [{"action": "approve", "node": "review", "expected_version": version},
                                         {"action": "reject", "node": "review", "expected_version": version}], "boss")
        assert codes == [200, 409]
        timeline = platform.get("workflow", f"/v1/tenants/acme/tickets/{ticket_id}/timeline").json()["timeline"]
        assert [e["data"]["action"] for e in timeline if e["type"] in ("Transitioned", "Closed")] in (
            ["advance", "approve"], ["advance", "reject"])
