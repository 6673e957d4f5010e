"""Starting the servers a benchmark compares: each under gunicorn with the same number of workers."""

from __future__ import annotations

import os
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


def cpu_seconds(process: subprocess.Popen) -> float:
    """The CPU time the server and its live workers have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(entry.name) == process.pid or int(fields[1]) == process.pid:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks
