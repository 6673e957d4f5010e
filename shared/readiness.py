"""What `/readyz` asks before it says a web app can do its work: its store answers a cheap query and,
with the Kafka transport, the broker answers a metadata request. Each check has a short deadline
of its own (shared/deadline.py), so a database that stopped answering makes the app not ready at
once instead of holding the probe; while a check is still waiting on a past probe, the next one
fails at once too.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from shared.deadline import Deadline
from shared.settings import Settings

PROBE_SECONDS = 2.0
_TRACKING_NAME = "readyz"  # a tracking name nobody records: the query reads the index and finds nothing


class Check:
    def __init__(self, name: str, probe: Callable[[], Any], seconds: float = PROBE_SECONDS):
        self.name = name
        self._probe = probe
        self._deadline = Deadline(seconds)

    def failure(self) -> str | None:
        """None if the probe answered in time, else why not."""
        try:
            self._deadline.run(self._probe)
        except Exception as error:  # any failure means not ready; what it was goes into the answer
            said, kind = str(error), type(error).__name__
            return said if said.startswith(kind) else f"{kind}: {said}"
        return None


def readiness(checks: list[Check]) -> dict[str, str]:
    """The failed checks, by name, with what went wrong."""
    return {check.name: failed for check in checks if (failed := check.failure()) is not None}


def store_answers(app: Any) -> Check:
    """An indexed look-up in the service's store (an eventsourcing application's process recorder)."""
    return Check("store", lambda: app.process_recorder.max_tracking_id(_TRACKING_NAME))


def broker_answers(settings: Settings, seconds: float = PROBE_SECONDS) -> Check:
    def probe() -> None:
        from kafka import KafkaAdminClient

        milliseconds = int(seconds * 1000)
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id="scrm-readyz",
            request_timeout_ms=milliseconds,
            bootstrap_timeout_ms=milliseconds,
        )
        try:
            admin.list_topics()  # a metadata request
        finally:
            admin.close()

    return Check("broker", probe, seconds + 1)  # the client's own timeouts say more, so they come first


def service_checks(app: Any, settings: Settings) -> list[Check]:
    """A web app's checks: its store and, with Kafka, the broker."""
    return [store_answers(app), *([broker_answers(settings)] if settings.transport == "kafka" else [])]
