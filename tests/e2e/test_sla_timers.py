"""SLA timers in real processes: `scrm run`, a template whose targets are seconds on a 24×7 calendar
(real time, no clock tricks), and the workflow worker (which runs the timer loop) SIGKILLed while a
timer is pending, and again between two timers. Each timer fires once after the restart, the
escalation shows in the timeline, and notify tells the supervisor."""

import time

import pytest
import requests

from tests.support.platform import Platform
from deploy.devservers import wait_for
from tests.support.wecom import scrm, send_text, set_up
from tests.support.identity import admin as admin_headers

pytestmark = pytest.mark.e2e

SLA = {
    "response": "20s",
    "warn_before": "10s",
    "escalation": [{"after": "0s", "do": "remind"}, {"after": "4s", "do": "notify_supervisor"}],
}
TEMPLATE = {
    "key": "hotline",
    "name": "热线",
    "calendar": "24x7",
    "nodes": [
        {
            "key": "triage",
            "name": "受理",
            "handler": {"kind": "user", "value": "cs-1"},
            "actions": ["view", "edit", "advance"],
            "sla": SLA,
        },
        {"key": "done", "name": "完成", "kind": "end", "actions": ["view"]},
    ],
    "transitions": [{"from": "triage", "to": "done"}],
}
FIRED = ("SlaWarned", "SlaBreached", "Escalated")


def restart_worker(platform) -> None:
    """SIGKILL the workflow worker and wait until the supervisor has started another."""
    killed = platform.kill("workflow-worker")

    def restarted() -> bool:
        try:
            return platform.pid("workflow-worker") != killed
        except (ValueError, FileNotFoundError):  # the pid file is being written
            return False

    wait_for(restarted, 30, interval=0.1, message="the supervisor did not restart the workflow worker")


def test_a_pending_timer_fires_exactly_once_after_the_worker_is_killed(tmp_path):
    with Platform(tmp_path / "data") as platform:
        admin = admin_headers()
        for user, member in {"boss": {}, "cs-1": {"supervisor": "boss"}}.items():
            assert (
                requests.put(
                    f"{platform.urls['workflow']}/v1/tenants/acme/staff/{user}", json=member, headers=admin, timeout=10
                ).status_code
                == 200
            )
        assert (
            requests.put(
                f"{platform.urls['workflow']}/v1/tenants/acme/templates/hotline/draft",
                json=TEMPLATE,
                headers=admin,
                timeout=10,
            ).status_code
            == 200
        )
        published = platform.post("workflow", "/v1/tenants/acme/templates/hotline/publish", headers=admin)
        assert published.status_code == 201, published.text
        set_up(platform)
        scrm(platform, "route", "acme", "--channel", "wecom", "--keyword", "投诉", "--template", "hotline")

        send_text(platform, "我要投诉，师傅没来", "880001")
        ticket_id = platform.look_up("/v1/tenants/acme/channels/wecom/messages/880001").json()["ticket_id"]
        ticket = platform.wait_for_ticket(ticket_id)
        (clock,) = ticket["nodes"][0]["sla"]
        assert (clock["kind"], clock["target"], clock["next"]["timer"]) == ("response", "20s", "warn")
        timeline_path = f"/v1/tenants/acme/tickets/{ticket_id}/timeline"

        def fired():
            return [
                (e["type"], e["data"]["timer"])
                for e in platform.get("workflow", timeline_path).json()["timeline"]
                if e["type"] in FIRED
            ]

        restart_worker(platform)  # the warning (due 10 s after the ticket was raised) is pending
        assert fired() == []
        wait_for(lambda: fired() == [("SlaWarned", "warn")], 30, interval=0.2, message=f"no warning: {fired()}")
        restart_worker(platform)  # between the warning and the breach
        everything = [
            ("SlaWarned", "warn"),
            ("SlaBreached", "breach"),
            ("Escalated", "escalate.0"),
            ("Escalated", "escalate.1"),
        ]
        wait_for(lambda: len(fired()) >= len(everything), 40, interval=0.2, message=f"not all fired: {fired()}")
        time.sleep(2)  # long enough for a duplicate to show
        assert fired() == everything

        timeline = platform.get("workflow", timeline_path).json()["timeline"]
        (told,) = [
            e["data"] for e in timeline if e["type"] == "Escalated" and e["data"]["action"] == "notify_supervisor"
        ]
        assert told["to"] == ["boss"]

        def staff_told():
            answer = platform.get("notify", f"/v1/tenants/acme/tickets/{ticket_id}/deliveries")
            return sorted(
                (d["kind"], d["recipient"])
                for d in answer.json()["deliveries"]
                if d["recipient"].startswith("staff:") and d["status"] == "sent"
            )

        expected = [
            ("assigned", "staff:cs-1"),
            ("escalated", "staff:boss"),
            ("escalated", "staff:cs-1"),
            ("sla_breached", "staff:boss"),
            ("sla_breached", "staff:cs-1"),
            ("sla_warned", "staff:boss"),
            ("sla_warned", "staff:cs-1"),
        ]
        wait_for(lambda: staff_told() == expected, 30, interval=0.2, message=f"not told: {staff_told()}")
