"""Public event contracts: what each event type on a topic carries, validated by marshmallow.

Topics are a contract for other systems. A change that breaks a consumer gets a new
`version`; old envelopes are upcast on read (see `Contract.upcasters`), never rewritten.
`scrm contracts` prints these as JSON Schema.
"""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from collections.abc import Callable
from uuid import UUID

from marshmallow import EXCLUDE, ValidationError, fields, validate, validates_schema
from marshmallow import Schema as _Schema

from shared.envelope import Envelope
from shared.numbers import MAX_QUANTITY, QUANTITY_PLACES, quantity_problem


class Schema(_Schema):
    """Tolerant reader: fields added later do not break consumers built against older contracts."""

    class Meta:
        unknown = EXCLUDE


_text = {"required": True, "validate": validate.Length(min=1, max=500)}
_optional_text = {"validate": validate.Length(min=1, max=500)}
PHONE = validate.Regexp(r"^\+?[0-9][0-9 -]{4,19}$")
DEFAULT_TEMPLATE = "default"  # where a request goes when no route matches: never nowhere


def ticket_number(ticket_id: UUID) -> str:
    """The short number people read out and type (e.g. in a chat reply): the first 50 bits
    of the ticket id in base32 (A-Z, 2-7: no 0/1 to mix up with O/I). Every service derives
    the same number from the ticket id, so no service needs to store or publish it."""
    digits = b32encode(ticket_id.bytes).decode()[:10]
    return f"{digits[:5]}-{digits[5:]}"


class Customer(Schema):
    """Who raised the ticket: whatever the channel knows, but at least one identity
    (a phone or a channel's id for the person) so that they can be found again."""

    IDENTITIES = ("phone", "wecom_userid", "wecom_external_userid", "openid", "unionid")

    name = fields.String(**_optional_text)
    phone = fields.String(validate=PHONE)
    address = fields.String(**_optional_text)
    wecom_userid = fields.String(**_optional_text)  # a member of the tenant's WeCom corp
    wecom_external_userid = fields.String(**_optional_text)  # a WeCom external contact
    openid = fields.String(**_optional_text)  # official-account follower
    unionid = fields.String(**_optional_text)  # the same person across the tenant's WeChat apps

    @validates_schema
    def _has_identity(self, data: dict[str, Any], **_: Any) -> None:
        if not any(data.get(k) for k in self.IDENTITIES):
            raise ValidationError(f"give at least one of {', '.join(self.IDENTITIES)}", "_schema")


FLAG = validate.Regexp(r"^[a-z0-9_-]{1,32}$")


class TicketCustomer(Customer):
    """The customer as ticket.created carries them: what the channel knows, and the flags staff set on
    them in intake's directory (added within v2: optional, so v2 readers and older events still fit).
    Channels never give flags: a submitter cannot make themselves a VIP (intake's input drops them)."""

    flags = fields.List(
        fields.String(validate=FLAG),
        metadata={"description": "What staff marked the customer as, e.g. vip (workflow's priority reads it)"},
    )


class Route(Schema):
    """How the template was chosen."""

    by = fields.String(required=True, validate=validate.OneOf(["keyword", "menu", "form", "default"]))
    key = fields.String(**_optional_text)  # the keyword, menu key or form (template key) that matched


