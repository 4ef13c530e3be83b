"""What an instance counts for Prometheus (`/metrics`): votes, batches, tallies, sockets, the
scheduler and request latency. Labels are only ever bounded sets (error codes, route templates,
room kinds, methods, statuses): never a code, tracker, answer, id or raw path.

With several worker processes (`polls serve --workers N`) each writes its figures to files in
PROMETHEUS_MULTIPROC_DIR, set by the command before this module is imported, and `/metrics`
adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

VOTES_ACCEPTED = Counter("polls_votes_accepted_total", "Votes stored and acknowledged (201)")
VOTES_REFUSED = Counter("polls_votes_refused_total", "Votes refused, by the error code answered", ["reason"])
BATCH_SIZE = Histogram(
    "polls_vote_batch_size",
    "Votes per ballot-writer batch",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
BATCH_COMMIT_SECONDS = Histogram(
    "polls_vote_batch_commit_seconds",
    "From starting a batch's transaction to its commit",
    buckets=LATENCY_BUCKETS,
)
TALLY_LAG_SECONDS = Histogram(
    "polls_tally_lag_seconds",
    "From answering a batch's votes to their counting in the live tallies",
    buckets=LATENCY_BUCKETS,
)
WEBSOCKETS = Gauge(
    "polls_websocket_connections",
    "Open websockets, by the kind of room they follow",
    ["kind"],
    multiprocess_mode="livesum",
)
SCHEDULER_MOVES = Counter("polls_scheduler_moves_total", "Polls the scheduler opened or closed", ["action"])
REQUEST_SECONDS = Histogram(
    "polls_request_duration_seconds",
    "Time to answer a request, by route template (never the path itself)",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)


def exposition() -> bytes:
    """Every figure, in Prometheus' text format: all workers' together in multiprocess mode."""
    if not MULTIPROCESS:
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def process_ended() -> None:
    """Drop this worker's live gauges (its websockets) from the shared figures."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
