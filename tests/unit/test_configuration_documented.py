"""Every environment variable the code reads is in the README's table (or deploy/README.md's)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _documented() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration") : readme.index("## Tests and benchmarks")]
    return table + (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")


def _read_by_the_code() -> set[str]:
    names = set()
    for folder in ("services", "shared", "deploy"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(
                re.findall(r"\b((?:SCRM|GUNICORN|PROMETHEUS|PG)[A-Z0-9_]*[A-Z0-9])\b", path.read_text("utf-8"))
            )
    notify = (ROOT / "services" / "notify" / "config.py").read_text(encoding="utf-8")
    names |= {f"SCRM_NOTIFY_{name}" for name in re.findall(r'\bget\("([A-Z_]+)"', notify)}
    names |= {f"SCRM_NOTIFY_{name}" for name in re.findall(r'\bflag\("([A-Z_]+)"', notify)}
    return names - {"SCRM", "PG", "PGDATA", "PROMETHEUS_LISTENER_URL"}  # a prefix; the dev servers' own


def test_every_variable_the_code_reads_is_documented():
    documented = _documented()
    missing = {
        name
        for name in _read_by_the_code()
        if name not in documented and name.replace("SCRM_NOTIFY_", "`_", 1) not in documented
    }
    assert not missing, f"not in README.md's Configuration table: {sorted(missing)}"


def test_the_scan_finds_what_it_should():
    found = _read_by_the_code()
    assert {
        "SCRM_TRANSPORT",
        "SCRM_H5_BURST",
        "SCRM_NOTIFY_SMTP_HOST",
        "SCRM_NOTIFY_SMS_DEDUPES",
        "GUNICORN_WORKERS",
        "PROMETHEUS_MULTIPROC_DIR",
        "PGOPTIONS",
    } <= found
