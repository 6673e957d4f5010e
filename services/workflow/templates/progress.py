"""Where a ticket stands in its template: an immutable value the engine turns into the next one.

A ticket moves as tokens. One token walks a plain flow; a split suspends it and starts one
token per branch inside a parallel region; the join resumes it (same id) once the branches are
done. `to_dict` is JSON for events; `from_dict` needs the template to retype the field values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple
from collections.abc import Mapping

from shared.errors import Conflict

from services.workflow.templates.model import Template
from shared.formfields.forms import dump_values, validate_values

STATUSES = ("open", "closed", "cancelled")


@dataclass(frozen=True)
class Token:
    id: str  # "t1", "t2" … in the order they were made
    node: str  # a task waiting for its handler, or the end node it finished at
    path: tuple[str, ...] = ()  # the task nodes it passed since its branch began, the current one last
    region: str | None = None  # the parallel region it is a branch of

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "node": self.node, "path": list(self.path), "region": self.region}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        return cls(data["id"], data["node"], tuple(data["path"]), data.get("region"))


@dataclass(frozen=True)
class Region:
    """One pass through a split: its branches run until the join has what its mode waits for."""

    id: str  # "r1" …
    split: str
    branches: int
    parent: Token  # the token that entered the split; it continues after the join
    done: tuple[str, ...] = ()  # the branch tokens that reached the join

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "split": self.split,
            "branches": self.branches,
            "parent": self.parent.to_dict(),
            "done": list(self.done),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Region:
        return cls(data["id"], data["split"], data["branches"], Token.from_dict(data["parent"]), tuple(data["done"]))


@dataclass(frozen=True)
class Progress:
    template: str  # a progress belongs to one version of one template, for good
    version: int
    status: str = "open"
    tokens: tuple[Token, ...] = ()
    regions: tuple[Region, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)  # cleaned field values
    history: tuple[str, ...] = ()  # every node entered, in order
    made: int = 0  # how many token and region ids were handed out

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))  # read-only, a copy

    def at(self, node: str) -> Token | None:
        return next((token for token in self.tokens if token.node == node), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "version": self.version,
            "status": self.status,
            "tokens": [t.to_dict() for t in self.tokens],
            "regions": [r.to_dict() for r in self.regions],
            "values": dump_values(self.values),
            "history": list(self.history),
            "made": self.made,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], template: Template) -> Progress:
        if (data["template"], data["version"]) != (template.key, template.version):
            raise Conflict(
                f"this progress is on {data['template']} v{data['version']}, not {template.key} v{template.version}"
            )
        return cls(
            data["template"],
            data["version"],
            data["status"],
            tuple(map(Token.from_dict, data["tokens"])),
            tuple(map(Region.from_dict, data["regions"])),
            validate_values(template.fields, data["values"], partial=True),
            tuple(data["history"]),
            data["made"],
        )


@dataclass(frozen=True)
class Happening:
    """A fact of one step, for the integrator to record as an event (NodeEntered, NodeLeft …).
    what: entered, left, split, joined, withdrawn, ended, edited, transferred, approved,
    rejected, returned, closed, cancelled, reopened."""

    what: str
    node: str
    token: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)  # JSON: e.g. {"to": node}, {"fields": [...]}

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "node": self.node, "token": self.token, "detail": dict(self.detail)}


class Step(NamedTuple):
    progress: Progress
    happened: tuple[Happening, ...]
