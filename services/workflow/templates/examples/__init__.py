"""Three templates shipped as examples: installation (parallel parts check and scheduling), repair
(a branch on warranty status) and refund approval (approve / reject, return to an earlier node)."""

from __future__ import annotations

import json
from pathlib import Path

from shared.errors import NotFound

from services.workflow.templates.model import Template

NAMES = ("installation", "repair", "refund")


def load(name: str) -> Template:
    if name not in NAMES:
        raise NotFound(f"no example template {name!r} (there are {', '.join(NAMES)})")
    return Template.from_dict(json.loads((Path(__file__).parent / f"{name}.json").read_text(encoding="utf-8")))
