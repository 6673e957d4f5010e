"""Prometheus metrics shared by every service (one registry per process)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PROCESSED = Counter("scrm_events_processed_total", "Upstream events processed", ["follower"])
FOLLOWER_BACKLOG = Gauge(
    "scrm_follower_backlog", "Upstream positions not yet processed, per stream (with slices: all slices' events)",
    ["follower", "stream"],
)
EVENTS_PARKED = Counter("scrm_events_parked_total", "Upstream events a policy failed on, parked", ["follower"])
BATCH_SECONDS = Histogram("scrm_batch_seconds", "Time to process and commit one batch", ["follower"])
EVENTS_RELAYED = Counter("scrm_events_relayed_total", "Events published to Kafka", ["service"])
HTTP_REQUESTS = Counter("scrm_http_requests_total", "HTTP requests", ["app", "endpoint", "status"])
HTTP_SECONDS = Histogram(
    "scrm_http_request_seconds", "HTTP request latency", ["app", "endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
COMMIT_BATCH = Histogram(
    "scrm_group_commit_size", "Requests committed per transaction", ["app"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
COMMIT_SECONDS = Histogram(
    "scrm_group_commit_seconds", "Time to commit one group", ["app"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5),
)