class TicketCreated(Schema):
    """v2: customers carry channel identities (name, phone, address became optional) and the
    ticket names the template it was routed to."""

    channel = fields.String(**_text)
    submission_id = fields.String(**_text)
    customer = fields.Nested(TicketCustomer, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    template = fields.String(**_text)
    route = fields.Nested(Route)
    values = fields.Dict(keys=fields.String())  # the template's field values, from a form (H5)
    # Added within v2 (optional, so v2 readers and old v2 events still fit): the customer in
    # intake's directory the ticket is linked to, and the region it came from ("广东/深圳").
    customer_id = fields.UUID()
    region = fields.String(**_optional_text)


def ticket_created_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 tickets came from H5 forms, which had no routing: the default template."""
    return {**data, "template": DEFAULT_TEMPLATE, "route": {"by": "default"}}


class TicketOpened(Schema):
    """Workflow took the ticket in: it entered its template's first node, with a handler."""

    template = fields.String(**_text)
    template_version = fields.Integer(required=True)
    node = fields.String(**_text)
    handler = fields.String(**_text)
    reason = fields.String(**_text)


def _bounded_quantity(quantity: Decimal) -> None:
    problem = quantity_problem(quantity)
    if problem:
        raise ValidationError(problem)


class Item(Schema):
    code = fields.String(**_text)
    quantity = fields.Decimal(
        required=True,
        as_string=True,
        validate=_bounded_quantity,
        metadata={
            "pattern": rf"^[0-9]{{1,7}}(\.[0-9]{{1,{QUANTITY_PLACES}}})?$",
            "description": f"More than 0, at most {MAX_QUANTITY:,}, at most {QUANTITY_PLACES} decimal places",
        },
    )


class ItemsRecorded(Schema):
    by = fields.String(**_text)
    items = fields.List(fields.Nested(Item), required=True, validate=validate.Length(min=1))


class TicketTransitioned(Schema):
    from_node = fields.String(required=True, allow_none=True)
    to_node = fields.String(**_text)
    by = fields.String(**_text)


class StatementLine(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["part", "labour"]))
    code = fields.String(**_text)
    quantity = fields.Decimal(required=True, as_string=True)
    unit_price = fields.Decimal(required=True, as_string=True)
    amount = fields.Decimal(required=True, as_string=True)
    priced = fields.Boolean(required=True)  # False: the code is not in the price book


class StatementIssued(Schema):
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    lines = fields.List(fields.Nested(StatementLine), required=True)
    subtotal = fields.Decimal(required=True, as_string=True)
    tax = fields.Decimal(required=True, as_string=True)
    total = fields.Decimal(required=True, as_string=True)
    technician = fields.String(**_text)
    payout = fields.Decimal(required=True, as_string=True)


class DeliveryRequested(Schema):
    delivery_id = fields.UUID(required=True)
    channel = fields.String(**_text)
    recipient = fields.String(**_text)
    message = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DeliveryMade(Schema):
    delivery_id = fields.UUID(required=True)
    channel = fields.String(**_text)
    recipient = fields.String(**_text)


class ContractError(ValueError):
    def __init__(self, type_: str, messages: Any):
        super().__init__(f"{type_}: {messages}")
        self.messages = messages


@dataclass(frozen=True)
class Contract:
    type: str
    source: str  # the service that publishes it
    schema: Schema
    version: int = 1
    upcasters: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    subject: str = "the ticket's id"  # what the envelope's subject (the record's key) is the id of


def topic(service: str, prefix: str = "scrm") -> str:
    """Each service publishes its public events on its own Kafka topic, keyed by subject (a ticket's id for
    every ticket event)."""
    return f"{prefix}.{service}"


CONTRACTS: dict[str, Contract] = {
    c.type: c
    for c in (
        Contract("ticket.created", "intake", TicketCreated(), version=2, upcasters={1: ticket_created_v1_v2}),
        Contract("ticket.opened", "workflow", TicketOpened()),
        Contract("ticket.parts_consumed", "workflow", ItemsRecorded()),
        Contract("ticket.labour_recorded", "workflow", ItemsRecorded()),
        Contract("ticket.closed", "workflow", TicketTransitioned()),
        Contract("settlement.statement_issued", "settlement", StatementIssued()),
        Contract("notify.delivery_requested", "notify", DeliveryRequested()),
        Contract("notify.delivery_made", "notify", DeliveryMade()),
    )
}


def contract(type_: str) -> Contract:
    try:
        return CONTRACTS[type_]
    except KeyError:
        raise ContractError(type_, "unknown event type") from None


def upcast(envelope: Envelope) -> Envelope:
    """The envelope at its contract's current version: what every follower reads, whatever the
    version its leader wrote (an outbox keeps what was written, never rewrites it)."""
    c = contract(envelope.type)
    data, version = envelope.data, envelope.schema_version
    while version < c.version:
        data, version = c.upcasters[version](data), version + 1
    if data is envelope.data:
        return envelope
    return Envelope(**{**envelope.__dict__, "data": data, "schema_version": version})


