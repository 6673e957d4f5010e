"""Publish-time checks of a template's graph: reachability, ways out, and parallel regions.

A split starts one branch per outgoing transition; its branches must all meet at one join
(nested split/join pairs inside a branch are passed over), be disjoint, and not end or loop
back to the split on the way. Inside a parallel region there is then at most one token per node.
"""

from __future__ import annotations

from collections import deque

from services.workflow.templates.model import Node, Template


def _leaving(template: Template, node: Node) -> list[str]:
    """Where a node can send a ticket: a task only by the actions it allows."""
    return [t.target for t in template.outgoing(node.key) if node.kind != "task" or t.on in node.actions]


def _spread(starts: list[str], step) -> set[str]:
    seen, queue = set(starts), deque(starts)
    while queue:
        for other in step(queue.popleft()):
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return seen


def graph_problems(template: Template) -> list[str]:
    nodes = {node.key: node for node in template.nodes}
    if not nodes or any(t.source not in nodes or t.target not in nodes for t in template.transitions):
        return []  # reported with the transitions; a graph with loose ends is not worth walking
    ahead = {key: _leaving(template, node) for key, node in nodes.items()}
    behind: dict[str, list[str]] = {key: [] for key in nodes}
    for key, targets in ahead.items():
        for target in targets:
            behind[target].append(key)
    reachable = _spread([template.first.key], lambda key: ahead[key])
    finishing = _spread([key for key, node in nodes.items() if node.kind == "end"], lambda key: behind[key])
    problems = [
        f"node {key!r} cannot be reached from the first node {template.first.key!r}"
        for key in nodes
        if key not in reachable
    ]
    for key, node in nodes.items():
        if node.kind != "end" and not ahead[key]:
            problems.append(
                f"node {key!r} is a dead end: no transition leaves it"
                + (" by an action it allows" if template.outgoing(key) else "")
            )
        elif key in reachable and key not in finishing and ahead[key]:
            problems.append(f"no end node can be reached from node {key!r}")
    return problems + _region_problems(template, nodes, ahead)


def _walk_branch(
    nodes: dict[str, Node], ahead: dict[str, list[str]], split: str, start: str, problems: list[str]
) -> tuple[set[str], set[str]]:
    """The joins a branch of `split` meets at its own level, and the nodes it passes."""
    joins, passed, seen = set(), set(), set()
    stack = [(start, 0)]
    while stack:
        key, depth = stack.pop()
        if (key, depth) in seen or depth > len(nodes):
            continue
        seen.add((key, depth))
        kind = nodes[key].kind
        if key == split and depth == 0:
            problems.append(f"a branch of split {split!r} loops back to it before joining")
            continue
        if depth == 0 and kind in ("join", "end"):
            if kind == "join":
                joins.add(key)
            else:
                problems.append(f"a branch of split {split!r} reaches end node {key!r} before joining")
            continue
        passed.add(key)
        depth += {"split": 1, "join": -1}.get(kind, 0)
        stack.extend((target, depth) for target in ahead[key])
    return joins, passed


def _region_problems(template: Template, nodes: dict[str, Node], ahead: dict[str, list[str]]) -> list[str]:
    problems: list[str] = []
    closes: dict[str, list[str]] = {key: [] for key, node in nodes.items() if node.kind == "join"}
    for split in (node.key for node in template.nodes if node.kind == "split"):
        branches = [_walk_branch(nodes, ahead, split, start, problems) for start in ahead[split]]
        met = set().union(*(joins for joins, _ in branches)) if branches else set()
        if len(met) != 1 or any(len(joins) != 1 for joins, _ in branches):
            problems.append(
                f"the branches of split {split!r} do not all meet at one join"
                f" (they reach {', '.join(sorted(met)) or 'no join'})"
            )
            continue
        join = met.pop()
        closes[join].append(split)
        region = set().union(*(passed for _, passed in branches)) | {split}
        for index, (_, passed) in enumerate(branches):
            for _, other in branches[index + 1 :]:
                for key in sorted(passed & other):
                    problems.append(f"node {key!r} is on more than one branch of split {split!r}")
        problems += [
            f"join {join!r} is entered from {t.source!r}, which is not on a branch of split {split!r}"
            for t in template.incoming(join)
            if t.source not in region
        ]
    for join, splits in closes.items():
        if not splits:
            problems.append(f"join {join!r} has no matching split")
        elif len(splits) > 1:
            problems.append(f"join {join!r} closes more than one split ({', '.join(splits)})")
    return problems
