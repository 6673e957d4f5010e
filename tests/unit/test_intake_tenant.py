"""A tenant's channel settings: credentials are checked, routes pick a template, never none."""

import pytest

from shared.errors import Invalid

from services.intake.tenant import ChannelSettings, settings_id

KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"


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


@pytest.mark.parametrize("change", [
    lambda s: s.configure_wecom("ab", KEY, "ww1", "1000002"),  # token too short
    lambda s: s.configure_wecom("token123", KEY[:-1], "ww1", "1000002"),
    lambda s: s.configure_wecom("token123", "!" * 43, "ww1", "1000002"),
    lambda s: s.configure_wecom("token123", KEY, "ww1", "agent"),
    lambda s: s.configure_official_account("wx1", "token123", None, "safe"),  # safe mode needs a key
    lambda s: s.configure_official_account("wx1", "token123", None, "loud"),
    lambda s: s.set_route("sms", "keyword", "报修", "repair"),
    lambda s: s.set_route("wecom", "keyword", "报修", "no spaces"),
])
def test_bad_settings_are_refused_before_anything_is_recorded(change):
    s = ChannelSettings(tenant="acme")
    with pytest.raises(Invalid):
        change(s)
    assert len(s.collect_events()) == 1  # only Created
