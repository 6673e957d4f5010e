"""Results remembered per template object.

Templates are immutable and one object serves every ticket opened on it (a backlog of
thousands), so what depends on the template alone is worked out once per object."""

from __future__ import annotations

from functools import wraps
from typing import Any, TypeVar
from collections.abc import Callable

from services.workflow.templates.model import Template

R = TypeVar("R")
LIMIT = 1024  # templates remembered at once; beyond that the memory starts again


def per_template(compute: Callable[..., R]) -> Callable[..., R]:
    """`compute(template, *args)` (hashable args), remembered per template object. Failures
    are not remembered: they raise every time."""
    remembered: dict[tuple[Any, ...], tuple[Template, R]] = {}

    @wraps(compute)
    def cached(template: Template, *args: Any) -> R:
        key = (id(template), *args)
        hit = remembered.get(key)
        if hit is None or hit[0] is not template:
            if len(remembered) >= LIMIT:
                remembered.clear()
            # The template is kept alive with its result, so its id cannot be reused meanwhile.
            hit = remembered[key] = (template, compute(template, *args))
        return hit[1]

    return cached
