"""The customer directory (客户): who raised tickets, on whichever channels. No I/O here.

A channel identity (phone, WeCom external contact, openid, unionid, WeCom member) belongs to
one customer through an `IdentityClaim` whose id is derived from the identity: when two first
contacts race, both try to create the same claim and the store lets only one of them in.

When one person turns out to be two customers (a follower registered by their openid, later named
with the unionid another customer holds), the two are merged: the other's claims move to the one
who stays, who takes their tickets, media and opportunities; the other records whom it went to.

What a customer says about themselves on a channel (an H5 form's name and address) is theirs to
say on the ticket only: it never changes a known customer's profile, it is proposed to staff.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any
from collections.abc import Callable, Iterable
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.contracts import Customer as CustomerContract

from services.intake.opportunities import Opportunity, check_amount, check_open, check_stage

_CLAIM_IDS = UUID("9a3e2c71-5d84-4f0b-b6a2-1c7e9d3f5a08")
IDENTITIES = CustomerContract.IDENTITIES
# Which identity decides who someone is when they name several: the cross-app unionid and the
# phone first, since they are how a second channel is recognised as the same person.
MATCH_ORDER = ("unionid", "phone", "wecom_external_userid", "openid", "wecom_userid")
PROFILE = ("name", "address")
OPEN = ("received", "open")  # a ticket is open from its creation until workflow closes or cancels it


def claim_id(tenant: str, kind: str, value: str) -> UUID:
    return uuid5(_CLAIM_IDS, f"{tenant}\x1f{kind}\x1f{value}")


def normalised(kind: str, value: str) -> str:
    """One spelling per identity: a phone typed with spaces or dashes is the same phone."""
    value = value.strip()
    return value.replace(" ", "").replace("-", "") if kind == "phone" else value


def identities_of(contact: dict[str, Any]) -> list[tuple[str, str]]:
    """The identities a channel's customer data names, in MATCH_ORDER."""
    return [(kind, normalised(kind, str(contact[kind]))) for kind in MATCH_ORDER if contact.get(kind)]


def profile_of(contact: dict[str, Any]) -> dict[str, str]:
    return {k: str(contact[k]) for k in PROFILE if contact.get(k)}


def current(get: Callable[[UUID], Customer], customer_id: UUID) -> Customer:
    """The customer `customer_id` names now: the one it was merged into, if it was (a submission, a
    process's cached claim may still name the one merged away)."""
    customer = get(customer_id)
    while customer.merged_into is not None:
        customer = get(customer.merged_into)
    return customer


