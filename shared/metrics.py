"""Prometheus metrics shared by every service, and how each kind of process exposes them.

One label name per dimension, across every metric of the platform:

    service   the service a process belongs to: intake, workflow, settlement, notify
    follower  the follower (a worker's consumer loop), named after its service
    stream    an upstream stream a follower reads: a leader ("intake") or a topic partition ("scrm.intake#2")
    endpoint  the Flask endpoint a request was routed to ("unknown" when none matched)
    status    an HTTP status code
    channel   a notify channel (wecom, sms, ...); outcome: what became of a delivery
    tenant    is not a label: one series per tenant would grow without bound (logs carry it)

Web apps run under gunicorn with several worker processes: their metrics are kept in files
under `PROMETHEUS_MULTIPROC_DIR` (set per app by shared/serve.py) and one scrape of `/metrics`
adds up every worker's (`web_exposition`). Workers and relays are single processes: each serves
its own on `--metrics-port` (shared/serve.py `expose_metrics`).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess

EVENTS_PROCESSED = Counter("scrm_events_processed_total", "Upstream events processed", ["follower"])
FOLLOWER_BACKLOG = Gauge(
    "scrm_follower_backlog",
    "Upstream positions not yet processed, per stream (with slices: all slices' events)",
    ["follower", "stream"],
    multiprocess_mode="livemax",
)
EVENTS_PARKED = Counter("scrm_events_parked_total", "Upstream events a policy failed on, parked", ["follower"])
BATCH_SECONDS = Histogram("scrm_batch_seconds", "Time to process and commit one batch", ["follower"])
EVENTS_RELAYED = Counter("scrm_events_relayed_total", "Events published to Kafka", ["service"])
HTTP_REQUESTS = Counter("scrm_http_requests_total", "HTTP requests", ["service", "endpoint", "status"])
HTTP_SECONDS = Histogram(
    "scrm_http_request_seconds",
    "HTTP request latency",
    ["service", "endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMIT_BATCH = Histogram(
    "scrm_group_commit_size",
    "Requests committed per transaction",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
COMMIT_SECONDS = Histogram(
    "scrm_group_commit_seconds",
    "Time to commit one group",
    ["service"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5),
)


def web_exposition() -> tuple[bytes, str]:
    """The metrics a web app's `/metrics` answers: every gunicorn worker's, when they share a
    folder, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