def validate_envelope(envelope: Envelope) -> Envelope:
    """The envelope upcast; raise ContractError unless its data fits its contract."""
    current = upcast(envelope)
    try:
        contract(current.type).schema.load(current.data)
    except ValidationError as e:
        raise ContractError(current.type, e.messages) from None
    return current


# --- Transitions of tickets through their templates' nodes (workflow, issue #3) -----------


class TicketMoved(Schema):
    """A staff action moved a ticket or changed its status. A step that closes the ticket is
    published as ticket.closed instead; an edit or a transfer moves nothing (see ticket.assigned)."""

    action = fields.String(
        required=True, validate=validate.OneOf(["advance", "approve", "reject", "return", "cancel", "reopen"])
    )
    by = fields.String(**_text)  # the staff member
    node = fields.String(**_text)  # where the action was done
    from_nodes = fields.List(fields.String(), required=True)  # the nodes the ticket left
    to_nodes = fields.List(fields.String(), required=True)  # the nodes it entered and waits at (or ended at)
    status = fields.String(required=True, validate=validate.OneOf(["open", "closed", "cancelled"]))
    template = fields.String(**_text)
    template_version = fields.Integer(required=True)


class TicketAssigned(Schema):
    """Who handles a node from now on, and why: a node's handler rule when the ticket enters it,
    a transfer (转派), or a member claiming it from a pool."""

    node = fields.String(**_text)
    handler = fields.String(**_text)  # a user id, or "role:<role>" / "department:<department>" for a pool
    kind = fields.String(required=True, validate=validate.OneOf(["user", "role", "department"]))
    value = fields.String(**_text)  # the user, role or department
    reason = fields.String(**_text)
    by = fields.String(**_text)  # whose action led to it


CONTRACTS.update(
    {
        c.type: c
        for c in (
            Contract("ticket.transitioned", "workflow", TicketMoved()),
            Contract("ticket.assigned", "workflow", TicketAssigned()),
        )
    }
)


# --- Templates made public, for channels that render them (intake's H5 forms, issue #4) ----


class PublishedField(Schema):
    """A template field as workflow defines it (shared/formfields/fields.py `Field.to_dict`)."""

    key = fields.String(**_text)
    label = fields.String(**_text)
    type = fields.String(**_text)
    required = fields.Boolean()
    default = fields.Raw(allow_none=True)
    options = fields.List(fields.String())
    min_length = fields.Integer()
    max_length = fields.Integer()
    minimum = fields.Decimal(as_string=True)
    maximum = fields.Decimal(as_string=True)
    pattern = fields.String()
    currency = fields.String(validate=validate.Length(equal=3))
    ask_customer = fields.Boolean()  # on the H5 page: the template's customer-facing first step


_LIBRARY = "the tenant's template library's id"  # template.published's subject


class TemplatePublished(Schema):
    """A version of a tenant's template was published. The envelope's subject is the tenant's template
    library; versions published before this event went public have no tenant and are not announced."""

    key = fields.String(**_text)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    name = fields.String(**_text)
    fields_ = fields.List(fields.Nested(PublishedField), required=True, data_key="fields")
    variant_of = fields.String(allow_none=True)  # a regional variant of that template key …
    regions = fields.List(fields.String())  # … for tickets in these regions
    by = fields.String(**_text)


CONTRACTS.update(
    {c.type: c for c in (Contract("template.published", "workflow", TemplatePublished(), subject=_LIBRARY),)}
)


# --- SLA (时效) of tickets at their nodes (workflow, issue #3) ------------------------------