def united(mine: dict[str, list[str]], theirs: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every identity of both, each once: mine first."""
    both = {kind: list(values) for kind, values in mine.items()}
    for kind, values in theirs.items():
        both.setdefault(kind, []).extend(v for v in values if v not in both[kind])
    return both


class IdentityClaim(Aggregate):
    """This identity is this customer's: created once, moved only when its customer is merged
    into another."""

    class Claimed(Aggregate.Created):
        tenant: str
        kind: str
        value: str
        customer_id: UUID

    @staticmethod
    def create_id(tenant: str, kind: str, value: str, customer_id: UUID) -> UUID:
        return claim_id(tenant, kind, value)

    class Moved(Aggregate.Event):
        tenant: str
        customer_id: UUID

    @event(Claimed)
    def __init__(self, tenant: str, kind: str, value: str, customer_id: UUID):
        self.tenant, self.kind, self.value, self.customer_id = tenant, kind, value, customer_id

    def move(self, customer_id: UUID) -> None:
        if customer_id != self.customer_id:
            self._moved(tenant=self.tenant, customer_id=customer_id)

    @event(Moved)
    def _moved(self, tenant: str, customer_id: UUID) -> None:
        self.customer_id = customer_id


@dataclass(frozen=True)
class LinkedTicket:
    ticket_id: UUID
    channel: str
    description: str
    template: str
    region: str | None
    status: str = "received"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticket_id": str(self.ticket_id),
            "channel": self.channel,
            "description": self.description,
            "template": self.template,
            "region": self.region,
            "status": self.status,
        }


class Customer(Aggregate):
    class Registered(Aggregate.Created):
        tenant: str
        channel: str  # where they first made contact
        identities: list[list[str]]  # [kind, value] pairs
        profile: dict[str, str]

    class IdentityAdded(Aggregate.Event):
        tenant: str
        kind: str
        value: str

    class ProfileUpdated(Aggregate.Event):
        tenant: str
        profile: dict[str, str]  # only what changed

    class ProfileProposed(Aggregate.Event):
        """A submission named them otherwise than their profile says (another name, another address):
        kept for staff to accept (by registering the customer with those details), never applied."""

        tenant: str
        ticket_id: UUID
        channel: str
        profile: dict[str, str]  # only what differs

    class Absorbed(Aggregate.Event):
        """Another customer turned out to be this one: their identities, tickets, media, opportunities and
        opt-outs are this one's now (the profile only fills in what this one lacks). Public as
        customer.merged; v2 says every identity this one has after it (`known_by`)."""

        class_version = 2
        tenant: str
        customer_id: UUID  # the one merged in
        identities: dict[str, list[str]]
        profile: dict[str, str]
        tickets: list[dict[str, Any]]
        media: list[dict[str, Any]]
        messages: list[dict[str, Any]]
        opportunities: list[dict[str, Any]]
        opt_outs: list[dict[str, str]]
        by: str
        known_by: dict[str, list[str]]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Recorded before merges were public: it said the other's identities only.
            state["known_by"] = state["identities"]

    class MergedInto(Aggregate.Event):
        """This customer was merged into `into`: whoever still names this one means that one."""

        tenant: str
        into: UUID
        by: str

    class TicketLinked(Aggregate.Event):
        tenant: str
        ticket_id: UUID
        channel: str
        description: str
        template: str
        region: str | None

    class TicketStatusReported(Aggregate.Event):
        """Workflow said the ticket is now open, closed or cancelled."""

        tenant: str
        ticket_id: UUID
        status: str

    class AttachmentAdded(Aggregate.Event):
        """An image the customer sent while the ticket was open."""

        tenant: str
        ticket_id: UUID
        channel: str
        message_id: str
        media_id: str
        url: str | None

    class LocationReported(Aggregate.Event):
        """A location the customer sent while the ticket was open: where the work is."""

        tenant: str
        ticket_id: UUID
        channel: str
        message_id: str
        latitude: float
        longitude: float
        label: str | None

    class MessageReceived(Aggregate.Event):
        """Text they sent while the ticket was open that asked for no new ticket: part of its conversation."""

        tenant: str
        ticket_id: UUID
        channel: str
        message_id: str
        text: str

    class MediaKept(Aggregate.Event):
        """An image or location sent with no ticket open: kept on the customer."""

        tenant: str
        channel: str
        message_id: str
        kind: str
        media: dict[str, Any]

    class OptedOut(Aggregate.Event):
        """They asked to be told nothing more on `channel` (replied TD / 退订): public as customer.opted_out."""

        tenant: str
        channel: str
        identity: str
        value: str
        message_id: str

    class OpportunityCreated(Aggregate.Event):
        tenant: str
        opportunity_id: str
        title: str
        amount: str | None
        stage: str
        by: str

    class OpportunityStageChanged(Aggregate.Event):
        tenant: str
        opportunity_id: str
        stage: str
        by: str

    class OpportunityWon(Aggregate.Event):
        tenant: str
        opportunity_id: str
        by: str

    class OpportunityLost(Aggregate.Event):
        tenant: str
        opportunity_id: str
        reason: str
        by: str

    @event(Registered)
    def __init__(self, tenant: str, channel: str, identities: list[list[str]], profile: dict[str, str]):
        self.tenant = tenant
        self.channel = channel
        self.identities: dict[str, list[str]] = {}
        for kind, value in identities:
            self.identities.setdefault(kind, []).append(value)
        self.profile = dict(profile)
        self.tickets: dict[UUID, LinkedTicket] = {}  # in the order they were linked
        self.media: list[dict[str, Any]] = []  # images and locations, with the ticket they went to
        self.opportunities: dict[str, Opportunity] = {}
        self.opt_outs: list[dict[str, str]] = []  # each time they asked, on which channel and as whom
        self.messages: list[dict[str, Any]] = []  # texts sent about an open ticket
        self.proposals: list[dict[str, Any]] = []  # what submissions said of them that differs, for staff
        self.merged_into: UUID | None = None
        self.merged_from: list[UUID] = []  # the customers merged into this one

    def __deepcopy__(self, memo: dict[int, Any]) -> Customer:
        """The aggregate cache hands out a deep copy on every read, and a customer's history grows with each
        ticket (a dealer's runs to thousands): deepcopy walked all of it per event. What is recorded is never
        changed in place (values are replaced, lists appended to), so copying the containers is enough."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.identities = {kind: list(values) for kind, values in self.identities.items()}
        twin.profile, twin.tickets, twin.opportunities = (
            dict(self.profile),
            dict(self.tickets),
            dict(self.opportunities),
        )
        for name in ("media", "opt_outs", "messages", "proposals", "merged_from", "_pending_events"):
            setattr(twin, name, list(getattr(self, name)))
        return twin

    @classmethod
    def register(
        cls, tenant: str, channel: str, identities: Iterable[tuple[str, str]], profile: dict[str, str]
    ) -> Customer:
        return cls(tenant=tenant, channel=channel, identities=[[k, v] for k, v in identities], profile=profile)

    # --- who they are ----------------------------------------------------------------

    def has(self, kind: str, value: str) -> bool:
        return value in self.identities.get(kind, ())

    def add_identity(self, kind: str, value: str) -> None:
        if not self.has(kind, value):
            self._identity_added(tenant=self.tenant, kind=kind, value=value)

    @event(IdentityAdded)
    def _identity_added(self, tenant: str, kind: str, value: str) -> None:
        self.identities.setdefault(kind, []).append(value)

    def update_profile(self, profile: dict[str, str]) -> None:
        changed = {k: v for k, v in profile.items() if k in PROFILE and v and self.profile.get(k) != v}
        if changed:
            self._profile_updated(tenant=self.tenant, profile=changed)

    @event(ProfileUpdated)
    def _profile_updated(self, tenant: str, profile: dict[str, str]) -> None:
        self.profile.update(profile)

    def propose_profile(self, ticket_id: UUID, channel: str, profile: dict[str, str]) -> None:
        """What a submission says of them: proposed where it differs, once per ticket; applied never."""
        differs = {k: v for k, v in profile.items() if k in PROFILE and v and self.profile.get(k) != v}
        if differs and not any(p["ticket_id"] == ticket_id for p in self.proposals):
            self._profile_proposed(tenant=self.tenant, ticket_id=ticket_id, channel=channel, profile=differs)

    @event(ProfileProposed)
    def _profile_proposed(self, tenant: str, ticket_id: UUID, channel: str, profile: dict[str, str]) -> None:
        self.proposals.append({"ticket_id": ticket_id, "channel": channel, "profile": dict(profile)})

    @property
    def pending_proposals(self) -> list[dict[str, Any]]:
        """Proposals staff have not made true yet (registering the customer with those details does)."""
        return [p for p in self.proposals if any(self.profile.get(k) != v for k, v in p["profile"].items())]

    # --- one person, two customers ---------------------------------------------------------

    def absorb(self, other: Customer, by: str) -> None:
        """Merge `other` (the same person, known as a customer of its own) into this one."""
        if other.id == self.id or other.merged_into is not None:
            return
        self._absorbed(
            tenant=self.tenant,
            customer_id=other.id,
            identities=other.identities,
            profile=other.profile,
            tickets=[asdict(t) for t in other.tickets.values()],
            media=other.media,
            messages=other.messages,
            opportunities=[asdict(o) for o in other.opportunities.values()],
            opt_outs=other.opt_outs,
            by=by,
            known_by=united(self.identities, other.identities),
        )
        other._merged_into(tenant=other.tenant, into=self.id, by=by)

    @event(Absorbed)
    def _absorbed(
        self,
        tenant: str,
        customer_id: UUID,
        identities: dict[str, list[str]],
        profile: dict[str, str],
        tickets: list[dict[str, Any]],
        media: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        opportunities: list[dict[str, Any]],
        opt_outs: list[dict[str, str]],
        by: str,
        known_by: dict[str, list[str]],
    ) -> None:
        self.identities = united(self.identities, identities)
        self.profile = {**profile, **self.profile}
        for ticket in tickets:
            self.tickets.setdefault(ticket["ticket_id"], LinkedTicket(**ticket))
        self.media.extend(media)
        self.messages.extend(messages)
        for opportunity in opportunities:
            self.opportunities.setdefault(opportunity["id"], Opportunity(**opportunity))
        self.opt_outs.extend(opt_outs)
        self.merged_from.append(customer_id)

    @event(MergedInto)
    def _merged_into(self, tenant: str, into: UUID, by: str) -> None:
        self.merged_into = into

    @property
    def last_location(self) -> str | None:
        """The label of the last location they sent (an address, as WeChat names it)."""
        labels = [m["label"] for m in self.media if m["kind"] == "location" and m.get("label")]
        return labels[-1] if labels else None

    # --- their tickets ---------------------------------------------------------------

    def link_ticket(self, ticket_id: UUID, channel: str, description: str, template: str, region: str | None) -> None:
        if ticket_id not in self.tickets:
            self._ticket_linked(
                tenant=self.tenant,
                ticket_id=ticket_id,
                channel=channel,
                description=description,
                template=template,
                region=region,
            )

    @event(TicketLinked)
    def _ticket_linked(
        self, tenant: str, ticket_id: UUID, channel: str, description: str, template: str, region: str | None
    ) -> None:
        self.tickets[ticket_id] = LinkedTicket(ticket_id, channel, description, template, region)

    def ticket_status(self, ticket_id: UUID, status: str) -> None:
        linked = self.tickets.get(ticket_id)
        if linked is not None and linked.status != status:
            self._ticket_status_reported(tenant=self.tenant, ticket_id=ticket_id, status=status)

    @event(TicketStatusReported)
    def _ticket_status_reported(self, tenant: str, ticket_id: UUID, status: str) -> None:
        self.tickets[ticket_id] = replace(self.tickets[ticket_id], status=status)

    @property
    def open_ticket(self) -> UUID | None:
        """The ticket a picture or a location they send belongs to: the newest open one."""
        open_ = [t.ticket_id for t in self.tickets.values() if t.status in OPEN]
        return open_[-1] if open_ else None

    # --- images and locations ----------------------------------------------------------

    def received(self, channel: str, message_id: str) -> bool:
        """Whether this message was recorded before (the channel retried it)."""
        return any(m["channel"] == channel and m["message_id"] == message_id for m in (*self.media, *self.messages))

    def receive_image(self, channel: str, message_id: str, media_id: str, url: str | None) -> UUID | None:
        """Attach to the open ticket, or keep; the ticket it went to (None: kept)."""
        if self.received(channel, message_id):
            return self._ticket_of(channel, message_id)
        ticket_id = self.open_ticket
        if ticket_id is None:
            self._kept(channel, message_id, "image", {"media_id": media_id, "url": url})
        else:
            self._attachment_added(
                tenant=self.tenant,
                ticket_id=ticket_id,
                channel=channel,
                message_id=message_id,
                media_id=media_id,
                url=url,
            )
        return ticket_id

    def receive_location(
        self, channel: str, message_id: str, latitude: float, longitude: float, label: str | None
    ) -> UUID | None:
        if self.received(channel, message_id):
            return self._ticket_of(channel, message_id)
        ticket_id = self.open_ticket
        if ticket_id is None:
            self._kept(channel, message_id, "location", {"latitude": latitude, "longitude": longitude, "label": label})
        else:
            self._location_reported(
                tenant=self.tenant,
                ticket_id=ticket_id,
                channel=channel,
                message_id=message_id,
                latitude=latitude,
                longitude=longitude,
                label=label,
            )
        return ticket_id

    def _ticket_of(self, channel: str, message_id: str) -> UUID | None:
        return next(
            m["ticket_id"]
            for m in (*self.media, *self.messages)
            if m["channel"] == channel and m["message_id"] == message_id
        )

    def receive_message(self, channel: str, message_id: str, text: str) -> UUID | None:
        """Text about their open ticket goes to its conversation; None (nothing recorded) with no ticket open."""
        if self.received(channel, message_id):
            return self._ticket_of(channel, message_id)
        ticket_id = self.open_ticket
        if ticket_id is not None:
            self._message_received(
                tenant=self.tenant, ticket_id=ticket_id, channel=channel, message_id=message_id, text=text
            )
        return ticket_id

    @event(MessageReceived)
    def _message_received(self, tenant: str, ticket_id: UUID, channel: str, message_id: str, text: str) -> None:
        self.messages.append({"ticket_id": ticket_id, "channel": channel, "message_id": message_id, "text": text})

    @event(AttachmentAdded)
    def _attachment_added(
        self, tenant: str, ticket_id: UUID, channel: str, message_id: str, media_id: str, url: str | None
    ) -> None:
        self.media.append(
            {
                "kind": "image",
                "ticket_id": ticket_id,
                "channel": channel,
                "message_id": message_id,
                "media_id": media_id,
                "url": url,
            }
        )

    @event(LocationReported)
    def _location_reported(
        self,
        tenant: str,
        ticket_id: UUID,
        channel: str,
        message_id: str,
        latitude: float,
        longitude: float,
        label: str | None,
    ) -> None:
        self.media.append(
            {
                "kind": "location",
                "ticket_id": ticket_id,
                "channel": channel,
                "message_id": message_id,
                "latitude": latitude,
                "longitude": longitude,
                "label": label,
            }
        )

    def _kept(self, channel: str, message_id: str, kind: str, media: dict[str, Any]) -> None:
        self._media_kept(tenant=self.tenant, channel=channel, message_id=message_id, kind=kind, media=media)

    @event(MediaKept)
    def _media_kept(self, tenant: str, channel: str, message_id: str, kind: str, media: dict[str, Any]) -> None:
        self.media.append({"kind": kind, "ticket_id": None, "channel": channel, "message_id": message_id, **media})

    def media_of(self, ticket_id: UUID) -> list[dict[str, Any]]:
        return [m for m in self.media if m["ticket_id"] == ticket_id]

    # --- what they do not want ---------------------------------------------------------

    def opt_out(self, channel: str, identity: str, value: str, message_id: str) -> None:
        """Once per message: the channel retries it with the same id."""
        if not any(o["channel"] == channel and o["message_id"] == message_id for o in self.opt_outs):
            self._opted_out(tenant=self.tenant, channel=channel, identity=identity, value=value, message_id=message_id)

    @event(OptedOut)
    def _opted_out(self, tenant: str, channel: str, identity: str, value: str, message_id: str) -> None:
        self.opt_outs.append({"channel": channel, "identity": identity, "value": value, "message_id": message_id})

    # --- opportunities (商机) ----------------------------------------------------------

    def create_opportunity(self, opportunity_id: str, title: str, amount: str | None, stage: str, by: str) -> None:
        check_stage(stage)
        if opportunity_id in self.opportunities:
            return  # the same request again
        self._opportunity_created(
            tenant=self.tenant,
            opportunity_id=opportunity_id,
            title=title,
            amount=check_amount(amount),
            stage=stage,
            by=by,
        )

    @event(OpportunityCreated)
    def _opportunity_created(
        self, tenant: str, opportunity_id: str, title: str, amount: str | None, stage: str, by: str
    ) -> None:
        self.opportunities[opportunity_id] = Opportunity(opportunity_id, title, amount, stage)

    def move_opportunity(self, opportunity_id: str, stage: str, by: str) -> None:
        check_stage(stage)
        if check_open(self.opportunities.get(opportunity_id), opportunity_id).stage != stage:
            self._opportunity_stage_changed(tenant=self.tenant, opportunity_id=opportunity_id, stage=stage, by=by)

    @event(OpportunityStageChanged)
    def _opportunity_stage_changed(self, tenant: str, opportunity_id: str, stage: str, by: str) -> None:
        self.opportunities[opportunity_id] = self.opportunities[opportunity_id].moved(stage)

    def win_opportunity(self, opportunity_id: str, by: str) -> None:
        check_open(self.opportunities.get(opportunity_id), opportunity_id)
        self._opportunity_won(tenant=self.tenant, opportunity_id=opportunity_id, by=by)

    @event(OpportunityWon)
    def _opportunity_won(self, tenant: str, opportunity_id: str, by: str) -> None:
        self.opportunities[opportunity_id] = self.opportunities[opportunity_id].moved("won")

    def lose_opportunity(self, opportunity_id: str, reason: str, by: str) -> None:
        check_open(self.opportunities.get(opportunity_id), opportunity_id)
        self._opportunity_lost(tenant=self.tenant, opportunity_id=opportunity_id, reason=reason, by=by)

    @event(OpportunityLost)
    def _opportunity_lost(self, tenant: str, opportunity_id: str, reason: str, by: str) -> None:
        self.opportunities[opportunity_id] = self.opportunities[opportunity_id].moved("lost", reason)
