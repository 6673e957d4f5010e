"""Properties of the engine over generated valid templates and random runs of actions on them."""

from hypothesis import HealthCheck, given, settings, strategies as st

from shared.errors import Conflict, DomainError
from services.workflow.templates.catalogue import Catalogue
from services.workflow.templates.engine import act, allowed_actions, start
from services.workflow.templates.model import ACTIONS
from services.workflow.templates.progress import Progress
from services.workflow.templates.validation import problems
from tests.unit.workflow_templates.builders import auto, task, template

ROUTE = {"key": "route", "label": "路线", "type": "single_select", "options": ["x", "y"]}
PHOTO = {"key": "photo", "label": "照片", "type": "image"}

# A flow is a task, a sequence, a parallel region (all / any) or a choice on the route field.
flows = st.recursive(
    st.just(("task",)),
    lambda inner: st.one_of(
        st.tuples(st.just("seq"), inner, inner),
        st.tuples(st.just("par"), st.sampled_from(["all", "any"]), st.lists(inner, min_size=2, max_size=3)),
        st.tuples(st.just("choice"), inner, inner),
    ),
    max_leaves=8,
)


class _Builder:
    def __init__(self, draw):
        self.draw, self.nodes, self.transitions = draw, {}, []

    def key(self, prefix):
        return f"{prefix}{len(self.nodes)}"

    def build(self, flow, after):
        """The entry node of `flow`, whose exits lead to `after`."""
        if flow[0] == "task":
            key = self.key("n")
            rules = (
                {"required": ["photo"], "editable": ["route"]}
                if self.draw(st.booleans())
                else {"editable": ["photo", "route"]}
            )
            self.nodes[key] = task(key, fields=rules)
            self.transitions.append((key, after))
            return key
        if flow[0] == "seq":
            return self.build(flow[1], self.build(flow[2], after))
        if flow[0] == "par":
            split, join = self.key("s"), self.key("j")
            self.nodes[split], self.nodes[join] = auto(split, "split"), auto(join, "join", join=flow[1])
            self.transitions += [(join, after)] + [(split, self.build(branch, join)) for branch in flow[2]]
            return split
        key = self.key("c")
        self.nodes[key] = task(key, fields={"editable": ["route", "photo"]})
        self.transitions += [(key, self.build(flow[1], after), "route = 'x'"), (key, self.build(flow[2], after))]
        return key


@st.composite
def templates(draw, key="gen"):
    builder = _Builder(draw)
    builder.nodes["end"] = auto("end", "end", actions=["view", "reopen"])
    flow = draw(flows)
    if draw(st.booleans()):  # half the templates run parallel regions from their first node on
        flow = ("par", draw(st.sampled_from(["all", "any"])), [flow, draw(flows)])
    first = builder.build(flow, "end")
    ordered = [builder.nodes[first]] + [node for k, node in builder.nodes.items() if k != first]
    return template(ordered, builder.transitions, fields=[ROUTE, PHOTO], key=key)


@st.composite
def runs(draw, t, steps=40):
    """A progress and what happened to reach it, by random actions (refused ones included)."""
    progress, happened = start(t)
    log = list(happened)
    for _ in range(draw(st.integers(0, steps))):
        at = draw(st.sampled_from([tok.node for tok in progress.tokens]))
        action = draw(st.sampled_from(("advance",) * 16 + ACTIONS))  # mostly forward, so runs reach the joins
        values = draw(st.sampled_from([None, {"photo": ["p1"], "route": "x"}, {"route": "y", "photo": ["p2"]}]))
        to = draw(st.sampled_from((None,) + tuple(t.nodes[i].key for i in range(len(t.nodes)))))
        try:
            progress, happened = act(t, progress, action, at, values=values, to=to if action == "return" else None)
        except DomainError:
            continue  # refused: Invalid, NotAllowed or Conflict, never anything else
        log += happened
    return progress, log


