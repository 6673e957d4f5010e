"""`scrm intake tenant ...` and the channels' secrets: shown masked, stored sealed, rotated to a new key
(settings recorded in the clear before sealing included), refused cleanly without a key that opens them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from shared.secrets import KEYS_VARIABLE, SecretBox

from services.cli import cli
from services.intake import bootstrap
from services.intake.tenant import ChannelSettings, settings_id

TOKEN, AES_KEY = "cliToken12345", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
OLD, NEW = SecretBox.new_key(), SecretBox.new_key()


@pytest.fixture
def scrm(settings, monkeypatch):
    monkeypatch.setenv("SCRM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SCRM_TRANSPORT", "embedded")
    if settings.database_url:
        monkeypatch.setenv("SCRM_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("SCRM_DATABASE_URL", raising=False)

    def run(*args: str, keys: str = OLD, ok: bool = True) -> str:
        monkeypatch.setenv(KEYS_VARIABLE, keys)
        result = CliRunner().invoke(cli, ["intake", "tenant", *args], catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return run


def stored(settings) -> list[bytes]:
    """The settings' events as their table holds them."""
    intake = bootstrap.application(settings)
    try:
        return [e.state for e in intake.recorder.select_events(settings_id("acme"))]
    finally:
        intake.close()


def test_secrets_are_shown_masked_stored_sealed_and_rotated_to_a_new_key(scrm, settings):
    shown = json.loads(
        scrm("wecom", "acme", "--token", TOKEN, "--aes-key", AES_KEY, "--corp-id", "ww1", "--agent-id", "1000002")
    )
    assert shown["wecom"] == {"token": "cl…45", "aes_key": "6q…Ut", "corp_id": "ww1", "agent_id": "1000002"}
    assert not any(TOKEN.encode() in state or AES_KEY.encode() in state for state in stored(settings))

    scrm("rotate-secrets", "acme", keys=f"{NEW},{OLD}")  # the new key in front, the old one still there
    assert json.loads(scrm("show", "acme", keys=NEW))["wecom"]["token"] == "cl…45"  # the old key dropped
    assert "cannot be opened" in scrm("show", "acme", keys=OLD, ok=False)
    assert "SCRM_SECRET_KEYS" in scrm("show", "acme", keys="", ok=False)
    assert "SCRM_SECRET_KEYS" in scrm(
        "mp", "acme", "--app-id", "wx1", "--token", "tok123", "--mode", "plain", keys="", ok=False
    )  # nothing is stored in the clear


def test_settings_recorded_in_the_clear_are_sealed_by_rotating(scrm, settings):
    intake = bootstrap.application(settings)
    legacy = ChannelSettings(tenant="acme")
    legacy._wecom_configured(token=TOKEN, aes_key=AES_KEY, corp_id="ww1", agent_id="1000002")  # as recorded then
    for event in legacy.pending_events:
        vars(event).pop("sealed", None), vars(event).pop("by", None)
    intake.save(legacy)
    intake.close()
    assert TOKEN.encode() in stored(settings)[-1]
    assert json.loads(scrm("show", "acme", keys=""))["wecom"]["token"] == "cl…45"  # clear ones need no key
    scrm("rotate-secrets", "acme")
    assert TOKEN.encode() not in stored(settings)[-1] and json.loads(scrm("show", "acme"))["wecom"]["token"] == "cl…45"
