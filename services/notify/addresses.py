"""Where a recipient can be reached, in the order to try: the fallback chain. No I/O.

Staff: the channel they prefer (workflow's staff directory: notify_by), then WeCom (their WeCom
userid, or their user id), then e-mail. A pool with a WeCom department or tag set up for it is one
recipient on WeCom; otherwise each member is. Customers: the channel they came from first, then the
official account (openid), WeCom external contact, WeCom member, SMS (phone), skipping channels
they have no identity on; a customer intake merged into another is that other, on the addresses of both
(the ticket's own first). Whether the tenant has an account for a channel is the sender's business:
an unconfigured channel is passed over like an unreachable one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.merges import CustomerMerges

from services.notify.kinds import CUSTOMER_FALLBACK, EMAIL, IDENTITY_CHANNELS, ORIGIN_CHANNELS, STAFF_CHANNELS, WECOM
from services.notify.roster import Roster
from services.notify.setup import NotifySetup

Chain = list[list[str]]  # [channel, address], in order


@dataclass(frozen=True)
class Recipient:
    key: str  # "staff:<user>", "pool:<pool>", "customer:<id>": one message per (event, recipient, channel)
    name: str
    chain: Chain


def staff(user: str, roster: Roster | None) -> Recipient:
    member = (roster.members.get(user) if roster else None) or {}
    addresses = {WECOM: member.get("wecom_userid") or user, EMAIL: member.get("email")}
    preferred = member.get("notify_by") or WECOM
    order = [preferred, *(c for c in STAFF_CHANNELS if c != preferred)]
    return Recipient(
        f"staff:{user}", member.get("name") or user, [[c, addresses[c]] for c in order if addresses.get(c)]
    )


def pool(handler: str, roster: Roster | None, setup: NotifySetup | None) -> list[Recipient]:
    group = setup.groups.get(handler) if setup else None
    if group:
        scope, value = next(iter(group.items()))
        return [Recipient(f"pool:{handler}", handler, [[WECOM, f"{scope}:{value}"]])]
    return [staff(user, roster) for user in (roster.pool(handler) if roster else [])]


def customer(known: dict[str, Any], merges: CustomerMerges | None = None) -> Recipient:
    known = merged(known, merges) if merges is not None else known
    identities = known.get("identities") or {}
    by_channel = {
        channel: identities[identity] for identity, channel in IDENTITY_CHANNELS.items() if identities.get(identity)
    }
    first = ORIGIN_CHANNELS.get(known.get("channel") or "")
    order = [*([first] if first else []), *(c for c in CUSTOMER_FALLBACK if c != first)]
    key = known.get("customer_id") or next(iter(by_channel.values()), "unknown")
    return Recipient(f"customer:{key}", known.get("name") or "", [[c, by_channel[c]] for c in order if c in by_channel])


def merged(known: dict[str, Any], merges: CustomerMerges) -> dict[str, Any]:
    """The customer a ticket names as they are since intake merged them: the surviving customer's id, and
    every address of both, the ticket's own first."""
    customer_id = known.get("customer_id")
    theirs = merges.identities_of(customer_id) if customer_id else {}
    if not theirs:
        return known
    identities = {kind: values[0] for kind, values in theirs.items() if values} | (known.get("identities") or {})
    return {**known, "customer_id": merges.survivor(customer_id), "identities": identities}
