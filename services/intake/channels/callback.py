"""The one request flow of every WeChat-family callback, for any `Channel`.

GET proves to Tencent that we hold the tenant's Token (URL verification); POST verifies,
decrypts, records the submission through the group committer and replies, and nothing
else: Tencent waits 5 s and retries 3 times, and what follows from the ticket happens in
the workers that read intake's log.
"""

from __future__ import annotations

import time
from typing import Any, Protocol
from collections.abc import Callable

from flask import Response, request
from marshmallow import Schema, fields, validate

from shared.deadline import OUTCOME_UNKNOWN, bounded
from shared.identity.guard import public
from shared.restapi import Blueprint

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


class CallbackQuery(Schema):
    """The query Tencent signs a callback with (checked by the view: security.py)."""

    timestamp = fields.String(
        required=True, metadata={"description": "Seconds since the epoch, within the replay window of now"}
    )
    nonce = fields.String(required=True, validate=validate.Length(max=64))
    signature = fields.String(metadata={"description": "SHA-1 of the sorted Token, timestamp and nonce"})
    msg_signature = fields.String(metadata={"description": "Encrypted mode: SHA-1 over the ciphertext too"})
    echostr = fields.String(metadata={"description": "URL verification: what to answer, once verified"})


XML = {"type": "string", "description": "<xml><ToUserName>…</ToUserName>…</xml>"}
SIGNED = (
    "Public: the channel's signature over the tenant's Token (and, encrypted, the AES key) is the check; "
    "an unknown tenant fails it like a wrong signature."
)
REFUSED = {
    403: "Not verified (signature, tenant, recipient), or a timestamp outside the replay window",
    400: "No timestamp or nonce",
}


def blueprint(
    intake: IntakeApplication,
    channel: Channel,
    clock: Callable[[], float] = time.time,
    replay_window: float = REPLAY_WINDOW,
) -> Blueprint:
    blp = Blueprint(channel.name, __name__, description=f"The {channel.name} callback (signed by Tencent)")
    path = f"/v1/tenants/<tenant>/{channel.name}/callback"
    nothing = repr(channel.ack) if channel.ack else "an empty body"
    signed_by = [{"in": "query", "schema": CallbackQuery}]

    def configured(tenant: str) -> tuple[ChannelSettings, Any]:
        """Looked up last: every answer before this one is the same whoever the tenant is."""
        settings = intake.channel_settings(tenant) if intake.tenant_exists(tenant) else None  # its shape: shared/web.py
        credentials = channel.credentials(settings) if settings is not None else None
        if credentials is None:
            raise Unverified()
        return settings, credentials

    @blp.route(path, methods=["GET"], endpoint="verify_url")
    @blp.doc(parameters=signed_by, description=SIGNED)
    @blp.answers(200, {"text/plain": {"type": "string"}}, "The echostr, once verified")
    @blp.refuses(REFUSED)
    @public  # the channel's signature is the check
    def verify_url(tenant: str) -> Response:
        """URL verification: answers the echostr once verified"""
        query = Query(request.args, clock(), replay_window)
        _, credentials = configured(tenant)
        return Response(channel.echo(credentials, query), mimetype="text/plain")

    @blp.route(path, methods=["POST"], endpoint="receive")
    @blp.doc(
        parameters=signed_by,
        description=SIGNED + " A text or menu click becomes a ticket, the reply names its "
        "number; an image or a location goes to the sender's open ticket; a subscribe registers the customer; "
        "retries of a message reach the same ticket.",
    )
    @blp.takes({kind: XML for kind in xml.CONTENT_TYPES if kind}, "The message or event (encrypted: <Encrypt>)")
    @blp.answers(
        200,
        {"application/xml": XML, "text/plain": {"type": "string"}},
        f"A passive reply (XML, encrypted when the channel encrypts), or {nothing} when there is nothing to say",
    )
    @blp.refuses(
        {
            **REFUSED,
            400: "Malformed XML, or no timestamp or nonce",
            413: "Larger than 64 KiB",
            415: "Not text/xml",
            503: OUTCOME_UNKNOWN,
        }
    )
    @public
    @bounded
    def receive(tenant: str) -> Response:
        """The message callback"""
        query = Query(request.args, clock(), replay_window)
        body = xml.parse(xml.read_body())
        settings, credentials = configured(tenant)
        fields = channel.open(credentials, query, body)
        message = Message.from_fields(fields)
        text = (
            accept(intake, settings, channel.name, channel.identity, message)
            if message is not None
            else media.answer(intake, settings.tenant, channel.name, channel.identity, fields)
        )
        if text is None:
            return Response(channel.ack, mimetype="text/plain")
        reply = xml.render(
            {
                "ToUserName": fields["FromUserName"],
                "FromUserName": fields["ToUserName"],
                "CreateTime": int(clock()),
                "MsgType": "text",
                "Content": text,
            }
        )
        return Response(channel.seal(credentials, query, reply), mimetype="application/xml")

    return blp
