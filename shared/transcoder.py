"""A faster drop-in replacement for eventsourcing's ``JSONTranscoder``, built on orjson.

Why: encoding/decoding event state is a hot path when a worker catches up a
backlog, and ``JSONTranscoder`` spends most of its time in the ``json`` module.

Guarantees (it subclasses ``JSONTranscoder``, so ``Application`` registers the
standard transcodings on it and ``register()`` works unchanged):
- Same format: a value of a registered type is written as ``{"_type_": name,
  "_data_": transcoding.encode(value)}`` (``_data_`` encoded the same way), and
  dicts of exactly those two keys are decoded innermost-first, like ``json``'s
  ``object_hook``. Either transcoder decodes the other's bytes to equal objects.
- Same type rules as ``json``: str/int/float/bool/None, dicts, lists, tuples
  (written as lists) and their subclasses are native, even if registered; any
  other type must be registered, else ``TranscodingNotRegisteredError``.
- What orjson cannot do exactly (NaN/Infinity, integers beyond 64 bits, non-str
  dict keys, circular references) falls back to the base class, so results and
  errors match ``JSONTranscoder``'s.

Speed: walking every nested value in Python to tag it cost several times orjson's own
work for a ticket's event (a dozen nested dicts and lists). Registered values mostly sit
at the top of an event's state (its timestamp, ids), so encoding first tags the top
level alone and proves that was enough: if reading the bytes back gives an equal state,
everything nested was plain JSON (a nested UUID, datetime, Decimal, tuple, NaN or
unregistered object would not come back equal, or not be written at all), and the
bytes are the answer. Otherwise the full walk. A state whose untagged top-level values are all
str, int, bool, None or a JSONObject (tagged values are walked whole) needs no proof. Decoding
likewise: the bytes say how many tagged values they hold (each writes the key `"_type_"`); when
those are all at the top level, nothing nested is walked.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

from shared.jsonable import JSONObject

_PLAIN = frozenset({str, int, bool, type(None)})  # written as-is, never walked
_VOUCHED = _PLAIN | {JSONObject}  # top-level values that need no proof
_NATIVE = (str, int, float, dict, list, tuple)  # json never calls default for these
_WALK = frozenset({dict, list, float})  # decoded values that need a look
_TAG = b'"_type_"'  # every tagged value's key, as written: fewer in the bytes, fewer to decode
# An integer beyond 64 bits (which orjson reads as a float) is written with 19 digits or more.
_DIGITS_AS_ZERO, _LONG_NUMBER = bytes.maketrans(b"123456789", b"0" * 9), b"0" * 19


class _UseJSON(Exception):  # internal signal: this value needs the base (json) implementation
    pass


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        try:
            if type(obj) is dict:
                types, nested = self.types, False
                shallow = {}
                for k, v in obj.items():
                    if type(v) in types:
                        v = self._tag(v)
                    elif type(v) not in _VOUCHED:
                        nested = True
                    shallow[k] = v
                data = orjson.dumps(shallow)
                if not nested or orjson.loads(data) == shallow:
                    return data
            return orjson.dumps(self._tag(obj))
        except (_UseJSON, RecursionError, orjson.JSONEncodeError):
            # orjson.JSONEncodeError is TypeError: the base raises its own errors again.
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            obj = orjson.loads(data)
            if type(obj) is dict and _LONG_NUMBER not in data.translate(_DIGITS_AS_ZERO):
                tags = data.count(_TAG)
                if not tags:
                    return obj
                if self._untag_top(obj, tags):
                    return obj
            return self._untag(obj)
        except (_UseJSON, orjson.JSONDecodeError):
            return super().decode(data)

    def _untag_top(self, o: dict[str, Any], tags: int) -> bool:
        """Decodes the tagged values at the top of `o` (in place) if they are all the `tags` the bytes
        hold, so nothing nested needs a look; else changes nothing (False)."""
        found = {}
        for k, v in o.items():
            if type(v) is dict and len(v) == 2 and "_type_" in v and "_data_" in v:
                d = v["_data_"]
                transcoding = self.names.get(v["_type_"])
                if transcoding is None or type(d) is dict or type(d) is list:
                    return False  # the full walk decodes it (or raises)
                found[k] = transcoding.decode(d)
        if len(found) != tags:
            return False
        o.update(found)
        return True

    def _tag(self, o: Any) -> Any:
        """Returns a copy of ``o`` with registered-type values tagged, for orjson."""
        t = type(o)
        if t is dict:
            return {k: v if type(v) in _PLAIN else self._tag(v) for k, v in o.items()}
        transcoding = self.types.get(t)
        if transcoding is not None and not isinstance(o, _NATIVE):
            d = transcoding.encode(o)
            return {"_type_": transcoding.name, "_data_": d if type(d) in _PLAIN else self._tag(d)}
        if t in _PLAIN:
            return o
        if t is float:
            if not math.isfinite(o):
                raise _UseJSON  # json writes NaN/Infinity, orjson would write null
            return o
        if t is list or t is tuple:
            return [v if type(v) in _PLAIN else self._tag(v) for v in o]
        # Subclasses of native types: json writes them as their base type.
        for base, convert in (
            (str, str.__str__),
            (int, int.__int__),
            (float, float.__float__),
            (dict, lambda d: dict(d.items())),
            ((list, tuple), list),
        ):
            if isinstance(o, base):
                return self._tag(convert(o))
        return self._encode_obj(o)  # raises TranscodingNotRegisteredError

    def _untag(self, o: Any) -> Any:
        """Decodes tagged dicts in ``o`` (in place), innermost first."""
        t = type(o)
        if t is dict:
            if len(o) == 2 and "_type_" in o and "_data_" in o:
                d = o["_data_"]
                d = self._untag(d) if type(d) in _WALK else d
                transcoding = self.names.get(o["_type_"])
                if transcoding is None:
                    return self._decode_obj(o)  # raises TranscodingNotRegisteredError
                return transcoding.decode(d)
            for k, v in o.items():
                if type(v) in _WALK:
                    o[k] = self._untag(v)
        elif t is list:
            for i, v in enumerate(o):
                if type(v) in _WALK:
                    o[i] = self._untag(v)
        elif t is float and abs(o) >= 2**63:
            raise _UseJSON  # maybe an integer beyond 64 bits that orjson made a float
        return o
