import pytest

from shared.errors import Invalid
from services.workflow.templates.examples import NAMES, load
from services.workflow.templates.validation import problems, validate
from tests.unit.workflow_templates.builders import auto, straight, task, template

END = auto("end", "end")
CHOICE = {"key": "choice", "label": "选项", "type": "single_select", "options": ["a", "b"]}
AMOUNT = {"key": "amount", "label": "金额", "type": "money"}


@pytest.mark.parametrize("name", NAMES)
def test_the_example_templates_pass(name):
    assert validate(load(name)) == load(name)


def test_a_plain_line_passes():
    assert problems(straight("a", "b")) == []


def test_every_problem_is_listed_at_once():
    bad = template([task("a"), task("a"), task("lost")], [("a", "nowhere")], fields=[CHOICE, CHOICE])
    with pytest.raises(Invalid) as error:
        validate(bad)
    listed = error.value.details["problems"]
    assert "field 'choice' is defined more than once" in listed
    assert "node 'a' is defined more than once" in listed
    assert "a template needs an end node" in listed
    assert "transition 'a' → 'nowhere': unknown node 'nowhere'" in listed
    assert f"has {len(listed)} problem(s)" in error.value.message


@pytest.mark.parametrize(
    "nodes, transitions, expected",
    [
        ([task("a"), task("b"), END], [("a", "end")], "node 'b' cannot be reached from the first node 'a'"),
        (
            [task("a"), task("b"), END],
            [("a", "b"), ("a", "end", "choice = 'a'")],
            "node 'b' is a dead end: no transition leaves it",
        ),
        (
            [task("a", ["view"]), END],
            [("a", "end")],
            "node 'a' is a dead end: no transition leaves it by an action it allows",
        ),
        (
            [task("a"), task("b"), task("c"), END],
            [("a", "b"), ("a", "end", "choice = 'a'"), ("b", "c"), ("c", "b")],
            "no end node can be reached from node 'b'",
        ),
        ([task("a"), auto("j", "join"), END], [("a", "j"), ("j", "end")], "join 'j' has no matching split"),
        (
            [task("a"), auto("s", "split"), task("x"), task("y"), END],
            [("a", "s"), ("s", "x"), ("s", "y"), ("x", "end"), ("y", "end")],
            "a branch of split 's' reaches end node 'end' before joining",
        ),
        (
            [task("a"), auto("s", "split"), task("x"), task("y"), auto("j", "join"), auto("k", "join"), END],
            [("a", "s"), ("s", "x"), ("s", "y"), ("x", "j"), ("y", "k"), ("j", "end"), ("k", "end")],
            "the branches of split 's' do not all meet at one join (they reach j, k)",
        ),
        (
            [task("a"), auto("s", "split"), task("x"), task("y"), auto("j", "join"), END],
            [("a", "s"), ("s", "x"), ("s", "y"), ("x", "j"), ("y", "x"), ("j", "end")],
            "node 'x' is on more than one branch of split 's'",
        ),
        (
            [task("a"), auto("s", "split"), task("x"), task("y"), auto("j", "join"), END],
            [("a", "s"), ("a", "j", "choice = 'b'"), ("s", "x"), ("s", "y"), ("x", "j"), ("y", "j"), ("j", "end")],
            "join 'j' is entered from 'a', which is not on a branch of split 's'",
        ),
        (
            [task("a"), auto("s", "split"), task("x"), END],
            [("a", "s"), ("s", "x"), ("x", "end")],
            "split 's' needs at least two branches, it has 1",
        ),
        (
            [task("a"), task("b"), END],
            [("a", "b", "choice = 'a'"), ("a", "end", "choice = 'b'"), ("b", "end")],
            "node 'a' needs exactly one default branch (a transition without a condition) for 'advance', it has 0",
        ),
        (
            [task("a"), task("b"), END],
            [("a", "b"), ("a", "end"), ("b", "end")],
            "node 'a' needs exactly one default branch (a transition without a condition) for 'advance', it has 2",
        ),
        (
            [task("a", ["advance", "approve"]), END],
            [("a", "end")],
            "node 'a' allows 'approve' but no transition is taken on it",
        ),
        (
            [task("a"), END],
            [("a", "end", None, "jump")],
            "transition 'a' → 'end': is taken on advance, approve, reject, not 'jump'",
        ),
        ([auto("e", "end"), task("a")], [("a", "e")], "the first node 'e' must be a task or a split"),
        (
            [task("a", fields={"required": ["amount"], "hidden": ["amount"]}), END],
            [("a", "end")],
            "node 'a': field 'amount' is required to leave but hidden here",
        ),
        (
            [task("a", fields={"editable": ["ghost"]}), END],
            [("a", "end")],
            "node 'a': field rules name unknown field 'ghost'",
        ),
        ([task("a", handler=None), END], [("a", "end")], "node 'a': a task needs a handler rule"),
        (
            [task("a", handler={"kind": "role"}), END],
            [("a", "end")],
            "node 'a': the handler rule 'role' must name whom",
        ),
        ([task("a", ["advance", "fly"]), END], [("a", "end")], "node 'a': unknown action 'fly'"),
        (
            [
                task("a"),
                auto("s", "split", actions=["view"]),
                task("x"),
                task("y"),
                auto("j", "join", join="most"),
                END,
            ],
            [("a", "s"), ("s", "x"), ("s", "y"), ("x", "j"), ("y", "j"), ("j", "end")],
            "node 's': a split passes by itself",
        ),
    ],
)
def test_graph_and_rule_problems_are_named(nodes, transitions, expected):
    found = problems(template(nodes, transitions, fields=[CHOICE, AMOUNT]))
    assert any(problem.startswith(expected) for problem in found), found


@pytest.mark.parametrize(
    "condition, expected",
    [
        ("choice = ", "the condition does not parse: expected a field"),
        ("colour = 'a'", "names unknown field(s) colour"),
        ("choice = 'c'", "'c' is not an option of field 'choice' (a, b)"),
        ("choice in ['a', 'z']", "'z' is not an option of field 'choice'"),
        ("amount > 'lots'", "cannot compare number with text"),
        ("amount in [1, 'x']", "'x' is not a number like field 'amount'"),
    ],
)
def test_conditions_are_checked_against_the_fields(condition, expected):
    found = problems(
        template(
            [task("a"), task("b"), END], [("a", "b", condition), ("a", "end"), ("b", "end")], fields=[CHOICE, AMOUNT]
        )
    )
    assert len(found) == 1 and expected in found[0], found


def test_a_default_that_fails_its_own_field_is_a_problem():
    found = problems(straight("a", fields=[CHOICE | {"default": "c"}]))
    assert found == ["field 'choice': the default 'c' is not one of the options (a, b)"]


def test_regions_belong_to_variants():
    assert "a regional variant names both" in problems(straight("a", regions=["广东"]))[0]


def test_a_template_object_is_checked_once_and_a_bad_one_every_time(monkeypatch):
    from services.workflow.templates import validation

    calls = []
    real = validation.problems
    monkeypatch.setattr(validation, "problems", lambda t: calls.append(t.key) or real(t))
    good = straight("a", "b")
    assert validation.validated_once(good) is good and validation.validated_once(good) is good
    assert calls == [good.key]
    bad = template([task("a")], [("a", "nowhere")])
    for _ in range(2):
        with pytest.raises(Invalid):
            validation.validated_once(bad)
    assert calls == [good.key, bad.key, bad.key]
