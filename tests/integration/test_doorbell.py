"""A store's readers wake when it commits (shared/doorbell.py), on SQLite and on PostgreSQL: a
commit in one application rings the doorbell another application of the same store listens to.
The waits are long only so that a broken doorbell fails instead of hanging; nothing is timed."""

import socket
import time
import uuid

from eventsourcing.persistence import StoredEvent, Tracking

from shared.doorbell import listen
from shared.persistence import open_service_store
from shared.settings import Settings

A_WHILE = 60  # seconds; a doorbell that works answers at once


def commit(store, tracking: Tracking | None = None, events: int = 1) -> None:
    stored = [StoredEvent(uuid.uuid4(), 1, "tests:Happened", b'{"n":1}') for _ in range(events)]
    store.recorder.insert_events(stored, tracking=tracking)


def test_a_commit_in_another_application_rings_the_stores_doorbell(settings):
    writer, reader = open_service_store("intake", settings), open_service_store("intake", settings)
    doorbell = listen([reader])
    try:
        assert not doorbell.wait(0)  # nothing recorded since it began to listen
        commit(writer)
        assert doorbell.wait(A_WHILE)
        assert not doorbell.wait(0)  # the ring was taken: the next wait waits for the next commit
        commit(writer, events=1)
        commit(writer, events=1)
        assert doorbell.wait(A_WHILE)
        assert not doorbell.wait(0)  # rings that came while busy wake it once
    finally:
        doorbell.close()


def test_a_commit_recording_only_a_position_rings_nobody(settings):
    writer, reader = open_service_store("intake", settings), open_service_store("intake", settings)
    doorbell = listen([reader])
    try:
        commit(writer, Tracking("kafka-relay", 7), events=0)  # a relay's own position: nothing to read
        commit(open_service_store("workflow", settings))  # another service's store
        assert not doorbell.wait(0)
    finally:
        doorbell.close()


def test_a_doorbell_of_several_stores_is_rung_by_each(settings):
    stores = [open_service_store(s, settings) for s in ("intake", "settlement")]
    doorbell = listen([open_service_store(s, settings) for s in ("intake", "settlement")])
    try:
        for store in stores:
            commit(store)
            assert doorbell.wait(A_WHILE)
    finally:
        doorbell.close()


def test_a_ring_within_the_gap_of_the_last_wake_wakes_the_reader_once_the_gap_is_over(settings):
    """A busy leader's commits are read together: the reader does not wake sooner (a lower bound only:
    a slow machine waits longer, never less)."""
    writer, reader = open_service_store("intake", settings), open_service_store("intake", settings)
    gap = 0.5
    doorbell = listen([reader], gap=gap)
    try:
        commit(writer)
        assert doorbell.wait(A_WHILE)
        woke = time.monotonic()
        commit(writer)
        assert doorbell.wait(A_WHILE)
        assert time.monotonic() - woke >= gap
    finally:
        doorbell.close()


def test_the_gap_is_set_in_milliseconds_from_the_environment():
    assert Settings.from_env({"SCRM_WAKE_GAP_MS": "10"}).wake_gap == 0.01
    assert Settings.from_env({}).wake_gap == Settings.wake_gap


def test_without_wake_on_commit_the_doorbell_is_silent_and_a_wait_is_a_poll(settings):
    writer = open_service_store("intake", settings)
    doorbell = listen([open_service_store("intake", settings)], wake_on_commit=False)
    commit(writer)
    assert not doorbell.wait(0)


def test_a_listener_that_died_without_closing_is_forgotten_at_the_next_ring(tmp_path):
    settings = Settings(data_dir=tmp_path)
    writer = open_service_store("intake", settings)
    doorbell = listen([open_service_store("intake", settings)])
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(tmp_path / "intake.sqlite.bells" / "killed"))
    dead.close()  # its file stays, as a killed process leaves it
    try:
        commit(writer)
        assert doorbell.wait(A_WHILE)
        assert not (tmp_path / "intake.sqlite.bells" / "killed").exists()
    finally:
        doorbell.close()
    assert list((tmp_path / "intake.sqlite.bells").iterdir()) == []  # a listener closing removes its own
