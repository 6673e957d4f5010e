"""The web apps run on gevent: while one request's commit waits on PostgreSQL, the worker's
other requests must go on. Here another session holds the events table's lock, and only a
greenlet of the committing process lets it go. A commit that blocked the whole process would
wait until its lock timeout and succeed only when retried; a cooperative one succeeds at its
first attempt."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from gevent import monkey
monkey.patch_all()  # first, as gunicorn's gevent worker does before the app is built

import os, time
import gevent, psycopg
from services.intake.bootstrap import application
from shared import postgres
from shared.settings import Settings

attempts = []
call = postgres.RecordCall.__call__
postgres.RecordCall.__call__ = lambda *args: (attempts.append(args), call(*args))[1]

intake = application(Settings.from_env())
holder = psycopg.connect(os.environ["SCRM_DATABASE_URL"])
holder.execute("LOCK TABLE intake.intake_events IN EXCLUSIVE MODE")
released = []

def let_go():
    gevent.sleep(0.3)
    released.append(time.monotonic())
    holder.rollback()

gevent.spawn(let_go)
accepted = intake.submit("acme", "h5", "s-1", {"name": "张三", "phone": "13800138000", "address": "上海"},
                         "空调不制冷")
assert released and time.monotonic() >= released[0], "the commit did not wait for the lock"
assert accepted.created and len(attempts) == 1, f"{len(attempts)} attempts: the first blocked the process"
print("committed after the other greenlet let go")
"""


def test_a_commit_waiting_on_postgresql_lets_the_rest_of_the_worker_run(database_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCRM_DATABASE_URL": database_url, "SCRM_DATA_DIR": str(tmp_path)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the commit blocked the process: the greenlet holding the lock never ran") from None
    assert done.returncode == 0, done.stderr
    assert "committed after the other greenlet let go" in done.stdout
