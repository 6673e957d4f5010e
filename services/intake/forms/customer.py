"""What every H5 page asks of the customer: the fixed form (`/h5/submissions`) and each published
template's page alike."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.contracts import PHONE

_text = {"required": True, "validate": validate.Length(min=1, max=500)}


class H5Customer(Schema):
    """The H5 form asks for all three, although a ticket needs only one identity."""

    name = fields.String(**_text)
    phone = fields.String(required=True, validate=PHONE)
    address = fields.String(**_text)
