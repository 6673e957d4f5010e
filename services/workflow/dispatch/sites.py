"""Which site (服务网点) a ticket belongs to, and how full a site's people are. No I/O."""

from __future__ import annotations

from services.workflow.assignment import Need
from services.workflow.dispatch.geo import distance_km, ticket_location
from services.workflow.dispatch.profile import Site
from services.workflow.staff import Member


def home_site(need: Need) -> Site | None:
    """The site serving the ticket's region, else the one nearest to the ticket, else none."""
    sites = sorted(need.directory.sites.values(), key=lambda s: s.key)
    serving = [s for s in sites if need.region and need.region in s.regions]
    if serving:
        return serving[0]
    where = ticket_location(need.values)
    located = [s for s in sites if s.location]
    if where is None or not located:
        return None
    return min(located, key=lambda s: distance_km(where[1], s.location))


def home_site_key(need: Need) -> str | None:
    """The key of the ticket's home site (its unassigned queue's site), if it has one."""
    site = home_site(need)
    return site.key if site else None


def saturation(need: Need, people: list[Member]) -> float:
    """The share of the people's total capacity in use (1.0 when they have none)."""
    capacity = sum(m.profile.capacity for m in people)
    return sum(need.load.of(m.user) for m in people) / capacity if capacity else 1.0
