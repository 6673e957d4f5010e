"""Local stand-ins for notify's providers, speaking their documented JSON over real HTTP on 127.0.0.1:
WeCom (gettoken, message/send with its duplicate check, externalcontact/add_msg_template), the official
account (token, message/template/send with client_msg_id), a signed SMS gateway, and an SMTP server
(aiosmtpd, STARTTLS optional). Each records every request exactly as it arrived (path, query, body),
and what a person would have received (`shown`), so tests can assert both.

Failure switches, driven by the test: `down` (503 until switched back), `expire_once` (the next send
answers 42001), `busy_once` (the next send answers errcode -1), `invalid` (userids / openids the
provider refuses)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """A threaded HTTP server answering JSON by route; subclasses add routes."""

    def __init__(self):
        self.calls: list[Call] = []
        self.shown: list[dict[str, Any]] = []
        self.down = False
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: with Nagle's algorithm on, the body waited for the
            # client's delayed ACK of the headers, ~40 ms per call on a kept-alive connection. Real
            # providers' servers (and gunicorn) set TCP_NODELAY.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

            def _answer(self, method: str) -> None:
                url = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else None
                call = Call(method, url.path, dict(parse_qsl(url.query)), body, dict(self.headers))
                status, answer = owner.handle(call, raw)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None

    def start(self):
        """Serve (again, on the same URL, after `halt`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
            self._thread.start()
        return self

    def halt(self) -> None:
        """Stop serving and end the server's thread; the port and what was recorded stay."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None

    def stop(self) -> None:
        self.halt()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def handle(self, call: Call, raw: bytes) -> tuple[int, Any]:
        with self.lock:
            self.calls.append(call)
            if self.down:
                return 503, {"error": "down"}
            route = self.routes().get((call.method, call.path))
            if route is None:
                return 404, {"error": "no such path"}
            if call.method == "POST" and not isinstance(call.body, dict):
                return 400, {"errcode": 44002, "errmsg": "empty post data"}  # a client killed mid-request
            return route(call, raw)

    def routes(self) -> dict[tuple[str, str], Callable[[Call, bytes], tuple[int, Any]]]:
        return {}

    def to(self, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path == path]


class FakeWeCom(FakeServer):
    """WeCom's server API: a corp with one app; access tokens last `token_lives` seconds. Sign-in
    (auth/getuserinfo): `codes` maps each code WeCom's authorize page gave out to who it was given to
    ({"userid": …} for a member of the corp, {"openid": …} for anyone else); a code is used once."""

    def __init__(self, corp_id: str = "ww-corp", secret: str = "corp-secret-0001", token_lives: int = 7200):
        super().__init__()
        self.corp_id, self.secret, self.token_lives = corp_id, secret, token_lives
        self.tokens: set[str] = set()
        self.issued = 0
        self.invalid: set[str] = set()
        self.invalid_parties: set[str] = set()
        self.expire_once = self.busy_once = False
        self.recent: dict[str, float] = {}  # duplicate check: the request's JSON -> when taken
        self.codes: dict[str, dict[str, str]] = {}

    def routes(self):
        return {
            ("GET", "/cgi-bin/gettoken"): self.gettoken,
            ("POST", "/cgi-bin/message/send"): self.send,
            ("POST", "/cgi-bin/externalcontact/add_msg_template"): self.add_msg_template,
            ("GET", "/cgi-bin/auth/getuserinfo"): self.getuserinfo,
        }

    def gettoken(self, call: Call, raw: bytes):
        if (call.query.get("corpid"), call.query.get("corpsecret")) != (self.corp_id, self.secret):
            return 200, {"errcode": 40001, "errmsg": "invalid credential"}
        self.issued += 1
        token = f"token-{self.issued}"
        self.tokens.add(token)
        return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_lives}

    def _token_refused(self, call: Call):
        if call.query.get("access_token") not in self.tokens:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if self.expire_once:
            self.expire_once = False
            self.tokens.discard(call.query["access_token"])
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if self.busy_once:
            self.busy_once = False
            return {"errcode": -1, "errmsg": "system busy"}
        return None

    def send(self, call: Call, raw: bytes):
        refused = self._token_refused(call)
        if refused:
            return 200, refused
        body = call.body
        key = json.dumps(body, sort_keys=True, ensure_ascii=False)
        if body.get("enable_duplicate_check") == 1 and time.monotonic() - self.recent.get(key, -1e9) < body.get(
            "duplicate_check_interval", 1800
        ):
            return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "duplicate"}
        users = [u for u in body.get("touser", "").split("|") if u]
        invalid = [u.lower() for u in users if u in self.invalid]
        parties = [p for p in body.get("toparty", "").split("|") if p]
        invalid_parties = [p for p in parties if p in self.invalid_parties]
        if (users or parties) and len(invalid) + len(invalid_parties) == len(users) + len(parties):  # every one invalid
            return 200, {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        self.recent[key] = time.monotonic()
        msgid = f"msg-{len(self.shown) + 1}"
        self.shown.append(body)
        return 200, {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "invalidparty": "|".join(invalid_parties),
            "invalidtag": "",
            "unlicenseduser": "",
            "msgid": msgid,
        }

    def add_msg_template(self, call: Call, raw: bytes):
        refused = self._token_refused(call)
        if refused:
            return 200, refused
        failed = [u for u in call.body.get("external_userid", []) if u in self.invalid]
        if not failed:
            self.shown.append(call.body)
        return 200, {"errcode": 0, "errmsg": "ok", "fail_list": failed, "msgid": f"ext-{len(self.shown)}"}

    def getuserinfo(self, call: Call, raw: bytes):
        refused = self._token_refused(call)
        if refused:
            return 200, refused
        given = self.codes.pop(call.query.get("code", ""), None)
        if given is None:
            return 200, {"errcode": 40029, "errmsg": "invalid code"}
        return 200, {"errcode": 0, "errmsg": "ok", **given}

    def texts_to(self, user: str) -> list[str]:
        with self.lock:
            return [
                b[b["msgtype"]].get("content") or b[b["msgtype"]].get("description")
                for b in self.shown
                if b.get("touser") == user
            ]


class FakeOfficialAccount(FakeServer):
    """The official account's API: template messages to followers; client_msg_id drops repeats."""

    def __init__(self, app_id: str = "wx-app", secret: str = "app-secret-0001"):
        super().__init__()
        self.app_id, self.secret = app_id, secret
        self.tokens: set[str] = set()
        self.not_following: set[str] = set()
        self.seen_ids: set[tuple[str, str]] = set()

    def routes(self):
        return {("GET", "/cgi-bin/token"): self.token, ("POST", "/cgi-bin/message/template/send"): self.send}

    def token(self, call: Call, raw: bytes):
        q = call.query
        if (q.get("grant_type"), q.get("appid"), q.get("secret")) != ("client_credential", self.app_id, self.secret):
            return 200, {"errcode": 40013, "errmsg": "invalid appid"}
        token = f"mp-token-{len(self.tokens) + 1}"
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 7200}

    def send(self, call: Call, raw: bytes):
        if call.query.get("access_token") not in self.tokens:
            return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        openid = call.body["touser"]
        if openid in self.not_following:
            return 200, {"errcode": 43004, "errmsg": "require subscribe"}
        key = (openid, call.body.get("client_msg_id", ""))
        if key[1] and key in self.seen_ids:
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": 0}
        self.seen_ids.add(key)
        self.shown.append(call.body)
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332 + len(self.shown)}


