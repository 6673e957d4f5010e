"""A service's web app under gunicorn in a process of its own, as `scrm <service> web` starts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests


def start_web(service: str, port: int, env: dict[str, str], log: Path, *options: str) -> subprocess.Popen:
    """Its output goes to `log`; the tables exist already (`scrm db init`)."""
    command = [sys.executable, "-m", "services", service, "web", "--bind", f"127.0.0.1:{port}", *options]
    with open(log, "wb") as out:
        return subprocess.Popen(command, env={**env, "SCRM_CREATE_TABLES": "n"}, stdout=out, stderr=subprocess.STDOUT)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False
