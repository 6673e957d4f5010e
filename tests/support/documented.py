"""In tests, an answer may hold nothing its schema does not document: a key the schema would drop is a
mistake (the document and the answer drifted apart), so dumping it inside a request fails the request."""

from __future__ import annotations

from typing import Any

import marshmallow
from flask import has_request_context


class Undocumented(AssertionError):
    pass


def strict_dump(dump):
    def dumped(schema: marshmallow.Schema, obj: Any, *, many: bool | None = None) -> Any:
        if has_request_context():
            for item in obj if (schema.many if many is None else many) else [obj]:
                if isinstance(item, dict):
                    lost = set(item) - {field.attribute or name for name, field in schema.fields.items()}
                    if lost:
                        raise Undocumented(f"{type(schema).__name__} does not document {sorted(lost)}")
        return dump(schema, obj, many=many)

    return dumped