class SlaTimer(Schema):
    """A timer of a node's SLA clock fired: once, at or after its due instant."""

    node = fields.String(**_text)
    visit = fields.Integer(required=True)  # the how-many-th time the ticket is at this node
    clock = fields.String(required=True, validate=validate.OneOf(["response", "resolution"]))
    target = fields.String(**_text)  # as the template says it: "2h", "1d", "next_business_day" …
    due = fields.DateTime(required=True)  # when this timer was due (ISO 8601, UTC)
    deadline = fields.DateTime(required=True, allow_none=True)  # when the target is (was) missed
    handler = fields.String(required=True, allow_none=True)  # who handles the node now


class TicketEscalated(SlaTimer):
    """A step of the escalation chain after a breach, or a repeated reminder for a VIP customer."""

    step = fields.Integer(required=True, allow_none=True)  # the template's escalation step; null: a VIP reminder
    action = fields.String(required=True, validate=validate.OneOf(["remind", "notify_supervisor", "reassign"]))
    to = fields.List(fields.String(), required=True)  # who is told; for reassign, the new handler
    reason = fields.String(**_text)
    vip = fields.Boolean(required=True)


CONTRACTS.update(
    {
        c.type: c
        for c in (
            Contract("ticket.sla_warned", "workflow", SlaTimer()),
            Contract("ticket.sla_breached", "workflow", SlaTimer()),
            Contract("ticket.escalated", "workflow", TicketEscalated()),
        )
    }
)


# --- What customers send about an open ticket (intake's customer directory, issue #4) ---------


class AttachmentAdded(Schema):
    """An image the customer sent on a chat channel while the ticket was open."""

    customer_id = fields.UUID(required=True)
    channel = fields.String(**_text)
    message_id = fields.String(**_text)  # the channel's id for the message
    media_id = fields.String(**_text)  # the channel's media id (WeCom / WeChat keep the file 3 days)
    url = fields.String(validate=validate.Length(min=1, max=2000))  # the picture's URL, when the channel gives one


class LocationReported(Schema):
    """A location the customer sent while the ticket was open: where the work is."""

    customer_id = fields.UUID(required=True)
    channel = fields.String(**_text)
    message_id = fields.String(**_text)
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    label = fields.String(**_optional_text)  # the place's name or address, as WeChat gives it


class MessageReceived(Schema):
    """Text the customer sent on a chat channel while the ticket was open, asking for no new ticket (no
    keyword routed it): part of the ticket's conversation (沟通记录)."""

    customer_id = fields.UUID(required=True)
    channel = fields.String(**_text)
    message_id = fields.String(**_text)
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


CONTRACTS.update(
    {
        c.type: c
        for c in (
            Contract("ticket.attachment_added", "intake", AttachmentAdded()),
            Contract("ticket.location_reported", "intake", LocationReported()),
            Contract("ticket.message_received", "intake", MessageReceived()),
        )
    }
)


# --- Process sandbox (流程沙箱): one ticket's own process changed (workflow, issue #3) -------------


class ProcessChanged(Schema):
    """A supervisor changed this one ticket's process; the template stays as published."""

    op = fields.String(required=True, validate=validate.OneOf(["insert", "skip", "handler"]))
    node = fields.String(**_text)  # the node inserted, skipped, or given another handler rule
    by = fields.String(**_text)
    why = fields.String(required=True)  # in the words of who made the change; may be empty
    after = fields.String(**_optional_text)  # insert: the node it follows
    to = fields.String(**_optional_text)  # skip: where what led to it leads now
    dropped = fields.List(fields.String())  # skip: nodes only its other branches led to
    handler = fields.Dict()  # handler: the new rule ({kind, value})


CONTRACTS.update({c.type: c for c in (Contract("ticket.process_changed", "workflow", ProcessChanged()),)})


# --- Tenants and their API keys, for every service to check callers (workflow, issue #11) -----------
_ACCESS = "the tenant's access record's id"  # the envelope's subject: not a ticket


class TenantCreated(Schema):
    name = fields.String(**_text)
    by = fields.String(**_text)


class ApiKeyIssued(Schema):
    """A key of the tenant's: only its SHA-256 travels (the key is shown once, to whoever asked for it)."""

    key_id = fields.String(**_text)
    name = fields.String(**_text)
    scope = fields.String(required=True, validate=validate.OneOf(["read", "write", "admin"]))
    digest = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    by = fields.String(**_text)


