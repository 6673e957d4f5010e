"""The public event contracts as an AsyncAPI 2.6 document: one channel (Kafka topic) per service,
each message's payload a JSON Schema of its data, the CloudEvents attributes as `ce_` headers and
the record's key in the Kafka binding (`scrm contracts` prints it)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.apidoc import marshmallow_plugin
from shared.contracts import CONTRACTS, topic

KAFKA_BINDING = "0.4.0"
_TEXT = {"type": "string"}
HEADERS = {  # CloudEvents' binary content mode for Kafka: every attribute a header
    "type": "object",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_subject",
        "ce_time",
        "ce_dataschema",
        "ce_tenant",
        "ce_sequence",
        "content-type",
    ],
    "properties": {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {
            "type": "string",
            "format": "uuid",
            "description": "The same event always has the same id, across the platform: deduplicate on it",
        },
        "ce_source": {"type": "string", "examples": ["scrm/workflow"]},
        "ce_type": _TEXT,
        "ce_subject": {"type": "string", "format": "uuid"},  # each message says what it is the id of
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_dataschema": {
            "type": "string",
            "examples": ["urn:scrm:ticket.created:v2"],
            "description": "The type and version of the data's contract",
        },
        "ce_tenant": _TEXT,
        "ce_sequence": {
            "type": "string",
            "pattern": "^[0-9]{20}$",
            "description": "Position in the source service's log, zero-padded: orders as text",
        },
        "ce_correlationid": {"type": "string", "description": "Follows one request through every service"},
        "content-type": {"const": "application/json"},
    },
}


def _headers(subject: str) -> dict[str, Any]:
    described = {
        **HEADERS["properties"]["ce_subject"],
        "description": f"{subject.capitalize()} (also the record's key)",
    }
    return {**HEADERS, "properties": {**HEADERS["properties"], "ce_subject": described}}


def _key(subject: str) -> dict[str, Any]:
    return {
        "type": "string",
        "format": "uuid",
        "description": f"{subject.capitalize()} (the envelope's subject), as text",
    }


def asyncapi(partitions: int = 4, replicas: int = 1) -> dict[str, Any]:
    spec = APISpec("scrm events", "1.0.0", "3.1.0", plugins=[MarshmallowPlugin()])  # 3.1: plain JSON Schema
    marshmallow_plugin(spec)
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for contract in CONTRACTS.values():
        name = type(contract.schema).__name__  # two contracts may share a shape (parts and labour)
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=contract.schema)
        messages[contract.type] = {
            "name": contract.type,
            "title": f"{contract.type} v{contract.version}",
            "contentType": "application/json",
            "headers": _headers(contract.subject),
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": _key(contract.subject), "bindingVersion": KAFKA_BINDING}},
        }
        channel = channels.setdefault(
            topic(contract.source),
            {
                "description": f"Public events of {contract.source}, keyed by their subject (a ticket's id for "
                "ticket events; each message says)",
                "bindings": {
                    "kafka": {
                        "topic": topic(contract.source),
                        "partitions": partitions,
                        "replicas": replicas,
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
                "subscribe": {"operationId": f"receive_{contract.source}", "message": {"oneOf": []}},
            },
        )
        channel["subscribe"]["message"]["oneOf"].append({"$ref": f"#/components/messages/{contract.type}"})
    return {
        "asyncapi": "2.6.0",
        "id": "urn:scrm:events",
        "info": {
            "title": "SCRM work-order events",
            "version": "1.0.0",
            "description": "Each service publishes its public events on its own topic (prefix `scrm` by "
            "default, SCRM_KAFKA_PREFIX), as CloudEvents 1.0 in Kafka's binary mode.",
        },
        "servers": {
            "kafka": {
                "url": "{bootstrap}",
                "protocol": "kafka",
                "description": "The Kafka cluster",
                "variables": {"bootstrap": {"default": "localhost:9092"}},
            }
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages, "schemas": spec.to_dict()["components"]["schemas"]},
    }
