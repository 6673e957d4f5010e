"""Schemas the resources answer with."""

from marshmallow import Schema, fields


class EventView(Schema):
    type = fields.String()
    version = fields.Integer()
    at = fields.String()
    data = fields.Dict()


class DeliveryView(Schema):
    delivery_id = fields.UUID()
    kind = fields.String()
    recipient = fields.String()
    name = fields.String()
    channel = fields.String()
    address = fields.String()
    status = fields.String(metadata={"description": "pending, sent, dead, withheld, fell_back"})
    attempts = fields.Integer()
    due = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    receipt = fields.String(allow_none=True)
    title = fields.String()
    body = fields.String()
    link = fields.String()
    urgent = fields.Boolean()
    cause = fields.UUID()
    fallback_of = fields.UUID(allow_none=True)
    events = fields.List(fields.Nested(EventView))


class DeliveriesView(Schema):
    deliveries = fields.List(fields.Nested(DeliveryView))