def check(t, progress, log):
    kinds = {node.key: node.kind for node in t.nodes}
    allowed_moves = {(tr.source, tr.target) for tr in t.transitions}
    assert set(progress.history) <= set(kinds)
    for token in progress.tokens:
        assert kinds[token.node] == ("end" if progress.status == "closed" and kinds[token.node] == "end" else "task")
        assert token.node == (token.path[-1] if kinds[token.node] == "task" else token.node)
        assert all(kinds[key] == "task" for key in token.path)
    if progress.status == "open":
        assert progress.tokens and all(kinds[tok.node] == "task" for tok in progress.tokens)
    region_ids = {r.id for r in progress.regions}
    assert all(tok.region is None or tok.region in region_ids for tok in progress.tokens)
    # Every move follows a transition, a return or a reopen.
    last, returned, branches, arrived = {}, set(), {}, {}
    for h in log:
        if h.what == "returned" or h.what == "reopened":
            returned.add(h.token)
        elif h.what == "split":
            branches[h.detail["region"]] = len(h.detail["branches"])
        elif h.what == "joined":
            region = h.detail["region"]
            done = h.detail["branches"]
            assert len(set(done)) == len(done) and all((tok, h.node) in arrived for tok in done)
            if t.node(h.node).join == "all":
                assert len(done) == branches[region], "a join fired before all its branches were done"
            last[h.token] = h.node
        elif h.what == "entered":
            if h.token in last and h.token not in returned:
                assert (last[h.token], h.node) in allowed_moves, (last[h.token], h.node)
            elif h.token not in last:  # a new token: the first node or a split's branch
                assert h.node == t.first.key or any(
                    kinds[s] == "split" for s, target in allowed_moves if target == h.node
                )
            returned.discard(h.token)
            last[h.token] = h.node
            arrived[(h.token, h.node)] = True


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data())
def test_generated_templates_are_valid(data):
    t = data.draw(templates())
    assert problems(t) == []


@SETTINGS
@given(st.data())
def test_no_run_reaches_a_node_or_state_its_template_does_not_allow_and_joins_never_fire_early(data):
    t = data.draw(templates())
    progress, log = data.draw(runs(t))
    check(t, progress, log)
    assert Progress.from_dict(progress.to_dict(), t) == progress


@SETTINGS
@given(st.data())
def test_refused_actions_change_nothing_and_actions_outside_the_rules_are_refused(data):
    t = data.draw(templates())
    progress, _ = data.draw(runs(t, steps=10))
    before = progress.to_dict()
    at = data.draw(st.sampled_from([tok.node for tok in progress.tokens]))
    action = data.draw(st.sampled_from([a for a in ACTIONS if a not in allowed_actions(t, progress, at)] or ["fly"]))
    try:
        act(t, progress, action, at)
        raise AssertionError(f"{action} at {at} should have been refused")
    except DomainError:
        pass
    assert progress.to_dict() == before


@SETTINGS
@given(st.data())
def test_publishing_a_new_version_leaves_tickets_on_the_old_one_untouched(data):
    first, second = data.draw(templates(key="flow")), data.draw(templates(key="flow"))
    catalogue = Catalogue("acme").publish(first)
    v1 = catalogue.latest("flow")
    progress, _ = data.draw(runs(v1, steps=10))
    snapshot, moves = (
        progress.to_dict(),
        data.draw(st.lists(st.sampled_from(["advance", "edit", "return", "close"]), max_size=5)),
    )
    catalogue = catalogue.publish(second)
    assert catalogue.get("flow", 1) == v1 and catalogue.latest("flow").version == 2
    assert progress.to_dict() == snapshot
    own = catalogue.get(progress.template, progress.version)
    for action in moves:  # the old version behaves exactly as before the publication
        at = progress.tokens[0].node
        outcomes = []
        for version in (v1, own):
            try:
                outcomes.append(
                    act(
                        version,
                        progress,
                        action,
                        at,
                        values={"photo": ["p"]} if action != "return" and action != "close" else None,
                    )
                )
            except DomainError as error:
                outcomes.append(type(error))
        assert outcomes[0] == outcomes[1]
        if not isinstance(outcomes[0], type):
            progress = outcomes[0].progress
    try:
        act(catalogue.latest("flow"), progress, "view", progress.tokens[0].node)
        raise AssertionError("a progress on v1 must not run on v2")
    except Conflict:
        pass
