"""Fixtures: real servers started here, on free loopback ports, stopped afterwards."""

from __future__ import annotations

import uuid

import marshmallow
import pytest

from shared.eventstore import ServiceApplication
from shared.settings import Settings
from deploy.devservers import KafkaBroker, Postgres
from tests.support.documented import strict_dump
from tests.support.identity import KEYS_FILE


# The tests that SIGKILL and SIGSTOP a whole platform under load. The suite runs on two pytest-xdist
# workers (pyproject's addopts), each with its own PostgreSQL and broker: these go to one worker, one
# after another and before anything else, so two of them never share the machine's cores; every other
# test goes to whichever worker is free.
CHAOS = ("test_crash.py", "test_notify_crash.py", "test_outages.py")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name in CHAOS:
            item.add_marker(pytest.mark.xdist_group("chaos"))
    items.sort(key=lambda item: item.path.name not in CHAOS)  # stable: the rest in their order


@pytest.fixture(scope="session")
def postgres():
    with Postgres() as server:
        yield server


@pytest.fixture
def database_url(postgres):
    return postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def kafka():
    with KafkaBroker() as broker:
        yield broker


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request, tmp_path):
    """Settings for one isolated platform: SQLite files in a temp dir, or a fresh PostgreSQL database."""
    url = request.getfixturevalue("database_url") if request.param == "postgres" else None
    return Settings(data_dir=tmp_path, database_url=url, token_keys=KEYS_FILE)


@pytest.fixture(autouse=True)
def close_applications(monkeypatch):
    """Close every application a test opened: a server given by SCRM_TEST_DATABASE_URL
    may allow only 100 connections, and pools left open add up over a session."""
    opened = []
    original = ServiceApplication.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(ServiceApplication, "__init__", init)
    yield
    for app in opened:
        app.close()


@pytest.fixture(autouse=True)
def answers_as_documented(monkeypatch):
    """An answer holding a key its schema does not document fails (tests/support/documented.py)."""
    monkeypatch.setattr(marshmallow.Schema, "dump", strict_dump(marshmallow.Schema.dump))
