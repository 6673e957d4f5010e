"""What a tenant id looks like, for every service, in URLs and on the command line alike.

2 to 63 of a-z, 0-9, '-' and '_', starting with a letter or a digit. Matched whole (`fullmatch`):
with `re.match` and `$`, "acme\\n" passed and became a tenant of its own.
"""

from __future__ import annotations

import re

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{1,62}")
SHAPE = "2 to 63 of a-z, 0-9, '-', '_', starting with a letter or a digit"


def is_tenant_id(text: str) -> bool:
    return TENANT_ID.fullmatch(text) is not None