class ApiKeyRevoked(Schema):
    key_id = fields.String(**_text)
    by = fields.String(**_text)


CONTRACTS.update(
    {
        c.type: c
        for c in (
            Contract("tenant.created", "workflow", TenantCreated(), subject=_ACCESS),
            Contract("api_key.issued", "workflow", ApiKeyIssued(), subject=_ACCESS),
            Contract("api_key.revoked", "workflow", ApiKeyRevoked(), subject=_ACCESS),
        )
    }
)


# --- Notify (issue 13): who staff are and how to reach them (workflow), customers who opt out (intake) --


class StaffChanged(Schema):
    """A member of a tenant's staff directory was saved (their whole record now) or removed. The subject
    is the tenant's directory; members saved before this event went public have no tenant and are not
    announced (save them again)."""

    user = fields.String(**_text)
    removed = fields.Boolean(required=True)
    name = fields.String(validate=validate.Length(max=100))
    roles = fields.List(fields.String())
    departments = fields.List(fields.String())
    supervisor = fields.String(allow_none=True)
    wecom_userid = fields.String(allow_none=True)  # default: the user id
    email = fields.String(allow_none=True)
    notify_by = fields.String(allow_none=True)  # the channel they prefer: wecom, email


class CustomerMerged(Schema):
    """One person was two customers in intake's directory: `merged_customer_id` was merged into
    `customer_id`, whose identities are now every one of both. Whoever keeps the merged-away id (a
    ticket's customer, an address book) means the surviving customer from now on. The subject is the
    surviving customer."""

    customer_id = fields.UUID(required=True)  # the one who stays
    merged_customer_id = fields.UUID(required=True)  # the one merged into it
    identities = fields.Dict(
        keys=fields.String(validate=validate.OneOf(Customer.IDENTITIES)),
        values=fields.List(fields.String(**_optional_text)),
        required=True,
    )  # the surviving customer's, after the merge: {"openid": ["o-1"], "unionid": ["u-1"], …}
    by = fields.String(**_text)  # who merged them (the channel or system that named both)


class CustomerOptedOut(Schema):
    """A customer asked to be told nothing more on a channel (e.g. replied TD / 退订 to the official
    account). The subject is the customer."""

    customer_id = fields.UUID(required=True)
    channel = fields.String(**_text)  # the channel they asked on (intake's name: mp, wecom)
    identity = fields.String(required=True, validate=validate.OneOf(Customer.IDENTITIES))  # which of theirs
    value = fields.String(**_text)  # e.g. their openid
    message_id = fields.String(**_text)  # the channel's id for the message that asked


CONTRACTS.update(
    {
        c.type: c
        for c in (
            Contract("staff.changed", "workflow", StaffChanged(), subject="the tenant's staff directory's id"),
            Contract("customer.opted_out", "intake", CustomerOptedOut(), subject="the customer's id"),
            Contract("customer.merged", "intake", CustomerMerged(), subject="the surviving customer's id"),
        )
    }
)


# --- Settlement: price books, ledgers, statements, stock (issue #12) ----------------------------
# What settlement needs from workflow (the ticket's region, parts returned, SLA targets met) and
# what it publishes.

_money = {"required": True, "as_string": True}


