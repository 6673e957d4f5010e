import pytest

from shared.secrets import SecretBox, SecretsUnavailable, masked


def test_a_sealed_secret_opens_with_its_key_and_is_not_the_secret():
    box = SecretBox([SecretBox.new_key()])
    sealed = box.seal("corp-secret-123")
    assert "corp-secret-123" not in sealed
    assert box.open(sealed) == "corp-secret-123"


def test_rotation_reseals_with_the_newest_key_and_the_old_key_can_then_go():
    old, new = SecretBox.new_key(), SecretBox.new_key()
    sealed = SecretBox([old]).seal("s3cret")
    both = SecretBox([new, old])
    rotated = both.rotate(sealed)
    assert SecretBox([new]).open(rotated) == "s3cret"
    with pytest.raises(SecretsUnavailable):
        SecretBox([new]).open(sealed)


def test_without_keys_nothing_is_sealed_and_keys_come_from_the_environment():
    with pytest.raises(SecretsUnavailable):
        SecretBox.from_env({}).seal("x")
    key = SecretBox.new_key()
    assert SecretBox.from_env({"SCRM_SECRET_KEYS": f" {key} ,"}).open(SecretBox([key]).seal("x")) == "x"
    with pytest.raises(SecretsUnavailable):
        SecretBox(["not-a-key"])


def test_a_masked_secret_never_shows_it_whole():
    assert masked("abcdefghijklmnop") == "ab…op"
    assert masked("short") == "••••••"
