"""The tenant a benchmark runs on, made as an operator makes one: `scrm tenant create`, an API key,
and intake's copy of both (what intake's worker would have read from workflow's events)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tenant_with_key(env: dict[str, str]) -> str:
    """Tenant acme and an API key of its with the write scope; returns the key."""

    def scrm(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "services", *args], env=env, check=True, cwd=ROOT, capture_output=True, text=True
        ).stdout

    scrm("tenant", "create", "acme", "--name", "Acme", "--admin", "admin", "--password", "bench-password")
    key = json.loads(scrm("tenant", "api-key", "create", "acme", "--name", "bench", "--scope", "write"))["key"]
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from services.intake import bootstrap; from shared.settings import Settings\n"
            "f = bootstrap.follower(Settings.from_env())\nwhile f.run_once(): pass",
        ],
        env=env,
        check=True,
        cwd=ROOT,
    )
    return key
