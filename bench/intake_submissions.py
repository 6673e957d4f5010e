"""Intake submissions per second under gunicorn, on PostgreSQL, against a bare Flask endpoint.

Both servers run under gunicorn with the same workers and threads, and both validate the
same body with the same schema; the bare one then answers, intake first commits the
submission durably (grouped with concurrent ones) and answers only after the commit.
The same load generator drives both, in this run, on this machine.

    python bench/intake_submissions.py [--seconds 10] [--connections 32]

Targets (issue 2): intake >= 0.5 x the bare endpoint's rate, intake p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench.loadgen import run  # noqa: E402
from tests.support.platform import free_port_block  # noqa: E402
from tests.support.servers import Postgres, wait_for  # noqa: E402

WORKERS, THREADS = "2", "16"


def body(i: int) -> dict:
    return {"submission_id": f"bench-{os.getpid()}-{i}", "description": "空调不制冷，外机有异响，需要上门检修",
            "customer": {"name": "张三", "phone": "13800138000", "address": "上海市浦东新区世纪大道 100 号"}}


def bare_app():
    """The baseline: the same validation, no recording."""
    from flask import jsonify

    from services.intake.api import H5Submission
    from shared import web

    app = web.create_app("bare", "bare")

    @app.post("/v1/tenants/<tenant>/h5/submissions")
    def submit(tenant):
        web.json_body(H5Submission())
        return jsonify(ticket_id="00000000-0000-0000-0000-000000000000", created=True), 201

    return app


def start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: _up(port), 30, message=f"server on {port} did not start")
    return process


def _up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-bare":
        return
    base = free_port_block(2)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with Postgres() as pg:
        url = pg.create_database("bench_intake")
        env["SCRM_DATABASE_URL"] = url
        subprocess.run([sys.executable, "-m", "services", "db", "init"], env=env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        serve = ["--bind", None, "--workers", WORKERS, "--threads", THREADS]
        results = {}
        for name, port, command in (
            ("bare Flask (validate only)", base, ["bench/intake_submissions.py", "--serve-bare-at"]),
            ("intake (durable, PostgreSQL)", base + 1, ["-m", "services", "intake", "web"]),
        ):
            serve[1] = f"127.0.0.1:{port}"
            process = start([*command, *serve], {**env, "SCRM_CREATE_TABLES": "n"}, port)
            try:
                results[name] = run(f"http://127.0.0.1:{port}/v1/tenants/acme/h5/submissions", body,
                                    args.connections, args.seconds)
            finally:
                process.terminate()
                process.wait(15)
        with psycopg.connect(url) as conn:
            recorded = conn.execute("SELECT count(*) FROM intake.intake_events").fetchone()[0]
    bare, intake = results.values()
    print(f"{args.connections} connections, {args.seconds:.0f} s each, gunicorn {WORKERS} workers x {THREADS} threads")
    for name, result in results.items():
        print(result.line(name))
    ratio = intake.rate / bare.rate
    print(f"ratio intake / bare: {ratio:.2f}   (target >= 0.50: {'MET' if ratio >= 0.5 else 'NOT MET'})")
    p99 = intake.percentile(99) * 1000
    print(f"intake p99: {p99:.1f} ms   (target < 50 ms: {'MET' if p99 < 50 else 'NOT MET'})")
    print(f"submissions recorded in PostgreSQL: {recorded} (>= {intake.ok} answered 201 while measured)")


if __name__ == "__main__" and "--serve-bare-at" in sys.argv:
    from shared.serve import serve_http

    argv = sys.argv[sys.argv.index("--serve-bare-at") + 1:]
    opts = dict(zip(argv[::2], argv[1::2]))
    serve_http(bare_app, opts["--bind"], int(opts["--workers"]), int(opts["--threads"]))
elif __name__ == "__main__":
    main()
