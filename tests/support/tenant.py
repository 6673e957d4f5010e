"""A tenant set up on every service's app in-process (Flask test clients, SQLite stores), through the
APIs as a user would: templates published, staff named, tickets raised on several channels, one closed
and settled, a customer with an opportunity, an image uploaded. For tests of what the HTTP edges take.

`known` holds real values for the apps' path parameters by name, and `foreign_ids` the ids of every
aggregate in every store: what a caller could guess or copy from elsewhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from flask import Flask

from shared.eventstore import open_store
from shared.persistence import store_env
from shared.settings import SERVICES, Settings

from services.intake import bootstrap as intake
from services.intake.forms.domain import form_id
from services.notify import bootstrap as notify
from services.settlement import bootstrap as settlement
from services.workflow import bootstrap as workflow
from shared.identity.apikeys import key_id_of
from tests.support.h5 import png
from tests.support.identity import KEYS_FILE, bearer, issue_key, open_tenant, replicate, staff

TENANT = "acme"
ADMIN = "admin"
TECHNICIAN = "technician-1"  # in the technicians' pool: the default template's handler
CUSTOMER = {"name": "张三", "phone": "13800138000", "address": "上海市浦东新区"}


@dataclass
class Tenant:
    settings: Settings
    apps: dict[str, Flask] = field(default_factory=dict)
    known: dict[str, list[Any]] = field(default_factory=dict)
    known_per_service: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # where a name means more

    def known_for(self, service: str) -> dict[str, list[Any]]:
        return {**self.known, **self.known_per_service.get(service, {})}

    def client(self, service: str):
        return self.apps[service].test_client()

    def drain(self) -> None:
        """Every worker until none has anything left: the embedded transport, in this process."""
        followers = [
            intake.follower(self.settings),
            workflow.follower(self.settings),
            notify.follower(self.settings),
            settlement.follower(self.settings),
        ]
        try:
            while sum(f.run_once() for f in followers):
                pass
        finally:
            for f in followers:
                f.app.close()

    def recorded(self) -> dict[str, int]:
        """How far each service's log goes: unchanged when a request recorded nothing."""
        return {service: self._store(service).recorder.max_notification_id() or 0 for service in SERVICES}

    def foreign_ids(self, *services: str) -> list[UUID]:
        """The id of every aggregate in the stores of `services` (all when none is named)."""
        ids: set[UUID] = set()
        for service in services or SERVICES:
            store = self._store(service)
            ids |= {n.originator_id for n in store.recorder.select_notifications(start=1, limit=100_000)}
        return sorted(ids)

    def _store(self, service: str):
        stores = self.__dict__.setdefault("_stores", {})
        if service not in stores:
            stores[service] = open_store(service, store_env(service, self.settings))
        return stores[service]


@pytest.fixture
def tenant(tmp_path, monkeypatch) -> Tenant:
    monkeypatch.setenv("SCRM_H5_BURST", "1000000")  # the H5 forms' rate limit is not what these tests are about
    return set_up(Settings(data_dir=tmp_path, token_keys=KEYS_FILE))


def signed_in(service: str, member: str = ADMIN) -> dict[str, str]:
    """The headers that say who calls `service`: the tenant's API key on intake (a system of the
    tenant's), a signed-in staff member's token elsewhere (the administrator's by default)."""
    if service == "intake":
        return bearer(_API_KEYS[TENANT])
    return staff(member, *(["admin", "supervisor"] if member == ADMIN else []))


_API_KEYS: dict[str, str] = {}


@pytest.fixture
def credentials(tenant) -> dict[str, dict[str, str]]:
    """Per service, the headers of the tenant's administrator."""
    return {service: signed_in(service) for service in SERVICES}


