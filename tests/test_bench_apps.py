"""The benchmarks' baselines are apps built from the services' own code: they must keep
building and answering as the services change (no timing here; bench/ measures)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", ["intake_submissions", "wecom_callbacks"])
def test_each_baseline_app_builds_and_is_healthy(script):
    client = bench_module(script).bare_app().test_client()
    assert client.get("/healthz").status_code == 200


def test_the_wecom_baseline_answers_an_encrypted_message_with_a_sealed_reply(tmp_path):
    bench = bench_module("wecom_callbacks")
    query, _, body = bench.messages(1, "smoke", tmp_path / "m.tsv").read_text().splitlines()[0].partition("\t")
    answer = bench.bare_app().test_client().post(f"/v1/tenants/acme/wecom/callback?{query}", data=body,
                                                 content_type="text/xml")
    assert answer.status_code == 200 and b"<Encrypt>" in answer.data

