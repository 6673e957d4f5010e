"""A form page's submission: checked against the template version the page was rendered from
(the server is the authority; the page's own checks only spare a round trip)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shared.errors import Invalid

from services.intake.forms.customer import H5Customer
from services.intake.forms.domain import Form, FormVersion
from services.intake.forms.uploads import Uploads
from shared.formfields.fields import LIST_TYPES
from shared.formfields.forms import dump_values, validate_values

MAX_DESCRIPTION = 4000
MAX_CONTACT = 500  # characters of a contact part (shared/contracts.py Customer)
UPLOADED = ("image", "attachment")  # their values are references to uploads (uploads.py)


class FormSubmission(Schema):
    submission_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    version = fields.Integer(required=True, metadata={"description": "The template version the page showed"})
    customer = fields.Nested(
        H5Customer,
        load_default=dict,
        metadata={
            "description": "Name, phone and address, as the fixed H5 form asks them; a part the form's own fields give "
            "(its required customer, phone and location fields) is left out and taken from them"
        },
    )
    values = fields.Dict(keys=fields.String(), load_default=dict)


def _flat(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as {"customer.phone": "…"}, like the values' errors."""
    if isinstance(messages, dict):
        return {k: v for key, inner in messages.items() for k, v in _flat(inner, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)}


def check(raw: Any, form: Form, uploads: Uploads) -> tuple[dict[str, Any], FormVersion, dict[str, Any]]:
    """(the body, the version it was filled in, the values as JSON), or Invalid listing every bad field
    at once: `errors` maps a field key (or customer.name, …) to its message."""
    if not isinstance(raw, dict):
        raise Invalid("the body is not a JSON object")
    errors: dict[str, str] = {}
    number = raw.get("version")
    version = form.published(number) if type(number) is int and number in form.versions else None
    given_by_fields = tuple(f"customer.{part}" for part in version.contact) if version is not None else ()
    try:
        body = FormSubmission().load(raw, partial=given_by_fields)
    except ValidationError as error:
        errors.update(_flat(error.messages))
        body = None
    if version is None and "version" not in errors:
        errors["version"] = "is not a version of this form; reload the page"
    values = raw.get("values") if isinstance(raw.get("values"), dict) else {}
    cleaned: dict[str, Any] = {}
    if version is not None:
        try:
            cleaned = dump_values(validate_values(version.asked, values))
        except Invalid as bad:
            errors.update(bad.details["errors"])
        errors = _missing_uploads(version, values, uploads, form.tenant) | errors
    if errors:
        raise Invalid(
            f"{len(errors)} field(s) are not valid: " + "; ".join(f"{k} {v}" for k, v in errors.items()), errors=errors
        )
    return {**body, "customer": contact(version, body["customer"], cleaned)}, version, cleaned


def contact(version: FormVersion, given: dict[str, str], values: dict[str, Any]) -> dict[str, str]:
    """Who the submission is from: the parts of the contact the page asked for, and those the form's
    own fields give (a location gives its address, when it has one)."""
    customer = dict(given)
    for part, f in version.contact.items():
        value = values.get(f.key)
        text = (value or {}).get("address") if f.type == "location" else value
        if text:
            customer[part] = text[:MAX_CONTACT]  # the whole of it stays in the values
        else:
            customer.pop(part, None)
    return customer


def _missing_uploads(version: FormVersion, values: dict[str, Any], uploads: Uploads, tenant: str) -> dict[str, str]:
    """Image fields naming a file that is not there (a value of the wrong shape is the field's own error)."""

    def missing(refs: Any) -> bool:
        return isinstance(refs, list) and any(isinstance(r, str) and not uploads.exists(tenant, r) for r in refs)

    return {
        f.key: "refers to an image that was not uploaded"
        for f in version.asked
        if f.type in UPLOADED and missing(values.get(f.key))
    }


def describe(version: FormVersion, values: dict[str, Any]) -> str:
    """The ticket's description: the form's name and what was filled in, as people read it."""
    lines = [f"H5 表单「{version.name}」"]
    for f in version.fields:
        value = values.get(f.key)
        if value in (None, "", []):
            continue
        if f.type in UPLOADED:
            shown = f"{len(value)} 个文件"
        elif f.type in LIST_TYPES:
            shown = "、".join(value)
        elif f.type == "location":
            shown = value.get("address") or f"{value['lat']}, {value['lng']}"
        else:
            shown = str(value)
        lines.append(f"{f.label}：{shown}")
    text = "\n".join(lines)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"