class Instant(fields.DateTime):
    """An ISO 8601 instant that documents carry as text: dumped as the text it is."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class TicketOpenedWithRegion(TicketOpened):
    """ticket.opened, with a field added within v1 (optional, so v1 readers and older events still fit)."""

    region = fields.String(**_optional_text)  # where the ticket is ("广东/深圳"), when the channel said


class SlaMet(Schema):
    """An SLA clock of a node stopped: its target met on time, or not (`on_time` false)."""

    node = fields.String(**_text)
    visit = fields.Integer(required=True)
    clock = fields.String(required=True, validate=validate.OneOf(["response", "resolution"]))
    how = fields.String(required=True, validate=validate.OneOf(["responded", "left", "closed", "cancelled"]))
    at = fields.DateTime(required=True)
    deadline = fields.DateTime(required=True, allow_none=True)
    on_time = fields.Boolean(required=True)


class SettledLine(Schema):
    """A line of a statement: the work, the tier used and why, the amounts, the payout, where the cost falls."""

    id = fields.UUID(required=True, allow_none=True)  # null in statements upcast from v1
    source = fields.String(required=True, allow_none=True)  # the id of the workflow event that recorded it
    at = Instant(required=True, allow_none=True)  # when it was recorded: the terms in force then applied
    kind = fields.String(required=True, validate=validate.OneOf(["part", "labour"]))
    code = fields.String(**_text)
    name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    quantity = fields.Decimal(**_money)  # negative for parts returned
    technician = fields.String(required=True, allow_none=True)  # who recorded it: who is paid for it
    party = fields.String(allow_none=True)  # their dealer or partner; null: the tenant's own staff
    mode = fields.String(allow_none=True)  # their cooperation mode
    region = fields.String(allow_none=True)
    currency = fields.String(allow_none=True, validate=validate.Length(equal=3))
    tier = fields.String(allow_none=True)
    why = fields.String(allow_none=True)
    priced = fields.Boolean(required=True)
    unit_price = fields.Decimal(as_string=True, allow_none=True)
    tax_rate = fields.Decimal(as_string=True, allow_none=True)
    tax_inclusive = fields.Boolean(allow_none=True)
    net = fields.Decimal(**_money)
    tax = fields.Decimal(as_string=True, allow_none=True)  # null in statements upcast from v1 (tax was on the total)
    gross = fields.Decimal(as_string=True, allow_none=True)
    payout = fields.Decimal(as_string=True, allow_none=True)
    payout_rule = fields.Dict(allow_none=True)  # {key, basis, value[, standard_hours]}
    warehouse = fields.String(allow_none=True)
    cost_region = fields.String(allow_none=True)


class Adjustment(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(
        required=True, validate=validate.OneOf(["remote_surcharge", "sla_met_bonus", "sla_missed_penalty"])
    )
    technician = fields.String(**_text)
    party = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    amount = fields.Decimal(**_money)
    why = fields.String(required=True)


class Payout(Schema):
    technician = fields.String(**_text)
    party = fields.String(allow_none=True)
    lines = fields.Decimal(**_money)
    adjustments = fields.Decimal(**_money)
    total = fields.Decimal(**_money)


class PartyTotal(Schema):
    party = fields.String(allow_none=True)
    net = fields.Decimal(**_money)
    tax = fields.Decimal(**_money)
    gross = fields.Decimal(**_money)


class RegionCost(Schema):
    region = fields.String(allow_none=True)
    net = fields.Decimal(**_money)


class SettlementDocument(Schema):
    """v2 of settlement.statement_issued, and settlement.statement_reversed: a ticket's statement
    (or its reversal, every amount negated). Totals are sums of the lines."""

    id = fields.UUID(required=True, allow_none=True)
    number = fields.Integer(required=True)  # its place among the ticket's statements and reversals
    kind = fields.String(required=True, validate=validate.OneOf(["statement", "reversal"]))
    reverses = fields.UUID(required=True, allow_none=True)  # a reversal: the statement it reverses
    ticket_id = fields.UUID(required=True, allow_none=True)
    issued_at = Instant(required=True, allow_none=True)  # the closing (reopening) event's time
    cause = fields.String(required=True, allow_none=True)  # that event's id
    region = fields.String(required=True, allow_none=True)
    currency = fields.String(required=True, allow_none=True, validate=validate.Length(equal=3))
    lines = fields.List(fields.Nested(SettledLine), required=True)
    adjustments = fields.List(fields.Nested(Adjustment), required=True)
    net = fields.Decimal(**_money)
    tax = fields.Decimal(**_money)
    gross = fields.Decimal(**_money)
    payout = fields.Decimal(**_money)
    payouts = fields.List(fields.Nested(Payout), required=True)
    parties = fields.List(fields.Nested(PartyTotal), required=True)
    cost_split = fields.List(fields.Nested(RegionCost), required=True)
    unpriced = fields.Integer(required=True)  # lines no tier prices (amount 0, flagged, never silent)


def statement_issued_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """The walking skeleton's statements: one flat price book, tax on the subtotal, one technician
    (whoever closed the ticket). What v1 did not say is null."""
    technician = data["technician"]
    lines = [
        {
            "id": None,
            "source": None,
            "at": None,
            "kind": x["kind"],
            "code": x["code"],
            "quantity": x["quantity"],
            "technician": technician,
            "currency": data["currency"],
            "priced": x["priced"],
            "unit_price": x["unit_price"],
            "net": x["amount"],
            "tax": None,
            "gross": None,
            "payout": None,
        }
        for x in data["lines"]
    ]
    return {
        "id": None,
        "number": 1,
        "kind": "statement",
        "reverses": None,
        "ticket_id": None,
        "issued_at": None,
        "cause": None,
        "region": None,
        "currency": data["currency"],
        "lines": lines,
        "adjustments": [],
        "net": data["subtotal"],
        "tax": data["tax"],
        "gross": data["total"],
        "payout": data["payout"],
        "payouts": [
            {
                "technician": technician,
                "party": None,
                "lines": data["payout"],
                "adjustments": "0.00",
                "total": data["payout"],
            }
        ],
        "parties": [{"party": None, "net": data["subtotal"], "tax": data["tax"], "gross": data["total"]}],
        "cost_split": [],
        "unpriced": sum(1 for x in data["lines"] if not x["priced"]),
    }


class StockLow(Schema):
    """A part fell below its threshold in a warehouse: a procurement request (采购申请), once per crossing."""

    warehouse = fields.String(**_text)
    code = fields.String(**_text)
    level = fields.Decimal(**_money)
    threshold = fields.Decimal(**_money)
    cause = fields.String(required=True, allow_none=True)  # the ledger line that crossed it; null: a threshold raised


class CatalogueChange(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["part", "labour"]))
    code = fields.String(**_text)
    known = fields.Boolean(required=True)  # false: retired, refused from now on


class CatalogueChanged(Schema):
    """Codes added to or retired from a tenant's catalogue (workflow refuses codes it does not know)."""

    changes = fields.List(fields.Nested(CatalogueChange), required=True, validate=validate.Length(min=1))


