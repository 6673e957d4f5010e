"""A platform whose stores were written before services had an outbox keeps working: what was
published before the upgrade stays readable, and what no follower had read yet still arrives.
(Settlement's and notify's skeletons were rewritten since: their old records are kept, never read.)"""

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.flow import deliveries, told
from tests.support.platform import Platform
from deploy.devservers import wait_for

pytestmark = pytest.mark.e2e
BEFORE = Path(__file__).parents[1] / "fixtures" / "stores_before_outbox"


def test_stores_written_before_the_outbox_are_upgraded_and_nothing_waiting_is_lost(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for store in BEFORE.glob("*.sqlite"):
        shutil.copy(store, data)
    tickets = json.loads((BEFORE / "tickets.json").read_text())

    with Platform(data) as platform:  # `scrm run` initialises the stores first (scrm db init)
        waiting = platform.wait_for_ticket(tickets["unfollowed"])
        assert waiting["status"] == "open" and waiting["template"] == "default"
        wait_for(
            lambda: told(platform, tickets["unfollowed"]),
            30,
            message="the handler of the ticket accepted before the upgrade was never told",
        )
        assert platform.wait_for_ticket(tickets["closed"])["status"] == "closed"
        assert platform.wait_for_ticket(tickets["open"])["status"] == "open"
        assert deliveries(platform, tickets["closed"]) == []  # told before the upgrade: not again
        forms = platform.intake_cli("form-link", "acme", "repair", "--base-url", "http://h5.example")
        assert forms["url"].startswith("http://h5.example/")  # intake had learned the published templates
        again = platform.submit("h5-old-1")
        assert (again.status_code, again.json()["ticket_id"]) == (200, tickets["closed"])
