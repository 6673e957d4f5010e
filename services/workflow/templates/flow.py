"""How tokens move through nodes that pass by themselves (split, join, end), within one step.

A working copy of a Progress, changed in place while one action runs and frozen again at its end.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.errors import Invalid

from services.workflow.templates.model import Template
from services.workflow.templates.progress import Happening, Progress, Region, Step, Token


class Flow:
    def __init__(self, template: Template, progress: Progress):
        self.template, self.before = template, progress
        self.status, self.values = progress.status, dict(progress.values)
        self.tokens, self.regions = list(progress.tokens), list(progress.regions)
        self.history, self.made = list(progress.history), progress.made
        self.happened: list[Happening] = []
        self.budget = 4 * len(template.nodes) + 4  # nodes that pass by themselves, entered in one step

    def note(self, what: str, node: str, token: str | None = None, **detail: Any) -> None:
        self.happened.append(Happening(what, node, token, detail))

    def new_id(self, prefix: str) -> str:
        self.made += 1
        return f"{prefix}{self.made}"

    def leave(self, token: Token, why: str) -> None:
        self.tokens.remove(token)
        self.note(why, token.node, token.id)

    def enter(self, token: Token, target: str) -> None:
        """Put a token (already taken out of self.tokens) into `target`, and on as far as it goes."""
        node = self.template.node(target)
        self.budget -= 1
        if self.budget < 0:
            raise Invalid(f"template {self.template.key!r} loops through {target!r} without a task")
        self.history.append(target)
        self.note("entered", target, token.id)
        if node.kind == "task":
            self.tokens.append(replace(token, node=target, path=token.path + (target,)))
        elif node.kind == "end":
            self.tokens.append(replace(token, node=target))
            self.note("ended", target, token.id)
            if not self.regions and all(self.template.node(t.node).kind == "end" for t in self.tokens):
                self.status = "closed"
                self.note("closed", target, token.id)
        elif node.kind == "split":
            self._split(replace(token, node=target))
        else:
            self._join(token, node.key, node.join)

    def _split(self, parent: Token) -> None:
        branches = self.template.outgoing(parent.node)
        region = Region(self.new_id("r"), parent.node, len(branches), parent)
        self.regions.append(region)
        self.note("split", parent.node, parent.id, region=region.id, branches=[t.target for t in branches])
        for branch in branches:
            self.enter(Token(self.new_id("t"), parent.node, (), region.id), branch.target)

    def _join(self, token: Token, join: str, mode: str) -> None:
        region = next((r for r in self.regions if r.id == token.region), None)
        if region is None:
            raise Invalid(f"join {join!r} was reached outside a parallel region; validate the template")
        index = self.regions.index(region)
        region = self.regions[index] = replace(region, done=region.done + (token.id,))
        if mode == "all" and len(region.done) < region.branches:
            return
        self._close_region(region)
        self.note("joined", join, region.parent.id, region=region.id, branches=list(region.done))
        (out,) = self.template.outgoing(join)
        self.enter(replace(region.parent, node=join), out.target)

    def _close_region(self, region: Region) -> None:
        """The region and whatever still runs inside it (branches an `any` join no longer waits for)."""
        inside = {region.id}
        for other in self.regions:  # regions are listed outer before inner
            if other.parent.region in inside:
                inside.add(other.id)
        for token in [t for t in self.tokens if t.region in inside]:
            self.leave(token, "withdrawn")
        self.regions = [r for r in self.regions if r.id not in inside]

    def done(self) -> Step:
        progress = Progress(
            self.before.template,
            self.before.version,
            self.status,
            tuple(self.tokens),
            tuple(self.regions),
            self.values,
            tuple(self.history),
            self.made,
        )
        return Step(progress, tuple(self.happened))