CONTRACTS.update(
    {
        c.type: c
        for c in (
            Contract("ticket.opened", "workflow", TicketOpenedWithRegion()),
            Contract("ticket.parts_returned", "workflow", ItemsRecorded()),
            Contract("ticket.sla_met", "workflow", SlaMet()),
            Contract(
                "settlement.statement_issued",
                "settlement",
                SettlementDocument(),
                version=2,
                upcasters={1: statement_issued_v1_v2},
            ),
            Contract("settlement.statement_reversed", "settlement", SettlementDocument()),
            Contract(
                "settlement.stock_low", "settlement", StockLow(), subject="the id of the warehouse's stock record"
            ),
            Contract(
                "settlement.catalogue_changed", "settlement", CatalogueChanged(), subject="the tenant's catalogue's id"
            ),
        )
    }
)


# --- Nobody fits: the unassigned queue (workflow, issue #14) ------------------------------------


class TicketUnassigned(Schema):
    """Nobody fitted a node's handler rule when the ticket entered it: the node waits in the
    unassigned queue of `role` (at `site`) for a dispatcher, and `reason` says why nobody was found.
    Who takes it on later is a ticket.assigned."""

    node = fields.String(**_text)
    queue = fields.String(**_text)  # "queue:<role>" or "queue:<role>@<site>", as handlers are named
    role = fields.String(**_text)
    site = fields.String(allow_none=True, **_optional_text)
    reason = fields.String(**_text)
    by = fields.String(**_text)  # whose action led to it ("system" when the ticket opened)


CONTRACTS.update({c.type: c for c in (Contract("ticket.unassigned", "workflow", TicketUnassigned()),)})
