"""The public event contracts as an AsyncAPI 2.6 document (payloads in JSON Schema)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.contracts import CONTRACTS, topic

ENVELOPE = {
    "type": "object",
    "required": ["specversion", "id", "source", "type", "subject", "time", "tenant", "dataschema", "data"],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "format": "uuid", "description": "Same event, same id: dedupe on it"},
        "source": {"type": "string", "example": "scrm/workflow"},
        "type": {"type": "string"},
        "subject": {"type": "string", "format": "uuid", "description": "The ticket id (also the Kafka key)"},
        "time": {"type": "string", "format": "date-time"},
        "tenant": {"type": "string"},
        "dataschema": {"type": "string", "example": "urn:scrm:ticket.created:v1"},
        "sequence": {"type": "integer", "description": "Position in the source service's log"},
        "data": {"type": "object"},
    },
}


def contracts_json_schema() -> dict[str, Any]:
    spec = APISpec("scrm events", "1.0.0", "3.0.3", plugins=[MarshmallowPlugin()])
    converter = spec.plugins[0].converter
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for contract in CONTRACTS.values():
        name = contract.type
        messages[name] = {
            "name": name,
            "title": f"{name} v{contract.version}",
            "contentType": "application/json",
            "payload": {"allOf": [ENVELOPE, {"properties": {
                "type": {"const": name},
                "data": converter.schema2jsonschema(contract.schema)}}]},
        }
        channel = topic(contract.source)
        channels.setdefault(channel, {"description": f"Public events of {contract.source}, keyed by ticket id",
                                      "subscribe": {"message": {"oneOf": []}}})
        channels[channel]["subscribe"]["message"]["oneOf"].append({"$ref": f"#/components/messages/{name}"})
    return {"asyncapi": "2.6.0", "info": {"title": "SCRM work-order events", "version": "1.0.0"},
            "defaultContentType": "application/json", "channels": channels,
            "components": {"messages": messages}}
