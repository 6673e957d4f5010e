"""Intake commands and queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import NotFound, Unavailable
from shared.eventstore import IntegrityError, ServiceApplication
from shared.groupcommit import GroupCommitter
from shared.metrics import COMMIT_BATCH, COMMIT_SECONDS

from services.intake.domain import Submission, ticket_id

COMMIT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Accepted:
    ticket_id: UUID
    created: bool  # False: the same submission was accepted before


class IntakeApplication(ServiceApplication):
    name = "intake"

    def __init__(self, env: dict[str, str] | None = None):
        super().__init__(env)
        self._committer = GroupCommitter(self._save_group, on_group=self._observe_group)

    @staticmethod
    def _observe_group(size: int, seconds: float) -> None:
        COMMIT_BATCH.labels("intake").observe(size)
        COMMIT_SECONDS.labels("intake").observe(seconds)

    def _save_group(self, pending: Sequence[list[StoredEvent]]) -> None:
        self.recorder.insert_events([stored for group in pending for stored in group])

    def submit(self, tenant: str, channel: str, submission_id: str, customer: dict[str, Any],
               description: str, template: str = DEFAULT_TEMPLATE,
               route: dict[str, str] | None = None) -> Accepted:
        """Record a submission durably (grouped with concurrent ones) before returning."""
        submission = Submission(tenant=tenant, channel=channel, submission_id=submission_id, customer=customer,
                                description=description, template=template, route=route or {"by": "default"})
        # Serialised here, in the request's thread: the committer is the one thread all wait for.
        stored = [self.mapper.to_stored_event(e) for e in submission.collect_events()]
        try:
            self._committer.submit(stored).result(timeout=COMMIT_TIMEOUT)
        except IntegrityError:
            return Accepted(submission.id, created=False)
        except TimeoutError:
            raise Unavailable("recording took too long; retry with the same submission id") from None
        return Accepted(submission.id, created=True)

    def submission(self, tenant: str, channel: str, submission_id: str) -> Submission:
        return self.get(ticket_id(tenant, channel, submission_id), tenant)

    def get(self, id_: UUID, tenant: str) -> Submission:
        found = self.find(id_, tenant)
        if found is None:
            raise NotFound("no such ticket")
        return found