class FakeSmsGateway(FakeServer):
    """The generic signed SMS gateway notify speaks (services/notify/channels/sms.py); it checks every
    signature and, with `dedupes`, drops a repeated out_id."""

    def __init__(self, app_key: str = "sms-key", secret: str = "sms-secret-0001", dedupes: bool = False):
        super().__init__()
        self.app_key, self.secret, self.dedupes = app_key, secret, dedupes
        self.invalid: set[str] = set()
        self.out_ids: set[str] = set()

    def routes(self):
        return {("POST", "/sms/send"): self.send}

    def send(self, call: Call, raw: bytes):
        h = {k.lower(): v for k, v in call.headers.items()}
        text = "\n".join(
            (h.get("x-app-key", ""), h.get("x-timestamp", ""), h.get("x-nonce", ""), hashlib.sha256(raw).hexdigest())
        )
        expected = hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        if h.get("x-app-key") != self.app_key or not hmac.compare_digest(expected, h.get("x-signature", "")):
            return 401, {"code": "BAD_SIGNATURE", "message": "signature mismatch"}
        if call.body["to"] in self.invalid:
            return 200, {"code": "INVALID_NUMBER", "message": "no such number"}
        if self.dedupes and call.body["out_id"] in self.out_ids:
            return 200, {"code": "OK", "message_id": "duplicate"}
        self.out_ids.add(call.body["out_id"])
        self.shown.append(call.body)
        return 200, {"code": "OK", "message_id": f"sms-{len(self.shown)}"}


class FakeSmtp:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives; with `starttls`, it
    offers STARTTLS with a certificate of its own CA (`ca_file`, for the client to trust) and refuses
    mail before it."""

    def __init__(self, starttls: bool = False):
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        self.ca_file: str | None = None
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes
                from email.policy import default

                owner.messages.append(message_from_bytes(envelope.content, policy=default))
                return "250 OK"

        kwargs: dict[str, Any] = {}
        if starttls:
            kwargs = {"tls_context": self._tls(), "require_starttls": True}
        from deploy.devservers import free_port

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port(), **kwargs)

    def _tls(self) -> ssl.SSLContext:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = dt.datetime.now(dt.UTC)
        import ipaddress

        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        folder = Path(tempfile.mkdtemp(prefix="fake-smtp-"))
        (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.ca_file = str(folder / "cert.pem")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
        return context

    @property
    def port(self) -> int:
        return self.controller.port

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
