"""Starting the servers a benchmark compares: each under gunicorn with the same number of workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from deploy.devservers import wait_for

ROOT = Path(__file__).resolve().parents[1]


def serve(command: list[str], port: int, args, env: dict[str, str]) -> subprocess.Popen:
    """`python COMMAND --bind … --workers …`, once it answers /healthz."""
    process = subprocess.Popen(
        [sys.executable, *command, "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: up(port), 30, message=f"server on {port} did not start")
    return process


def up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
    except requests.RequestException:
        return False
