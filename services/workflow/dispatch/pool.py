"""The candidates a strategy picks among: the members holding the rule's role who are present, serve
the ticket's region and have room. No I/O."""

from __future__ import annotations

from services.workflow.assignment import Need
from services.workflow.staff import Member
from services.workflow.texts import say


def candidates(need: Need, *, with_room: bool = True, by_region: bool = True) -> list[Member]:
    """Sorted by user id, so that ties always break the same way."""
    members = [need.directory.members[user] for user in need.directory.pool("role", need.role)]
    return [
        m
        for m in members
        if not m.profile.absent
        and (not by_region or m.profile.serves(need.region))
        and (not with_room or has_room(need, m))
    ]


def has_room(need: Need, member: Member) -> bool:
    return need.load.of(member.user) < member.profile.capacity


def load_of(need: Need, member: Member) -> str:
    return say("dispatch.load", load=need.load.of(member.user), capacity=member.profile.capacity)


def least_loaded(need: Need, members: list[Member]) -> Member | None:
    """The member with the lowest share of their capacity in use; ties go to who waited longest."""
    if not members:
        return None
    return min(members, key=lambda m: (need.load.of(m.user) / max(m.profile.capacity, 1), idle_key(need, m)))


def idle_key(need: Need, member: Member) -> tuple:
    """Never assigned first, then the earliest last assignment, then by user id."""
    last = need.load.last.get(member.user)
    return (last is not None, last or 0, need.load.turn.get(member.user, 0), member.user)
