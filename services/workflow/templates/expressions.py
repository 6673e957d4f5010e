"""The condition language of transitions: a tokenizer and a recursive-descent parser (never eval).

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" or ")" | comparison
    comparison := operand ( OP operand | ["not"] "in" operand | "contains" operand
                          | "is" ["not"] "empty" | "not" "empty" )
    operand    := field-key | number | 'text' | "text" | "[" [literal ("," literal)*] "]"
    OP         := = == != ≠ < <= ≤ > >= ≥

Words are case-insensitive; numbers are exact decimals. See conditions.py for the semantics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from collections.abc import Mapping

from shared.errors import Invalid

from services.workflow.templates.conditions import Compare, FieldRef, IsEmpty, Literal, Logic, Not

MAX_LENGTH, MAX_DEPTH = 2000, 50  # a condition is a line on a form, not a program
KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "is", "empty"})
OPERATORS = {
    "=": "=",
    "==": "=",
    "!=": "!=",
    "≠": "!=",
    "<": "<",
    "<=": "<=",
    "≤": "<=",
    ">": ">",
    ">=": ">=",
    "≥": ">=",
}
TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|[=<>≠≤≥])
  | (?P<punct>[()\[\],])
  | (?P<word>[^\W\d]\w*)
""",
    re.VERBOSE,
)


class ParseError(Invalid):
    """The text is not a condition; `position` (0-based) is where reading stopped."""


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, op, punct, word, end
    text: str
    position: int


def tokenize(source: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(source):
        match = TOKEN.match(source, position)
        if not match:
            what = "an unclosed quote" if source[position] in "'\"" else f"unexpected character {source[position]!r}"
            raise _error(source, position, what)
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), position))
        position = match.end()
    return tokens + [Token("end", "", len(source))]


def _error(source: str, position: int, reason: str) -> ParseError:
    return ParseError(f"{reason} at column {position + 1} of {source!r}", position=position, condition=source)


class _Parser:
    def __init__(self, source: str):
        self.source, self.tokens, self.at, self.depth = source, tokenize(source), 0, 0

    def peek(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def word(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "word" and token.text.lower() in words

    def expect(self, punct: str, reason: str) -> None:
        token = self.peek()
        if (token.kind, token.text) != ("punct", punct):
            raise self.fail(reason)
        self.take()

    def fail(self, reason: str) -> ParseError:
        token = self.peek()
        found = "the end" if token.kind == "end" else repr(token.text)
        return _error(self.source, token.position, f"{reason}, found {found}")

    def condition(self) -> Any:
        tree = self.either()
        if self.peek().kind != "end":
            raise self.fail("expected `and`, `or` or the end")
        return tree

    def either(self) -> Any:
        return self.chain("or", self.both)

    def both(self) -> Any:
        return self.chain("and", self.negation)

    def chain(self, word: str, operand: Any) -> Any:
        parts = [operand()]
        while self.word(word):
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else Logic(word, tuple(parts))

    def negation(self) -> Any:
        if self.depth >= MAX_DEPTH:
            raise self.fail(f"conditions nest at most {MAX_DEPTH} deep")
        self.depth += 1
        try:
            if self.word("not"):
                self.take()
                return Not(self.negation())
            if (self.peek().kind, self.peek().text) == ("punct", "("):
                self.take()
                inner = self.either()
                self.expect(")", "expected `)`")
                return inner
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Any:
        left, token = self.operand(), self.peek()
        if token.kind == "op":
            self.take()
            return Compare(OPERATORS[token.text], left, self.operand())
        if self.word("in", "contains"):
            return Compare(self.take().text.lower(), left, self.operand())
        if self.word("is"):
            self.take()
            negated = self.word("not")
            if negated:
                self.take()
            return self.empty(left, negated)
        if self.word("not"):
            self.take()
            if self.word("in"):
                self.take()
                return Not(Compare("in", left, self.operand()))
            return self.empty(left, negated=True)
        raise self.fail("expected a comparison (=, !=, <, <=, >, >=, in, contains, is empty)")

    def empty(self, operand: Any, negated: bool) -> Any:
        if not self.word("empty"):
            raise self.fail("expected `empty`")
        self.take()
        return Not(IsEmpty(operand)) if negated else IsEmpty(operand)

    def operand(self) -> Any:
        token = self.peek()
        if (token.kind, token.text) == ("punct", "["):
            self.take()
            items: list[Any] = []
            while (self.peek().kind, self.peek().text) != ("punct", "]"):
                if items:
                    self.expect(",", "expected `,` or `]` in the list")
                items.append(self.literal())
            self.take()
            return Literal(tuple(items))
        if token.kind == "word" and token.text.lower() not in KEYWORDS:
            return FieldRef(self.take().text)
        return Literal(self.literal())

    def literal(self) -> Any:
        token = self.peek()
        if token.kind == "number":
            return Decimal(self.take().text)
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", self.take().text[1:-1], flags=re.DOTALL)
        raise self.fail("expected a field, a number, 'text' or a [list]")


@dataclass(frozen=True)
class Expression:
    """A parsed condition; `source` is what the designer wrote."""

    source: str
    tree: Any

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        return bool(self.tree.evaluate(values, self.source))

    @property
    def fields(self) -> frozenset[str]:
        return self.tree.fields()


def parse(source: str) -> Expression:
    if not isinstance(source, str) or not source.strip():
        raise ParseError("a condition cannot be empty", position=0, condition=source)
    if len(source) > MAX_LENGTH:
        raise ParseError(f"a condition has at most {MAX_LENGTH} characters", position=MAX_LENGTH, condition=source)
    return Expression(source, _Parser(source).condition())
