"""Calls to providers (shared/providercalls.py) against a local HTTP server: what each answer becomes, and
the environment's proxy honoured as requests honoured it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy.devservers import free_port
from shared import providercalls
from shared.providercalls import CallFailed, Refused, call


class Provider(BaseHTTPRequestHandler):
    """Answers by path: /ok echoes what it got as JSON, /status/N answers N, /text answers no JSON."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as tests/support/providers.py: no delayed-ACK stall per answer
    seen: list[str] = []

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def _answer(self, body: bytes) -> None:
        Provider.seen.append(self.requestline)
        status, answer = 200, json.dumps({"path": self.path, "body": body.decode() or None}).encode()
        if "/status/" in self.path:
            status = int(self.path.rsplit("/", 1)[1])
        elif self.path.endswith("/text"):
            answer = b"<html>busy</html>"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Provider.seen = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_json_answer_comes_back_with_the_parameters_and_body_sent(provider):
    answer = call("POST", f"{provider}/ok", 5, params={"access_token": "t 1"}, body={"text": "已受理"})
    assert answer["path"] == "/ok?access_token=t+1"
    assert json.loads(answer["body"]) == {"text": "已受理"}


@pytest.mark.parametrize(
    ("path", "error"),
    [("/status/503", CallFailed), ("/status/429", CallFailed), ("/status/403", Refused), ("/text", Refused)],
)
def test_server_errors_are_worth_retrying_and_refusals_are_not(provider, path, error):
    with pytest.raises(error):
        call("GET", f"{provider}{path}", 5)


def test_an_unreachable_provider_is_a_failure_to_retry_that_never_names_the_url():
    with pytest.raises(CallFailed) as failed:
        call("GET", f"http://127.0.0.1:{free_port()}/cgi-bin/gettoken?corpsecret=secret", 2)
    assert "secret" not in str(failed.value) and "could not connect" in str(failed.value)


def test_the_environments_proxy_carries_the_call_unless_the_host_is_excluded(provider, monkeypatch):
    target = f"http://localhost:{free_port()}/cgi-bin/message/send"  # nothing listens there: only the proxy answers
    monkeypatch.setenv("http_proxy", provider)
    monkeypatch.setenv("no_proxy", "example.invalid")
    providercalls._proxy.cache_clear()
    try:
        answer = _in_a_new_thread(lambda: call("GET", target, 5))
        assert answer["path"] == target  # a proxy is asked for the absolute URL
        monkeypatch.setenv("no_proxy", "localhost")
        providercalls._proxy.cache_clear()
        with pytest.raises(CallFailed):  # straight to the host: nobody there
            _in_a_new_thread(lambda: call("GET", target, 2))
    finally:
        providercalls._proxy.cache_clear()


def _in_a_new_thread(work):
    """Each thread keeps its own pools: a fresh one makes the proxy decision again, and leaves none
    behind for the other tests."""
    outcome: list = []

    def run():
        try:
            outcome.append(work())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]
