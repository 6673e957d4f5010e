"""Which event store a service uses: an SQLite file by default, PostgreSQL when configured.

Each service has its own store: its own SQLite file, or its own schema on PostgreSQL.
The result is an `eventsourcing` environment; the library reads nothing else.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import psycopg

from shared.eventstore import ServiceApplication, open_store
from shared.outbox import OutboxReader
from shared.settings import Settings


TRANSCODER = {"TRANSCODER_TOPIC": "shared.transcoder:OrjsonTranscoder"}


def store_env(service: str, settings: Settings) -> dict[str, str]:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            **TRANSCODER,
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.data_dir / f"{service}.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "30",
            "PROCESS_RECORDER_TOPIC": "shared.sqlite:OutboxSQLiteProcessRecorder",
            "CREATE_TABLE": "y" if settings.create_tables else "n",
        }
    url = urlsplit(settings.database_url)
    if url.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"SCRM_DATABASE_URL must be a postgresql:// URL, not {url.scheme!r}")
    if settings.create_tables:
        ensure_schema(settings.database_url, service)
    return {
        **TRANSCODER,
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_SCHEMA": service,
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "2",  # kept open; more are opened under load and closed after
        "POSTGRES_MAX_OVERFLOW": "6",
        "POSTGRES_PRE_PING": "n",  # a broken connection fails its commit, which is retried
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "PROCESS_RECORDER_TOPIC": "shared.postgres:OneTripPostgresProcessRecorder",
        "CREATE_TABLE": "y" if settings.create_tables else "n",
    }


def ensure_schema(database_url: str, schema: str) -> None:
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(psycopg.sql.Identifier(schema)))


def open_service_store(service: str, settings: Settings) -> ServiceApplication:
    """A bare application on `service`'s store (its outbox, its positions), none of its classes."""
    return open_store(service, store_env(service, settings))


def outbox_reader(service: str, settings: Settings) -> OutboxReader:
    return OutboxReader(service, open_service_store(service, settings))