def set_up(settings: Settings) -> Tenant:
    tenant = Tenant(settings)
    open_tenant(settings, TENANT, ADMIN)
    _API_KEYS[TENANT] = issue_key(settings, "admin", TENANT)
    replicate(settings, intake, settlement, notify)
    tenant.apps = {
        "intake": intake.web_app(settings),
        "workflow": workflow.web_app(settings),
        "settlement": settlement.web_app(settings),
        "notify": notify.web_app(settings),
    }
    staff, key = signed_in("workflow"), signed_in("intake")
    flow, desk = tenant.client("workflow"), tenant.client("intake")
    base = f"/v1/tenants/{TENANT}"

    _ok(flow.put(f"{base}/staff/{ADMIN}", json={"roles": ["admin", "supervisor"]}, headers=staff))
    _ok(
        flow.put(
            f"{base}/staff/{TECHNICIAN}",
            json={"roles": ["technician"], "supervisor": ADMIN, "site": "nanshan"},
            headers=staff,
        )
    )
    _ok(flow.put(f"{base}/sites/nanshan", json={"name": "南山网点", "regions": ["广东/深圳/南山"]}, headers=staff))
    _ok(flow.post(f"{base}/templates/examples", headers=staff))
    _ok(flow.post(f"{base}/templates/repair/copy", json={"key": "repair-2", "name": "维修（新）"}, headers=staff))
    tenant.drain()  # intake learns the published templates' forms

    submissions = ["h5-1", "h5-2"]
    tickets = [
        _ok(
            desk.post(
                f"{base}/h5/submissions",
                headers=key,
                json={"submission_id": s, "customer": CUSTOMER, "description": "空调不制冷"},
            )
        )["ticket_id"]
        for s in submissions
    ]
    sidebar = _ok(
        desk.post(
            f"{base}/sidebar/tickets",
            headers=key,
            json={"request_id": "r-1", "external_userid": "wm-1", "staff": "lisi", "description": "热水器报修"},
        )
    )
    tickets.append(sidebar["ticket_id"])
    slug = intake.application(settings).find(form_id(TENANT, "repair"), TENANT).slug
    ref = _ok(
        desk.post(
            f"/h5/{TENANT}/{slug}/uploads",
            data={"file": (io.BytesIO(png()), "a.png", "image/png")},
            content_type="multipart/form-data",
        )
    )["ref"]
    customer = _ok(
        desk.get(f"{base}/customers", query_string={"kind": "phone", "value": CUSTOMER["phone"]}, headers=key)
    )["customer_id"]
    _ok(
        desk.post(
            f"{base}/customers/{customer}/opportunities",
            headers=key,
            json={"title": "年度保养合同", "amount": "1200", "by": "lisi", "opportunity_id": "opp-1"},
        )
    )
    tenant.drain()  # the tickets open in workflow

    closed = f"{base}/tickets/{tickets[0]}"
    tech = signed_in("workflow", TECHNICIAN)
    _ok(flow.post(f"{closed}/parts", json={"items": [{"code": "P-VALVE", "quantity": "1"}]}, headers=tech))
    _ok(flow.post(f"{closed}/close", headers=tech))
    tenant.drain()  # settled, and everyone told

    tenant.known = {
        "tenant": [TENANT],
        "ticket_id": tickets,
        "customer_id": [customer, sidebar["customer_id"]],
        "opportunity_id": ["opp-1"],
        "key": ["repair", "installation", "refund", "default", "repair-2"],
        "version": [1],
        "user": [ADMIN, TECHNICIAN],
        "key_id": [key_id_of(_API_KEYS[TENANT])],
        "pool": ["role:technician"],
        "address": ["13800138000"],
        "delivery_id": [UUID(int=1)],  # notify's; none is dead yet
        "code": ["P-FILTER", "L-REPAIR"],
        "warehouse": ["WH-BJ"],
        "staff": [TECHNICIAN],
        "name": ["tier-1"],
        "tier": ["tier-1"],
        "view": ["technician"],
        "who": [TECHNICIAN],  # settlement's
        "site": ["nanshan"],
        "slug": [slug],
        "ref": [ref],
        "channel": ["h5", "wecom_sidebar"],
        "message_id": submissions + ["r-1"],
    }
    tenant.known_per_service = {
        "notify": {"kind": ["assigned", "sla_breached"]},
        "settlement": {"kind": ["part", "labour"]},
    }
    return tenant


def _ok(response) -> Any:
    assert response.status_code < 300, (response.request.path, response.status_code, response.get_data(as_text=True))
    return response.get_json()
