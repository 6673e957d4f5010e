"""Nearest (就近派单): by great-circle distance from the ticket's location (a location field value),
either the nearest technician with room, or the nearest service point with someone who has room
(then its least loaded member)."""

from __future__ import annotations

from services.workflow.assignment import Assignment, Need
from services.workflow.dispatch.geo import distance_km, ticket_location
from services.workflow.dispatch.pool import candidates, least_loaded, load_of
from services.workflow.texts import say


def nearest(need: Need) -> Assignment | None:
    found = ticket_location(need.values)
    located = [m for m in candidates(need) if m.profile.location]
    if found is None or not located:
        return None
    key, where = found
    chosen = min(located, key=lambda m: (distance_km(where, m.profile.location), m.user))
    return Assignment(
        need.node.key,
        "user",
        chosen.user,
        say(
            "dispatch.nearest",
            place=_place(need, key),
            role=need.role,
            user=chosen.user,
            km=f"{distance_km(where, chosen.profile.location):.1f}",
            load=load_of(need, chosen),
        ),
    )


def nearest_site(need: Need) -> Assignment | None:
    found = ticket_location(need.values)
    if found is None:
        return None
    key, where = found
    members = candidates(need)
    staffed = [s for s in need.directory.sites.values() if s.location and any(m.profile.site == s.key for m in members)]
    if not staffed:
        return None
    site = min(staffed, key=lambda s: (distance_km(where, s.location), s.key))
    chosen = least_loaded(need, [m for m in members if m.profile.site == site.key])
    return Assignment(
        need.node.key,
        "user",
        chosen.user,
        say(
            "dispatch.nearest_site",
            place=_place(need, key),
            site=site.label,
            km=f"{distance_km(where, site.location):.1f}",
            user=chosen.user,
            load=load_of(need, chosen),
        ),
    )


def _place(need: Need, key: str) -> str:
    value = need.values.get(key)
    address = value.get("address") if isinstance(value, dict) else getattr(value, "address", "")
    return f"{key} {address}".strip()
