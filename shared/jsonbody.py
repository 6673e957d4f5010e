"""Request JSON within bounds, for every service: shared/web.py makes this every app's JSON provider,
so `request.get_json` (and the bodies shared/restapi.py parses with it) reads nothing else.

Each of these made a 500 somewhere past the edge, so it is refused here with a 400:
- nesting deeper than MAX_DEPTH: json's parser, and whatever walks the value after it (marshmallow,
  the event transcoder, jsonify), recursed until the interpreter's limit (3 000 levels did it);
- a lone UTF-16 surrogate in a string or a key ("\\ud800"): not text, it cannot be written as UTF-8,
  so recording or answering it failed;
- NaN, Infinity and numbers beyond a float's range (1E+999999999 reads as infinity): no amount,
  quantity or coordinate is one.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

from shared.errors import DomainError

MAX_DEPTH = 32  # the deepest body any API takes (a template with its nodes and rules) is under 8
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # how JSON writes one (pairs too)
TOO_DEEP = f"the JSON is nested deeper than {MAX_DEPTH} levels"


class Unreadable(DomainError):
    status, code = 400, "malformed_json"


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise Unreadable(f"the number {text[:40]} is beyond what can be computed with (about ±1.8e308)")
    return number


def _constant(name: str) -> Any:
    raise Unreadable(f"{name} is not a JSON number")


def _check(value: Any) -> None:
    """Depth and text of a parsed value, without recursion (the value may be as deep as the parser allows)."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            texts: Any = (item,)
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise Unreadable(TOO_DEEP)
            inner = item.values() if isinstance(item, dict) else item
            pending.extend((v, depth + 1) for v in inner if isinstance(v, (str, dict, list)))
            texts = item.keys() if isinstance(item, dict) else ()
        else:
            continue
        if any(_SURROGATE.search(text) for text in texts):
            raise Unreadable("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")


def _text(data: str | bytes) -> str:
    """The body as text; no raw surrogate gets past a strict codec (json.loads would let them through)."""
    try:
        if isinstance(data, (bytes, bytearray)):
            return data.decode(json.detect_encoding(data))
        data.encode("utf-8")
        return data
    except UnicodeError:
        raise Unreadable("the body is not text: bytes that are no character, or a lone UTF-16 surrogate") from None


def _may_be_out_of_bounds(text: str) -> bool:
    """Whether the parsed value must be walked: no body that fails this can be too deep or hold a lone
    surrogate (now only as an escape), and the walk costs more than the parse; these scans run at C speed."""
    return text.count("[") + text.count("{") > MAX_DEPTH or (
        "\\u" in text and _ESCAPED_SURROGATE.search(text) is not None
    )


_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_constant)


def loads(data: str | bytes) -> Any:
    """Parse request JSON; Unreadable (400) past the bounds, ValueError when it is not JSON."""
    text = _text(data)
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise Unreadable(TOO_DEEP) from None
    if _may_be_out_of_bounds(text):
        _check(value)
    return value


class BoundedJSONProvider(DefaultJSONProvider):
    ensure_ascii = False  # answers keep Chinese text readable

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)
