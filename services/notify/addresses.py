"""Where a recipient can be reached, in the order to try: the fallback chain. No I/O.

Staff: the channel they prefer (workflow's staff directory: notify_by), then WeCom (their WeCom
userid, or their user id), then e-mail. A pool with a WeCom department or tag set up for it is one
recipient on WeCom; otherwise each member is. Customers: the channel they came from first, then the
official account (openid), WeCom external contact, WeCom member, SMS (phone), skipping channels
they have no identity on; a customer intake merged into another is that other, their addresses after the
ticket's own. Whether the tenant has an account for a channel is the sender's business:
an unconfigured channel is passed over like an unreachable one.
"""

from __future__ import annotations

from collections.abc import Callable
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


def customer(
    known: dict[str, Any],
    merges: CustomerMerges | None = None,
    refuses: Callable[[str, str], bool] = lambda channel, address: False,
) -> Recipient:
    """`known`: what the ticket says of its customer. Once intake merged them into another customer, that
    one is the recipient and their other addresses follow the ticket's own, except those that opted out
    (`refuses`): the ticket's own address opted out withholds the message, as for anyone."""
    identities = {kind: [value] for kind, value in (known.get("identities") or {}).items()}
    chain = _chain(identities, known.get("channel"))
    key = known.get("customer_id") or next((address for _, address in chain), "unknown")
    theirs = merges.identities_of(key) if merges is not None else {}
    if theirs:
        key = merges.survivor(key)
        chain += [[c, a] for c, a in _chain(theirs, known.get("channel")) if [c, a] not in chain and not refuses(c, a)]
    return Recipient(f"customer:{key}", known.get("name") or "", chain)


def _chain(identities: dict[str, list[str]], origin: str | None) -> Chain:
    """The channel they came from first, then the fallback order; every address they have on each."""
    first = ORIGIN_CHANNELS.get(origin or "")
    order = [*([first] if first else []), *(c for c in CUSTOMER_FALLBACK if c != first)]
    by_channel = {channel: identities.get(identity, []) for identity, channel in IDENTITY_CHANNELS.items()}
    return [[channel, address] for channel in order for address in by_channel.get(channel, [])]
