"""How our marshmallow schemas read as JSON Schema, in the OpenAPI and AsyncAPI documents alike."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"


def decimal_as_string(self: Any, field: fields.Field, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Money and quantities travel as strings ("12.50"), exactly: say so, instead of apispec's
    `number` (with its bounds written as strings, which no validator accepts)."""
    if isinstance(field, fields.Decimal) and field.as_string:
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            ret.pop(bound, None)
        # OpenAPI 3.1 and JSON Schema say null in the type (3.0 has `nullable`, which is kept).
        null = isinstance(ret.get("type"), list) and "null" in ret["type"]
        return {"type": ["string", "null"] if null else "string", "pattern": DECIMAL, "format": "decimal"}
    return {}


def marshmallow_plugin(spec: APISpec) -> MarshmallowPlugin:
    """`spec`'s marshmallow plugin, taught our conventions."""
    plugin = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin))
    plugin.converter.add_attribute_function(decimal_as_string)
    return plugin
