"""Platform configuration, read from the environment once at start-up (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("intake", "workflow", "settlement", "notify")
TRANSPORTS = ("embedded", "kafka")


@dataclass(frozen=True)
class Settings:
    transport: str = "embedded"
    data_dir: Path = Path("var")
    database_url: str | None = None  # PostgreSQL; None means SQLite files in data_dir
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = 4
    kafka_replication: int = 1  # replicas of each topic: 3 on a production cluster
    kafka_prefix: str = "scrm"  # topics are <prefix>.<service>, consumer groups <prefix>-<follower>
    kafka_session_timeout_ms: int = 10_000  # tests use 2 s: Tansu's group joins wait about half of it
    # How long the broker may hold a consumer's fetch that finds nothing. Kafka and Tansu (0.6, seen with
    # kafka-python 3.0.12) answer as soon as a record arrives, so a longer hold costs no latency: each idle
    # worker's consumer asks twice a second instead of twenty times (50 ms had cost the idle platform half a core).
    kafka_fetch_wait_ms: int = 500
    create_tables: bool = True
    request_deadline: float = 5.0  # seconds a submission waits for the store before a 503 (WeCom retries at 5 s)
    token_keys: Path | None = None  # the JWK set that signs (workflow) and verifies staff tokens
    trusted_proxy_secret: str | None = None  # a proxy presenting it may name the staff member; off if None
    wecom_url: str = "https://qyapi.weixin.qq.com"  # where staff's WeCom sign-in codes are exchanged
    wake_on_commit: bool = True  # readers of a store wake when it commits (shared/doorbell.py), else poll
    wake_gap: float = 0.03  # seconds at least between two wakes of a reader: a busy leader's commits read together

    @property
    def token_keys_file(self) -> Path:
        return self.token_keys or self.data_dir / "keys" / "token-keys.json"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        transport = env.get("SCRM_TRANSPORT", "embedded")
        if transport not in TRANSPORTS:
            raise ValueError(f"SCRM_TRANSPORT must be one of {TRANSPORTS}, not {transport!r}")
        return cls(
            transport=transport,
            data_dir=Path(env.get("SCRM_DATA_DIR", "var")).absolute(),
            database_url=env.get("SCRM_DATABASE_URL") or None,
            kafka_bootstrap=env.get("SCRM_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            kafka_partitions=int(env.get("SCRM_KAFKA_PARTITIONS", "4")),
            kafka_replication=int(env.get("SCRM_KAFKA_REPLICATION", "1")),
            kafka_prefix=env.get("SCRM_KAFKA_PREFIX", "scrm"),
            kafka_session_timeout_ms=int(env.get("SCRM_KAFKA_SESSION_TIMEOUT_MS", "10000")),
            kafka_fetch_wait_ms=int(env.get("SCRM_KAFKA_FETCH_WAIT_MS", "500")),
            create_tables=env.get("SCRM_CREATE_TABLES", "y").lower() in ("y", "yes", "1", "true"),
            request_deadline=float(env.get("SCRM_REQUEST_DEADLINE", "5")),
            token_keys=Path(env["SCRM_TOKEN_KEYS"]).absolute() if env.get("SCRM_TOKEN_KEYS") else None,
            trusted_proxy_secret=env.get("SCRM_TRUSTED_PROXY_SECRET") or None,
            wecom_url=(env.get("SCRM_WECOM_URL") or cls.wecom_url).rstrip("/"),
            wake_on_commit=env.get("SCRM_WAKE_ON_COMMIT", "y").lower() in ("y", "yes", "1", "true"),
            wake_gap=int(env["SCRM_WAKE_GAP_MS"]) / 1000 if env.get("SCRM_WAKE_GAP_MS") else cls.wake_gap,
        )
