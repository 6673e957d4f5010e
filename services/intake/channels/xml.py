"""Callback XML in and out: small bodies only, no DTDs or entities (no XXE, no entity bombs)."""

from __future__ import annotations

from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask import request

from shared.errors import DomainError

MAX_BODY = 64 * 1024  # a text message is at most 2,048 bytes; events are smaller
CONTENT_TYPES = ("", "text/xml", "application/xml")  # Tencent sends text/xml


class MalformedXml(DomainError):
    status, code = 400, "malformed_xml"


class UnsupportedMediaType(DomainError):
    status, code = 415, "unsupported_media_type"


def read_body() -> bytes:
    if request.mimetype not in CONTENT_TYPES:
        raise UnsupportedMediaType("send the body as text/xml")
    request.max_content_length = MAX_BODY  # over it: 413, whether the length was sent or not
    return request.get_data(cache=False)


def parse(raw: bytes | str) -> dict[str, str]:
    """`<xml><Name>value</Name>...</xml>` as a flat dict (nested elements are left out)."""
    try:
        root = fromstring(raw, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise MalformedXml("the body is not well-formed callback XML") from None
    if root.tag != "xml":
        raise MalformedXml("the body's root element must be <xml>")
    return {child.tag: (child.text or "").strip() for child in root if len(child) == 0}


def render(fields: dict[str, str | int]) -> str:
    return "<xml>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items()) + "</xml>"
