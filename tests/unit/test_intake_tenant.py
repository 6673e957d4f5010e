"""A tenant's channel settings: credentials are checked, routes pick a template, never none."""

import pytest

from eventsourcing.application import Application

from shared.errors import Invalid
from shared.secrets import SecretBox, SecretsUnavailable

from services.intake.tenant import ChannelSettings, settings_id

KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
BOX = SecretBox([SecretBox.new_key()])
SEAL = {"seal": BOX.seal}


def routed_settings() -> ChannelSettings:
    s = ChannelSettings(tenant="acme")
    s.set_route("wecom", "keyword", "报修", "repair")
    s.set_route("wecom", "keyword", "空调报修", "ac-repair")
    s.set_route("wecom", "keyword", "Install", "install")
    s.set_route("mp", "menu", "V1001_REPAIR", "repair")
    return s


def test_the_longest_keyword_in_the_text_picks_the_template_and_nothing_is_left_unrouted():
    s = routed_settings()
    assert s.id == settings_id("acme")
    assert s.route("wecom", text="我家空调报修一下").as_dict() == {"by": "keyword", "key": "空调报修"}
    assert s.route("wecom", text="我家空调报修一下").template == "ac-repair"
    assert s.route("wecom", text="热水器报修").template == "repair"
    assert s.route("wecom", text="please INSTALL it").template == "install"  # case does not matter
    assert s.route("mp", text="热水器报修").template == "default"  # routes belong to their channel
    assert s.route("mp", menu_key="V1001_REPAIR").as_dict() == {"by": "menu", "key": "V1001_REPAIR"}
    assert s.route("mp", menu_key="V1001_OTHER").as_dict() == {"by": "default"}
    s.set_default_template("triage")
    s.remove_route("wecom", "keyword", "报修")
    assert s.route("wecom", text="热水器报修").template == "triage"
    with pytest.raises(Invalid):
        s.remove_route("wecom", "keyword", "报修")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.configure_wecom("ab", KEY, "ww1", "1000002", **SEAL),  # token too short
        lambda s: s.configure_wecom("token123", KEY[:-1], "ww1", "1000002", **SEAL),
        lambda s: s.configure_wecom("token123", "!" * 43, "ww1", "1000002", **SEAL),
        lambda s: s.configure_wecom("token123", KEY, "ww1", "agent", **SEAL),
        lambda s: s.configure_official_account("wx1", "token123", None, "safe", **SEAL),  # safe mode needs a key
        lambda s: s.configure_official_account("wx1", "token123", None, "loud", **SEAL),
        lambda s: s.set_route("sms", "keyword", "报修", "repair"),
        lambda s: s.set_route("wecom", "keyword", "报修", "no spaces"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_recorded(change):
    s = ChannelSettings(tenant="acme")
    with pytest.raises(Invalid):
        change(s)
    assert len(s.collect_events()) == 1  # only Created


def test_channel_secrets_are_sealed_in_the_events_and_opened_only_in_a_copy_to_read():
    s = ChannelSettings(tenant="acme")
    s.configure_wecom("token123", KEY, "ww1", "1000002", seal=BOX.seal, by="ops")
    s.configure_official_account("wx1", "mptoken9", KEY, "safe", seal=BOX.seal)
    recorded = repr([vars(e) for e in s.collect_events()])
    assert "token123" not in recorded and "mptoken9" not in recorded and KEY not in recorded
    assert "ops" in recorded and "ww1" in recorded  # who, and what is no secret
    seen = s.opened(BOX.open)
    assert (seen.wecom.token, seen.wecom.aes_key, seen.official_account.token) == ("token123", KEY, "mptoken9")
    assert s.wecom.sealed and s.wecom.token != "token123"  # the aggregate itself keeps them sealed
    with pytest.raises(SecretsUnavailable):
        s.opened(SecretBox([SecretBox.new_key()]).open)  # a key that did not seal them


def test_settings_recorded_in_the_clear_before_sealing_still_load_and_rotating_seals_them():
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    legacy = ChannelSettings(tenant="acme")
    legacy._wecom_configured(token="token123", aes_key=KEY, corp_id="ww1", agent_id="1000002")  # as recorded then
    for event in legacy.pending_events:  # the event as stored before it had `sealed` and `by`
        vars(event).pop("sealed", None), vars(event).pop("by", None)
    app.save(legacy)
    loaded = app.repository.get(legacy.id)
    assert not loaded.wecom.sealed and loaded.opened(BOX.open).wecom.token == "token123"
    assert loaded.rotate_secrets(BOX.seal, BOX.rotate) == 1
    app.save(loaded)
    again = app.repository.get(legacy.id)
    assert again.wecom.sealed and "token123" not in repr(vars(again.wecom))
    assert again.opened(BOX.open).wecom == loaded.opened(BOX.open).wecom
