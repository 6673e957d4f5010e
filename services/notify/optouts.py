"""What a recipient does not want: per channel address (an openid, a phone, an e-mail) and per
kind of message. A customer's TD / 退订 on the official account (intake's customer.opted_out) opts
that openid out of every kind; an operator may opt any address in or out over the API. No I/O."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid

from services.notify.kinds import CHANNELS, KINDS

_IDS = UUID("9e2b6d41-3a7c-4f15-8b0e-5d4c1a2f7e63")
EVERY = "*"


def opt_out_id(tenant: str, channel: str, address: str) -> UUID:
    return uuid5(_IDS, f"{tenant}\x1f{channel}\x1f{address}")


class OptOut(Aggregate):
    @staticmethod
    def create_id(tenant: str, channel: str, address: str) -> UUID:
        return opt_out_id(tenant, channel, address)

    @event("Created")
    def __init__(self, tenant: str, channel: str, address: str):
        if channel not in CHANNELS:
            raise Invalid(f"channel is one of {', '.join(CHANNELS)}, not {channel!r}")
        if not 0 < len(address) <= 320:
            raise Invalid("name the address (an openid, a phone, an e-mail …)")
        self.tenant, self.channel, self.address = tenant, channel, address
        self.kinds: set[str] = set()

    def refuse(self, kinds: list[str], source: str) -> None:
        """Opt out of these kinds (EVERY: all of them)."""
        wanted = _checked(kinds)
        if not wanted <= self.kinds:
            self._opted_out(
                tenant=self.tenant, channel=self.channel, address=self.address, kinds=sorted(wanted), source=source
            )

    @event("OptedOut")
    def _opted_out(self, tenant: str, channel: str, address: str, kinds: list[str], source: str) -> None:
        self.kinds |= set(kinds)

    def accept(self, by: str) -> None:
        """Opted in again, to every kind."""
        if self.kinds:
            self._opted_in(tenant=self.tenant, channel=self.channel, address=self.address, by=by)

    @event("OptedIn")
    def _opted_in(self, tenant: str, channel: str, address: str, by: str) -> None:
        self.kinds = set()

    def refuses(self, kind_key: str) -> bool:
        return EVERY in self.kinds or kind_key in self.kinds


def _checked(kinds: list[str]) -> set[str]:
    wanted = set(kinds) or {EVERY}
    unknown = sorted(wanted - set(KINDS) - {EVERY})
    if unknown:
        raise Invalid(f"no message kind {', '.join(unknown)}; one of {', '.join(KINDS)} or {EVERY}")
    return wanted
