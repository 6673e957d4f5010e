"""The one request flow of every WeChat-family callback, for any `Channel`.

GET proves to Tencent that we hold the tenant's Token (URL verification); POST verifies,
decrypts, records the submission through the group committer and replies, and nothing
else: Tencent waits 5 s and retries 3 times, and what follows from the ticket happens in
the workers that read intake's log.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Protocol

from flask import Flask, Response, request

from shared import web
from shared.identity.guard import public
from shared.deadline import OUTCOME_UNKNOWN, bounded

from services.intake.application import IntakeApplication
from services.intake.channels import media, xml
from services.intake.channels.inbound import Message, accept
from services.intake.channels.security import Query, Unverified
from services.intake.tenant import ChannelSettings

REPLAY_WINDOW = 300.0  # seconds a signed request stays acceptable


class Channel(Protocol):
    name: str  # in the URL, in ticket ids, in routes and in ticket.created
    identity: str  # the customer identity the sender's id is
    ack: str  # the reply when there is nothing to say

    def credentials(self, settings: ChannelSettings) -> Any | None: ...

    def echo(self, credentials: Any, query: Query) -> str:
        """URL verification: the text to answer, once the request is verified."""

    def open(self, credentials: Any, query: Query, body: dict[str, str]) -> dict[str, str]:
        """The verified (decrypted) message addressed to these credentials; else Unverified."""

    def seal(self, credentials: Any, query: Query, reply: str) -> str:
        """The reply as the channel expects it (encrypted when the channel encrypts)."""


def register(app: Flask, intake: IntakeApplication, channel: Channel, clock: Callable[[], float] = time.time,
             replay_window: float = REPLAY_WINDOW) -> None:
    path = f"/v1/tenants/<tenant>/{channel.name}/callback"

    def configured(tenant: str) -> tuple[ChannelSettings, Any]:
        """Looked up last: every answer before this one is the same whoever the tenant is."""
        settings = intake.channel_settings(tenant) if intake.tenant_exists(tenant) else None  # its shape: shared/web.py
        credentials = channel.credentials(settings) if settings is not None else None
        if credentials is None:
            raise Unverified()
        return settings, credentials

    @public  # the channel's signature is the check
    def verify_url(tenant: str) -> Response:
        query = Query(request.args, clock(), replay_window)
        _, credentials = configured(tenant)
        return Response(channel.echo(credentials, query), mimetype="text/plain")

    @public
    def receive(tenant: str) -> Response:
        query = Query(request.args, clock(), replay_window)
        body = xml.parse(xml.read_body())
        settings, credentials = configured(tenant)
        fields = channel.open(credentials, query, body)
        message = Message.from_fields(fields)
        text = (accept(intake, settings, channel.name, channel.identity, message) if message is not None
                else media.answer(intake, settings.tenant, channel.name, channel.identity, fields))
        if text is None:
            return Response(channel.ack, mimetype="text/plain")
        reply = xml.render({"ToUserName": fields["FromUserName"], "FromUserName": fields["ToUserName"],
                            "CreateTime": int(clock()), "MsgType": "text", "Content": text})
        return Response(channel.seal(credentials, query, reply), mimetype="application/xml")

    app.add_url_rule(path, f"{channel.name}_verify_url", verify_url, methods=["GET"])
    app.add_url_rule(path, f"{channel.name}_receive", bounded(receive), methods=["POST"])
    doc_path = f"/v1/tenants/{{tenant}}/{channel.name}/callback"
    refused = {403: "Not verified (signature, tenant, recipient) or timestamp outside the replay window"}
    web.document(app, "get", doc_path, f"{channel.name} URL verification: answers the echostr once verified",
                 responses={200: "The echostr, as text/plain", 400: "Missing timestamp or nonce", **refused})
    nothing = repr(channel.ack) if channel.ack else "an empty body"
    web.document(app, "post", doc_path,
                 f"{channel.name} message callback (text/xml): a text or menu click becomes a ticket, "
                 "the reply names its number; an image or a location goes to the sender's open ticket; "
                 "a subscribe registers the customer; retries of a message reach the same ticket",
                 responses={200: f"A passive reply (XML), or {nothing} when there is nothing to say",
                            400: "Malformed XML or missing timestamp/nonce", **refused, 413: "Body too large",
                            415: "Not text/xml", 503: OUTCOME_UNKNOWN})
