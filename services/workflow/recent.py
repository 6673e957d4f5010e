"""Tickets this process acted on lately, as they were after its last commit of each.

An action starts from the kept copy instead of reading the ticket's events again. The kept copy may be
stale (another process acted since): the commit then fails on the ticket's version, or the stale
state refuses the action, and the application acts again on the ticket read from the store
(`WorkflowApplication._on_ticket`); nothing is ever recorded from a stale state.

Kept tickets are shared and read only: `take` hands out a copy to change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from uuid import UUID

from services.workflow.domain import Ticket

SIZE = 2_000  # tickets kept per process (a few MB), the least recently acted on dropped first


class RecentTickets:
    def __init__(self, size: int = SIZE):
        self._size = size
        self._kept: OrderedDict[UUID, Ticket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, ticket_id: UUID, tenant: str) -> Ticket | None:
        """A copy of the kept ticket to act on, if one of `tenant`'s is kept."""
        with self._lock:
            kept = self._kept.get(ticket_id)
        return kept.copy() if kept is not None and kept.tenant == tenant else None

    def keep(self, ticket: Ticket) -> None:
        """`ticket` as just committed; nobody changes it any more."""
        with self._lock:
            kept = self._kept.get(ticket.id)
            if kept is None or kept.version < ticket.version:
                self._kept[ticket.id] = ticket
                self._kept.move_to_end(ticket.id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def seen(self, ticket_id: UUID, version: int) -> None:
        """A version of the ticket was committed (read from the log): a kept copy older than it is stale,
        dropped so that the next action reads the stored ticket rather than fail its commit."""
        kept = self._kept.get(ticket_id)
        if kept is not None and kept.version < version:
            with self._lock:
                if self._kept.get(ticket_id) is kept:
                    del self._kept[ticket_id]
