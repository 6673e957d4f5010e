"""Access tokens (WeCom, official account): fetched once, kept until shortly before they expire, and
fetched again at once when the provider says the one used is invalid or expired (40001, 40014, 42001),
so a token that expires mid-run costs one extra call and no message (or sign-in). One fetch at a time per account:
a burst of sends waits for the one fetch rather than each making its own (and each invalidating the
last, as the official account does)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from collections.abc import Callable

EXPIRED = frozenset({40001, 40014, 42001})  # invalid credential (official account), invalid token, expired
MARGIN = timedelta(minutes=5)  # refreshed this long before it would expire


class TokenCache:
    def __init__(self, clock: Callable[[], datetime]):
        self._clock = clock
        self._tokens: dict[tuple, tuple[str, datetime]] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple, fetch: Callable[[], tuple[str, int]], stale: str | None = None) -> str:
        """The token for `key`; `fetch` returns (token, seconds it lives). With `stale`, the provider
        refused that token: fetch another unless someone already did."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            held = self._tokens.get(key)
            if held is not None and held[0] != stale and self._clock() < held[1] - MARGIN:
                return held[0]
            token, lives = fetch()
            self._tokens[key] = (token, self._clock() + timedelta(seconds=lives))
            return token
