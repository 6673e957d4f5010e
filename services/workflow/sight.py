"""What a viewer may see of a ticket: the one rule every representation of a ticket goes through (its
own view, lists, search, kanban, my tickets, overdue, its timeline). No I/O.

A template's field rules hide fields at a node. The viewer looks through the nodes they handle (any of
them shows a field: `union`), anyone else through every current node (a field shows only if none hides
it). A hidden field's value then appears nowhere: not among the values, not in the customer block (a
phone field stands for the customer's phone, a customer field for their name, a location for their
address), not in the description or any other text, where it is masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterator, Mapping

from services.workflow.templates.model import Template

# Field type -> the customer block's entries that field stands for.
CUSTOMER_ENTRIES = {"phone": ("phone", "mobile"), "customer": ("name",), "location": ("address",)}
MASK = "***"
SHORTEST = 3  # a shorter hidden value (a rating "5") would mask unrelated text and protect nothing
PHONE_GAPS = r"[\s\-()]*"  # how people write a phone number in free text


@dataclass(frozen=True)
class Sight:
    hidden: frozenset[str] = frozenset()  # field keys
    customer_hidden: frozenset[str] = frozenset()  # entries of the customer block
    labels: tuple[str, ...] = ()  # of the hidden fields: "label：value" lines are masked whatever the value
    pattern: re.Pattern[str] | None = field(default=None, compare=False)  # every hidden value as text

    def values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in values.items() if key not in self.hidden}

    def customer(self, customer: Mapping[str, Any]) -> dict[str, Any]:
        return {key: self.shown(value) for key, value in customer.items() if key not in self.customer_hidden}

    def text(self, text: str) -> str:
        for label in self.labels:
            text = re.sub(rf"(?m)^(\s*{re.escape(label)}\s*[：:]).*$", rf"\g<1>{MASK}", text)
        return self.pattern.sub(MASK, text) if self.pattern else text

    def hides(self, text: str) -> bool:
        """Whether `text` (a search term, say) is, or holds, something hidden from the viewer."""
        return bool(self.pattern and self.pattern.search(text))

    def shown(self, data: Any) -> Any:
        """`data` (a view, a card, an event's data) with nothing hidden left in it."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, Mapping):
            return {key: self._part(key, value) for key, value in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.shown(item) for item in data]
        return data

    def _part(self, key: str, value: Any) -> Any:
        if key == "values" and isinstance(value, Mapping):
            return self.shown(self.values(value))
        if key == "customer" and isinstance(value, Mapping):
            return self.customer(value)
        return self.shown(value)


def sight(
    template: Template, nodes: list[str], union: bool, values: Mapping[str, Any], customer: Mapping[str, Any]
) -> Sight:
    """What a viewer looking through `nodes` sees of a ticket with these `values` and `customer`: through
    the nodes one handles (`union`), what any of them shows; for anyone else, only what no current node
    hides. A node the template does not know (one a ticket's sandbox inserted, seen through the published
    template) shows nothing: its field rules might hide anything."""
    known = {node.key for node in template.nodes}
    rules = [template.node(node).fields for node in nodes if node in known]
    blind = not union and len(rules) < len(nodes)
    shows = any if union else all
    keys = {f.key for f in template.fields} | set(values)
    hidden = frozenset(k for k in keys if blind or not shows(r.access(k) != "hidden" for r in rules))
    if not hidden:
        return Sight()
    types = {f.key: f.type for f in template.fields}
    entries = frozenset(e for k in hidden for e in CUSTOMER_ENTRIES.get(types.get(k, ""), ()))
    texts = [
        *(t for k in hidden for t in _texts(values.get(k))),
        *(t for e in entries for t in _texts(customer.get(e))),
    ]
    labels = tuple(f.label for f in template.fields if f.key in hidden and f.label)
    return Sight(hidden, entries, labels, _pattern(texts))


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for part in value.values():
            yield from _texts(part)
    elif isinstance(value, (list, tuple)):
        for part in value:
            yield from _texts(part)
    elif value is not None and not isinstance(value, bool):
        text = str(value).strip()
        if len(text) >= SHORTEST:
            yield text


def _pattern(texts: list[str]) -> re.Pattern[str] | None:
    if not texts:
        return None
    alternatives = []
    for text in sorted(set(texts), key=len, reverse=True):  # the longest first: no half-masked values
        digits = re.sub(r"[\s\-()]", "", text)
        if digits.lstrip("+").isdigit() and len(digits) >= 7:  # a phone number, however it is spaced
            alternatives.append(PHONE_GAPS.join(map(re.escape, digits)))
        else:
            alternatives.append(re.escape(text))
    return re.compile("|".join(alternatives))
