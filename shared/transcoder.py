"""A faster drop-in replacement for eventsourcing's ``JSONTranscoder``, built on orjson.

Why: encoding/decoding event state is a hot path when a worker catches up a
backlog; ``JSONTranscoder`` spends most of its time in the ``json`` module.

Guarantees:
- Same logical format as ``JSONTranscoder``: values of registered types become
  ``{"_type_": name, "_data_": transcoding.encode(value)}`` (recursively), and
  2-key dicts of exactly that shape are decoded innermost-first, as
  ``json``'s ``object_hook`` does. Bytes written by either transcoder decode
  to equal objects with the other one.
- Same type rules as ``json``: str/int/float/bool/None, dicts and lists (and
  their subclasses) and tuples (always written as lists, even if a tuple
  transcoding is registered) are native; anything else must be registered,
  else ``TranscodingNotRegisteredError`` is raised.
- It is a ``JSONTranscoder`` subclass, so ``Application`` registers the
  standard transcodings on it and ``register()`` works unchanged.
- Inputs orjson cannot represent exactly (NaN/Infinity, integers beyond 64
  bits, non-str dict keys, circular references) fall back to the base class,
  so results and errors are the same as ``JSONTranscoder``'s.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

_I64_MIN, _U64_MAX = -(2**63), 2**64 - 1


class _UseJSON(Exception):
    """Internal signal: this value needs the base (``json``) implementation."""


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._tag(obj))
        except (_UseJSON, RecursionError, orjson.JSONEncodeError):
            # Also re-raises errors (unregistered types, bad keys) exactly as the base does.
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            obj = orjson.loads(data)
            return self._untag(obj) if b'"_type_"' in data else self._check(obj)
        except (_UseJSON, orjson.JSONDecodeError):  # NaN/Infinity, huge ints, lone surrogates
            return super().decode(data)

    def _tag(self, o: Any) -> Any:
        """Copies ``o`` with registered-type values tagged, as json's ``default`` would."""
        t = type(o)
        if t is str or t is int or t is bool or o is None:
            return o
        if t is dict:
            return {k: v if type(v) is str else self._tag(v) for k, v in o.items()}
        if t is list or t is tuple:
            return [v if type(v) is str else self._tag(v) for v in o]
        if t is float:
            if not math.isfinite(o):
                raise _UseJSON
            return o
        # Subclasses of native types are written natively by json, even if registered.
        if isinstance(o, str):
            return str.__str__(o)
        if isinstance(o, int):
            return self._tag(int.__int__(o))
        if isinstance(o, float):
            return self._tag(float.__float__(o))
        if isinstance(o, (dict, list, tuple)):
            return self._tag(dict(o.items()) if isinstance(o, dict) else list(o))
        return self._tag(self._encode_obj(o))  # raises TranscodingNotRegisteredError

    def _untag(self, o: Any) -> Any:
        """Decodes tagged dicts in place, innermost first, like json's ``object_hook``."""
        t = type(o)
        if t is dict:
            for k, v in o.items():
                if type(v) is dict or type(v) is list:
                    o[k] = self._untag(v)
                elif type(v) is float and not _I64_MIN <= v <= _U64_MAX:
                    raise _UseJSON  # maybe an integer orjson turned into a float
            return self._decode_obj(o) if len(o) == 2 else o
        if t is list:
            o[:] = [self._untag(v) for v in o]
        elif t is float and not _I64_MIN <= o <= _U64_MAX:
            raise _UseJSON
        return o

    _check = _untag
