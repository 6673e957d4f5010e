"""Notify's deliveries through local servers that speak WeCom's, the official account's and an SMS
gateway's JSON, and a real SMTP server: the exact requests, tokens that expire, providers that go
down and come back, fallback, opt-out, quiet hours, rate limits, dead letters, and a crash between a
provider's answer and its record (SQLite and PostgreSQL)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from shared.contracts import ticket_number

from tests.integration.notify_desk import ADMIN, NIGHT, NotifyDesk
from tests.support.identity import staff
from tests.support.providers import FakeOfficialAccount, FakeSmsGateway, FakeSmtp, FakeWeCom
from datetime import UTC

WECOM = {"corp_id": "ww-corp", "agent_id": "1000002", "secret": "corp-secret-0001"}
MP = {"app_id": "wx-app", "secret": "app-secret-0001"}
SMS = {"app_key": "sms-key", "secret": "sms-secret-0001", "sign_name": "极客维修"}


@pytest.fixture
def wecom():
    with FakeWeCom() as server:
        yield server


@pytest.fixture
def mp():
    with FakeOfficialAccount() as server:
        yield server


@pytest.fixture
def sms():
    with FakeSmsGateway() as server:
        yield server


@pytest.fixture
def desk(settings, monkeypatch, wecom, mp, sms):
    desk = NotifyDesk(settings, monkeypatch, wecom=wecom, official_account=mp, sms=sms)
    desk.provider("wecom", **WECOM)
    desk.provider("official_account", **MP)
    desk.provider("sms", **SMS)
    yield desk
    desk.close()


def test_a_wecom_app_message_is_the_documented_request_and_is_recorded_as_sent(desk, wecom):
    ticket = desk.opened("t-1")
    assert desk.send() == 1
    (token,) = wecom.to("/cgi-bin/gettoken")
    assert token.query == {"corpid": "ww-corp", "corpsecret": "corp-secret-0001"}
    (sent,) = wecom.to("/cgi-bin/message/send")
    assert sent.query == {"access_token": "token-1"}
    (delivery,) = desk.deliveries(ticket)
    link = f"{delivery['link']}?n={delivery['delivery_id'].replace('-', '')[:16]}"
    assert sent.body == {
        "touser": "t-1",
        "msgtype": "text",
        "agentid": 1000002,
        "text": {"content": f"{delivery['title']}\n{delivery['body']}\n{link}"},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 14400,
    }
    assert (delivery["status"], delivery["receipt"], delivery["attempts"]) == ("sent", "msg-1", 1)
    assert [e["type"] for e in delivery["events"]] == ["Requested", "Sent"]


def test_a_token_that_expires_mid_run_costs_one_more_gettoken_and_no_message(desk, wecom):
    first = desk.opened("t-1")
    desk.send()
    wecom.expire_once = True  # WeCom answers the next send with 42001
    second = desk.opened("t-2")
    desk.send()
    assert len(wecom.to("/cgi-bin/gettoken")) == 2
    assert [c.query["access_token"] for c in wecom.to("/cgi-bin/message/send")] == ["token-1", "token-1", "token-2"]
    assert [len(wecom.texts_to(u)) for u in ("t-1", "t-2")] == [1, 1]
    assert [d["attempts"] for t in (first, second) for d in desk.deliveries(t)] == [1, 1]


def test_a_token_is_fetched_again_before_it_expires(desk, wecom):
    wecom.token_lives = 600  # refreshed 5 minutes before: after 300 s
    desk.opened("t-1")
    desk.send()
    desk.clock.advance(seconds=301)
    desk.opened("t-2")
    desk.send()
    assert [c.query["access_token"] for c in wecom.to("/cgi-bin/message/send")] == ["token-1", "token-2"]


def test_a_provider_down_for_a_while_then_back_delivers_every_message_exactly_once(desk, wecom):
    wecom.down = True
    tickets = [desk.opened(f"t-{i}") for i in range(20)]
    while not all(any(e["type"] == "Failed" for d in desk.deliveries(t) for e in d["events"]) for t in tickets):
        desk.send()
        desk.clock.advance(seconds=5)  # retries are due after their backoff on the sender's clock
    failed_calls = len(wecom.calls)
    wecom.down = False
    for _ in range(10):
        desk.clock.advance(seconds=30)
        desk.send()
    assert sorted(len(wecom.texts_to(f"t-{i}")) for i in range(20)) == [1] * 20
    assert failed_calls >= 20
    delivered = [d for t in tickets for d in desk.deliveries(t)]
    assert {d["status"] for d in delivered} == {"sent"} and min(d["attempts"] for d in delivered) >= 2
    failure = next(e for e in delivered[0]["events"] if e["type"] == "Failed")["data"]
    assert failure["error"].endswith("HTTP 503") and not failure["permanent"] and failure["retry_at"]


def test_wecom_busy_is_retried_when_due_not_at_once(desk, wecom):
    wecom.busy_once = True
    ticket = desk.opened("t-1")
    desk.send()
    assert wecom.texts_to("t-1") == [] and desk.deliveries(ticket)[0]["status"] == "pending"
    desk.clock.advance(seconds=2)
    desk.send()
    assert len(wecom.texts_to("t-1")) == 1


def test_a_crash_between_wecoms_answer_and_its_record_shows_the_message_once(desk, wecom, settings, monkeypatch):
    ticket = desk.opened("t-1")
    record = desk.sender.app.record
    monkeypatch.setattr(desk.sender.app, "record", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        desk.sender.run_once()  # WeCom took it; the process died before recording that
    monkeypatch.setattr(desk.sender.app, "record", record)
    restarted = NotifyDesk(settings, monkeypatch, wecom=wecom).sender  # rebuilt from the log: still pending
    restarted.clock = desk.clock
    assert restarted.run_once() == 1
    assert len(wecom.to("/cgi-bin/message/send")) == 2 and len(wecom.texts_to("t-1")) == 1
    assert desk.deliveries(ticket)[0]["status"] == "sent"
    restarted._pool.shutdown()


def test_an_invalid_wecom_user_is_recorded_and_not_retried(desk, wecom):
    wecom.invalid.add("ghost")
    ticket = desk.opened("ghost")
    desk.send()
    desk.clock.advance(hours=1)
    desk.send()
    (delivery,) = desk.deliveries(ticket)
    assert delivery["status"] == "dead" and "81013" in delivery["error"]
    assert len(wecom.to("/cgi-bin/message/send")) == 1


def test_a_role_pool_with_three_members_tells_each_of_them(desk, wecom):
    for user in ("d-1", "d-2", "d-3"):
        desk.staff(user, roles=["dispatcher"])
    desk.staff("t-9", roles=["technician"])
    ticket = desk.opened("role:dispatcher")
    desk.send()
    assert [len(wecom.texts_to(u)) for u in ("d-1", "d-2", "d-3", "t-9")] == [1, 1, 1, 0]
    assert {d["kind"] for d in desk.deliveries(ticket)} == {"pool"}


def test_customers_get_official_account_template_messages_and_sms_when_not_a_follower(desk, mp, sms):
    set_up = desk.http.put(
        "/v1/tenants/acme/notify/message-templates/accepted/official_account",
        headers=ADMIN,
        json={"template_id": "TPL-ACCEPTED", "fields": {"first": "{{ title }}", "keyword1": "{{ number }}"}},
    )
    assert set_up.status_code == 200, set_up.json
    follower = desk.created(openid="o-1", phone="13800138000")
    mp.not_following.add("o-2")
    stranger = desk.created(openid="o-2", phone="13900139000")
    desk.send()

    (token,) = mp.to("/cgi-bin/token")
    assert token.query == {"grant_type": "client_credential", "appid": "wx-app", "secret": "app-secret-0001"}
    sent, refused = sorted(mp.to("/cgi-bin/message/template/send"), key=lambda c: c.body["touser"])
    (accepted,) = desk.deliveries(follower)
    assert sent.body == {
        "touser": "o-1",
        "template_id": "TPL-ACCEPTED",
        "url": accepted["link"],
        "client_msg_id": accepted["delivery_id"].replace("-", ""),
        "data": {"first": {"value": "您的工单已受理"}, "keyword1": {"value": ticket_number(follower)}},
    }
    assert refused.body["touser"] == "o-2"

    by_mp, by_sms = desk.deliveries(stranger)
    assert (by_mp["status"], by_mp["channel"], by_sms["channel"], by_sms["status"]) == (
        "fell_back",
        "official_account",
        "sms",
        "sent",
    )
    (text,) = sms.to("/sms/send")
    assert text.body == {
        "to": "13900139000",
        "sign_name": "极客维修",
        "template": None,
        "params": {"title": by_sms["title"], "body": by_sms["body"], "link": by_sms["link"]},
        "text": f"【极客维修】{by_sms['title']}：{by_sms['body']}\n{by_sms['link']}",
        "out_id": by_sms["delivery_id"].replace("-", ""),
    }
    assert {"X-App-Key", "X-Timestamp", "X-Nonce", "X-Signature"} <= set(text.headers)  # the gateway checked it


def test_a_customer_without_an_openid_is_told_by_sms(desk, sms):
    ticket = desk.created(phone="13700137000")
    desk.send()
    (delivery,) = desk.deliveries(ticket)
    assert (delivery["channel"], delivery["status"]) == ("sms", "sent") and len(sms.shown) == 1


def test_a_customer_who_replied_td_is_told_nothing_on_the_official_account(desk, mp):
    desk.http.put(
        "/v1/tenants/acme/notify/message-templates/accepted/official_account",
        headers=ADMIN,
        json={"template_id": "TPL-ACCEPTED"},
    )
    desk.event(
        "customer.opted_out",
        channel="mp",
        identity="openid",
        value="o-1",
        message_id="90",
        customer_id="00000000-0000-0000-0000-000000000001",
    )
    ticket = desk.created(openid="o-1")
    desk.send()
    (delivery,) = desk.deliveries(ticket)
    assert delivery["status"] == "withheld" and mp.to("/cgi-bin/message/template/send") == []
    opt_out = desk.http.get("/v1/tenants/acme/notify/opt-outs/official_account/o-1", headers=ADMIN).json
    assert opt_out["kinds"] == ["*"]


def test_a_merged_customer_is_reached_on_the_survivors_address_and_an_opt_out_of_either_holds(desk, mp, sms):
    """Issue 14: intake merged two followers into a customer known by phone; notify still knew the first
    follower's ticket by that follower alone, who has since unfollowed: nobody could be told. Now the
    ticket's customer is the survivor, reached on their phone, and the second follower's TD still holds."""
    follower, quiet, known = str(uuid4()), str(uuid4()), str(uuid4())
    desk.event("customer.opted_out", channel="mp", identity="openid", value="o-2", message_id="90", customer_id=quiet)
    ticket = desk.created(customer_id=follower, openid="o-1")  # raised on the official account
    mp.not_following.add("o-1")
    for merged in (follower, quiet):
        desk.event(
            "customer.merged",
            UUID(known),
            customer_id=known,
            merged_customer_id=merged,
            identities={"phone": ["13700137000"], "openid": ["o-1", "o-2"]},
            by="api",
        )
    desk.opened("t-1", ticket)
    desk.send()
    told = [d for d in desk.deliveries(ticket) if d["recipient"] == f"customer:{known}"]
    assert [(d["channel"], d["address"], d["status"]) for d in told] == [
        ("official_account", "o-1", "fell_back"),
        ("sms", "13700137000", "sent"),  # o-2 opted out: passed over
    ]
    assert len(sms.shown) == 1 and [m["touser"] for m in mp.shown] == []


def test_opting_out_of_one_kind_keeps_the_others(desk, wecom):
    desk.http.put("/v1/tenants/acme/notify/opt-outs/wecom/t-1", json={"kinds": ["assigned"]}, headers=ADMIN)
    desk.opened("t-1")
    desk.event(
        "ticket.escalated",
        node="work",
        visit=1,
        clock="response",
        target="2h",
        due=desk.clock().isoformat(),
        deadline=desk.clock().isoformat(),
        handler="t-1",
        step=0,
        action="remind",
        to=["t-1"],
        reason="超时提醒",
        vip=False,
    )
    desk.send()
    assert len(wecom.texts_to("t-1")) == 1 and "超时" in wecom.texts_to("t-1")[0]


def test_quiet_hours_defer_what_is_not_urgent_until_they_end_and_an_sla_breach_goes_at_once(desk, wecom):
    answer = desk.http.put(
        "/v1/tenants/acme/notify/quiet-hours", json={"start": "22:00", "end": "08:00"}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.json
    desk.clock.now = NIGHT
    ticket = desk.opened("t-1")
    desk.event(
        "ticket.sla_breached",
        ticket,
        node="work",
        visit=1,
        clock="resolution",
        target="1d",
        due=NIGHT.isoformat(),
        deadline=NIGHT.isoformat(),
        handler="t-1",
    )
    desk.send()
    assert len(wecom.texts_to("t-1")) == 1 and "已超时" in wecom.texts_to("t-1")[0]
    assigned = next(d for d in desk.deliveries(ticket) if d["kind"] == "assigned")
    assert assigned["status"] == "pending" and assigned["due"].startswith("2026-03-03T00:00")  # 08:00 local
    desk.clock.advance(hours=8)
    desk.send()
    assert desk.send() == 0 and len(wecom.texts_to("t-1")) == 1  # 07:30: still quiet
    desk.clock.advance(minutes=31)
    desk.send()
    assert len(wecom.texts_to("t-1")) == 2
    assert [e["type"] for e in next(d for d in desk.deliveries(ticket) if d["kind"] == "assigned")["events"]] == [
        "Requested",
        "Deferred",
        "Sent",
    ]


def test_a_provider_rate_limit_holds_the_rest_for_a_later_round(settings, monkeypatch, wecom):
    desk = NotifyDesk(settings, monkeypatch, wecom=wecom, rates={"wecom": 2.0})
    desk.provider("wecom", **WECOM)
    for i in range(5):
        desk.opened(f"t-{i}")
    assert desk.sender.run_once() == 2  # the bucket holds two; nobody waits
    assert len(wecom.shown) == 2
    desk.close()


def test_a_dead_letter_is_listed_and_redriven_once_its_cause_is_fixed(desk, wecom):
    desk.provider("wecom", **{**WECOM, "secret": "wrong-secret-00"})
    ticket = desk.opened("t-1")
    desk.send()
    letters = desk.http.get("/v1/tenants/acme/notify/dead-letters", headers=ADMIN).json["deliveries"]
    assert [(d["recipient"], d["status"]) for d in letters] == [("staff:t-1", "dead")]
    assert "40001" in letters[0]["error"] and "wrong-secret" not in letters[0]["error"]
    for who, seen in ((staff("t-1"), 1), (staff("t-2"), 0)):  # a staff member sees the letters to them
        assert len(desk.http.get("/v1/tenants/acme/notify/dead-letters", headers=who).json["deliveries"]) == seen
    desk.provider("wecom", **WECOM)
    retried = desk.http.post(f"/v1/tenants/acme/notify/dead-letters/{letters[0]['delivery_id']}/retry", headers=ADMIN)
    assert retried.status_code == 200 and retried.json["status"] == "pending"
    again = desk.http.post(f"/v1/tenants/acme/notify/dead-letters/{letters[0]['delivery_id']}/retry", headers=ADMIN)
    assert again.status_code == 409
    desk.send()
    assert len(wecom.texts_to("t-1")) == 1 and desk.deliveries(ticket)[0]["status"] == "sent"
    assert desk.http.get("/v1/tenants/acme/notify/dead-letters", headers=ADMIN).json["deliveries"] == []


def test_staff_who_prefer_e_mail_get_it_over_starttls(settings, monkeypatch, wecom):
    with FakeSmtp(starttls=True) as smtp:
        desk = NotifyDesk(settings, monkeypatch, wecom=wecom, smtp=smtp)
        desk.provider("email", sender="notify@acme.cn")
        desk.staff("d-1", roles=["dispatcher"], email="d1@acme.cn", notify_by="email")
        ticket = desk.opened("d-1")
        desk.send()
        desk.close()
    (mail,) = smtp.messages
    (delivery,) = desk.deliveries(ticket)
    assert (mail["From"], mail["To"], mail["Subject"]) == ("notify@acme.cn", "d1@acme.cn", "新工单待处理")
    assert mail["Message-ID"] == f"<{delivery['delivery_id']}@scrm-notify>"
    assert delivery["link"] in mail.get_content() and wecom.calls == []


def test_an_invalid_wecom_user_falls_back_to_e_mail(settings, monkeypatch, wecom):
    wecom.invalid.add("d-1")
    with FakeSmtp() as smtp:
        desk = NotifyDesk(settings, monkeypatch, wecom=wecom, smtp=smtp)
        desk.provider("wecom", **WECOM)
        desk.provider("email", sender="notify@acme.cn")
        desk.staff("d-1", roles=["dispatcher"], email="d1@acme.cn")
        ticket = desk.opened("d-1")
        desk.send()
        desk.close()
    assert [(d["channel"], d["status"]) for d in desk.deliveries(ticket)] == [("wecom", "fell_back"), ("email", "sent")]
    assert len(smtp.messages) == 1


def test_provider_secrets_are_sealed_at_rest_and_shown_masked(desk, settings):
    shown = desk.http.get("/v1/tenants/acme/notify/providers", headers=ADMIN).json["accounts"]
    assert shown["wecom"] == {"corp_id": "ww-corp", "agent_id": "1000002", "secret": "co…01"}
    stored = desk.app.recorder.select_events(desk.app.providers("acme").id)
    assert all(b"corp-secret-0001" not in e.state for e in stored)
    refused = desk.http.put("/v1/tenants/acme/notify/providers/wecom", json={"corp_id": "x"}, headers=ADMIN)
    assert refused.status_code == 400 and "secret" in refused.json["error"]["message"]


def test_a_wecom_external_contact_is_told_through_the_corps_customer_contact_api(desk, wecom):
    desk.provider("wecom", **WECOM, external_sender="lisi")
    ticket = desk.created(wecom_external_userid="wm-ext-1")
    wecom.invalid.add("wm-ext-2")
    stranger = desk.created(wecom_external_userid="wm-ext-2", phone="13600136000")
    desk.send()
    first = next(
        c for c in wecom.to("/cgi-bin/externalcontact/add_msg_template") if c.body["external_userid"] == ["wm-ext-1"]
    )
    (delivery,) = desk.deliveries(ticket)
    assert first.query == {"access_token": "token-1"}
    assert first.body == {
        "chat_type": "single",
        "external_userid": ["wm-ext-1"],
        "sender": "lisi",
        "text": {"content": f"{delivery['title']}\n{delivery['body']}\n{delivery['link']}"},
    }
    assert (delivery["channel"], delivery["status"], delivery["receipt"]) == ("wecom_external", "sent", "ext-1")
    assert [(d["channel"], d["status"]) for d in desk.deliveries(stranger)] == [
        ("wecom_external", "fell_back"),
        ("sms", "sent"),
    ]


def test_dead_letters_are_listed_and_redriven_from_the_command_line(desk, wecom, settings):
    import json
    from datetime import datetime, timedelta, timezone

    from click.testing import CliRunner

    from services.cli import cli

    desk.provider("wecom", **{**WECOM, "secret": "wrong-secret-00"})
    desk.opened("t-1")
    desk.send()
    env = {"SCRM_DATA_DIR": str(settings.data_dir), "SCRM_DATABASE_URL": settings.database_url or ""}
    listed = CliRunner().invoke(cli, ["notify", "dead-letters", "list", "acme"], env=env)
    assert listed.exit_code == 0, listed.output
    (letter,) = json.loads(listed.output)
    assert letter["recipient"] == "staff:t-1" and "40001" in letter["error"]
    desk.provider("wecom", **WECOM)
    retried = CliRunner().invoke(cli, ["notify", "dead-letters", "retry", "acme"], env=env)
    assert json.loads(retried.output) == {"redriven": [letter["delivery_id"]]}
    desk.clock.now = datetime.now(UTC) + timedelta(seconds=1)  # the command re-drove it as of now
    desk.send()
    assert len(wecom.texts_to("t-1")) == 1


def test_a_pool_with_a_wecom_department_gets_one_textcard_and_an_unknown_department_is_not_retried(desk, wecom):
    for pool, party in (("role:dispatcher", "3"), ("role:ghosts", "404")):
        assert (
            desk.http.put(
                f"/v1/tenants/acme/notify/pool-groups/{pool}", json={"party": party}, headers=ADMIN
            ).status_code
            == 200
        )
    desk.http.put("/v1/tenants/acme/notify/message-templates/pool/wecom", headers=ADMIN, json={"msgtype": "textcard"})
    ticket = desk.opened("role:dispatcher")
    desk.send()
    (sent,) = wecom.to("/cgi-bin/message/send")
    (delivery,) = desk.deliveries(ticket)
    link = f"{delivery['link']}?n={delivery['delivery_id'].replace('-', '')[:16]}"
    assert sent.body == {
        "toparty": "3",
        "msgtype": "textcard",
        "agentid": 1000002,
        "textcard": {"title": delivery["title"], "description": delivery["body"], "url": link, "btntxt": "详情"},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 14400,
    }
    wecom.invalid_parties.add("404")
    ghosts = desk.opened("role:ghosts")
    desk.send()
    desk.clock.advance(hours=1)
    desk.send()
    (refused,) = desk.deliveries(ghosts)
    assert refused["status"] == "dead" and "81013" in refused["error"]
    assert len(wecom.to("/cgi-bin/message/send")) == 2


def test_a_round_whose_batch_conflicts_records_each_delivery_on_its_own(desk, wecom, monkeypatch):
    """An operator's change meanwhile makes the round's one commit fail: every other delivery's
    outcome is still recorded, once (it was sent; sending it again would tell twice)."""
    from shared.eventstore import IntegrityError

    desk.provider("wecom", **WECOM)
    tickets = [desk.opened("t-1"), desk.opened("t-2")]
    record, batches = desk.sender.app.record, []

    def first_batch_conflicts(events, **kwargs):
        batches.append(len(events))
        if len(batches) == 1:
            raise IntegrityError("changed meanwhile")
        return record(events, **kwargs)

    monkeypatch.setattr(desk.sender.app, "record", first_batch_conflicts)
    desk.send()
    assert batches[0] == 2 and len(batches) >= 3  # the batch, then each delivery on its own
    assert [d["status"] for t in tickets for d in desk.deliveries(t)] == ["sent", "sent"]
    assert (len(wecom.texts_to("t-1")), len(wecom.texts_to("t-2"))) == (1, 1)
