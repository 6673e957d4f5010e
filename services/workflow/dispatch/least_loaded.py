"""Least loaded (按负载派单), with a capacity cap per person and overflow between sites.

Nobody at or over their capacity gets another ticket. A ticket goes to its home site (sites.py)
while that site's people are below the saturation threshold; at or above it, to the first
neighbouring site below it; when every one is saturated, to whoever still has room, home first.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.workflow.assignment import Assignment, Need
from services.workflow.dispatch.pool import candidates, least_loaded, load_of
from services.workflow.dispatch.sites import home_site, saturation
from services.workflow.texts import say


@dataclass(frozen=True)
class LeastLoaded:
    threshold: float = 0.8  # a site at or above this share of its capacity is saturated

    def __call__(self, need: Need) -> Assignment | None:
        members = candidates(need, with_room=False)
        home = home_site(need)
        if home is None:
            chosen = least_loaded(need, [m for m in members if m.user in _with_room(need)])
            return chosen and self._assign(need, chosen, say("dispatch.least_loaded_among", role=need.role))
        full: list[str] = []
        order = [home.key, *home.neighbours]
        for key in order:
            people = [m for m in members if m.profile.site == key]
            share = saturation(need, people)
            chosen = least_loaded(need, [m for m in people if m.user in _with_room(need)])
            if share < self.threshold and chosen:
                return self._assign(need, chosen, self._where(need, key, home.key, full))
            full.append(say("dispatch.saturated", site=self._label(need, key), share=f"{share:.0%}"))
        for key in order:  # everyone there is busy: anyone with room, home first
            chosen = least_loaded(need, [m for m in members if m.profile.site == key and m.user in _with_room(need)])
            if chosen:
                return self._assign(
                    need,
                    chosen,
                    say(
                        "dispatch.also",
                        full="、".join(full),
                        where=say("dispatch.least_loaded_at", site=self._label(need, key)),
                    ),
                )
        chosen = least_loaded(need, [m for m in members if m.user in _with_room(need)])
        return chosen and self._assign(
            need,
            chosen,
            say("dispatch.also", full="、".join(full), where=say("dispatch.least_loaded_among", role=need.role)),
        )

    def _where(self, need: Need, key: str, home: str, full: list[str]) -> str:
        where = say("dispatch.least_loaded_at", site=self._label(need, key))
        return (
            where
            if key == home
            else say("dispatch.overflow", where=where, full="、".join(full), threshold=f"{self.threshold:.0%}")
        )

    @staticmethod
    def _label(need: Need, key: str) -> str:
        site = need.directory.sites.get(key)
        return site.label if site else key

    @staticmethod
    def _assign(need: Need, chosen, where: str) -> Assignment:
        return Assignment(
            need.node.key,
            "user",
            chosen.user,
            say("dispatch.chosen", where=where, user=chosen.user, load=load_of(need, chosen)),
        )


def _with_room(need: Need) -> set[str]:
    return {m.user for m in candidates(need)}
