"""A load process: many voters over keep-alive HTTP/1.1 connections, timing every request.

Written on asyncio streams rather than an HTTP client library so that the load generator is
not the bottleneck on a small machine: it only formats requests and reads status lines.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoadResult:
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds, acknowledged requests only
    acked_at: list[float] = field(default_factory=list)  # monotonic time of each 2xx
    seconds: float = 0.0
    errors: int = 0


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def _voter(host: str, port: int, path: str, bodies: list[bytes], result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for body in bodies:
            request = (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            finished = time.perf_counter()
            result.sent += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.latencies.append(finished - started)
                result.acked_at.append(time.monotonic())
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        result.errors += 1
    finally:
        writer.close()


async def run_load(
    host: str, ports: list[int], path: str, bodies: list[bytes], concurrency: int
) -> LoadResult:
    """Spread the bodies over ``concurrency`` connections, the connections over the servers'
    ports, and send them as fast as answers come."""
    result = LoadResult()
    shares = [bodies[i::concurrency] for i in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(
        *(_voter(host, ports[i % len(ports)], path, share, result) for i, share in enumerate(shares) if share)
    )
    result.seconds = time.perf_counter() - started
    return result


async def watch_counts(url: str, poll_id: int, stop: asyncio.Event) -> list[tuple[float, int]]:
    """Subscribe to the poll's live results; record (time seen, ballots) for every update."""
    import websockets

    seen: list[tuple[float, int]] = []
    async with websockets.connect(f"{url}/live/polls/{poll_id}", max_queue=None) as socket:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), 0.5)
            except TimeoutError:
                continue
            message = json.loads(raw)
            if message.get("type") == "results":  # the counts before this run's first vote
                seen.append((time.monotonic(), -int(message["results"]["ballots"])))
            elif message.get("type") == "counts":
                seen.append((time.monotonic(), int(message["counts"].get("ballots", 0))))
    return seen


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def tally_latencies(
    acked_at: list[float], seen: list[tuple[float, int]], start_count: int = 0
) -> list[float]:
    """For the n-th acknowledged vote, the time until a subscriber first saw a count of n or more."""
    acks = sorted(acked_at)
    latencies = []
    j = 0
    for n, acked in enumerate(acks, start=start_count + 1):
        while j < len(seen) and seen[j][1] < n:
            j += 1
        if j == len(seen):
            break
        latencies.append(max(0.0, seen[j][0] - acked))
    return latencies


def step_latencies(acked_at: list[float], seen: list[tuple[float, int]], start_count: int = 0) -> list[float]:
    """For each published step a subscriber saw (a count of c), the time from the acknowledgement
    of the c-th vote, the step's last ballot (its commit came just before), until it was seen."""
    acks = sorted(acked_at)
    latencies = []
    for seen_at, count in seen:
        index = count - start_count - 1
        if 0 <= index < len(acks):
            latencies.append(max(0.0, seen_at - acks[index]))
    return latencies


async def _main(config: dict[str, Any], bodies: list[bytes]) -> dict[str, Any]:
    stop = asyncio.Event()
    watcher = None
    if config.get("watch_poll"):
        watcher = asyncio.create_task(watch_counts(config["ws_url"], int(config["watch_poll"]), stop))
        await asyncio.sleep(0.3)  # connected before the first vote
    ports = [int(p) for p in config["ports"]]
    result = await run_load(config["host"], ports, config["path"], bodies, int(config["concurrency"]))
    seen: list[tuple[float, int]] = []
    if watcher is not None:
        await asyncio.sleep(1.0)  # let the last updates arrive
        stop.set()
        seen = await watcher
    acked = len(result.latencies)
    live: list[float] = []
    steps: list[float] = []
    if seen and seen[0][1] <= 0:
        baseline = -seen[0][1]
        live = tally_latencies(result.acked_at, seen[1:], start_count=baseline)
        steps = step_latencies(result.acked_at, seen[1:], start_count=baseline)
    return {
        "sent": result.sent,
        "acknowledged": acked,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "connection_errors": result.errors,
        "seconds": round(result.seconds, 3),
        "per_second": round(acked / result.seconds, 1) if result.seconds else 0.0,
        "p50_ms": round(percentile(result.latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(result.latencies, 99) * 1000, 2),
        "tally_p50_ms": round(percentile(live, 50) * 1000, 1) if live else None,
        "tally_p99_ms": round(percentile(live, 99) * 1000, 1) if live else None,
        "tally_samples": len(live),
        "step_p50_ms": round(percentile(steps, 50) * 1000, 1) if steps else None,
        "step_p99_ms": round(percentile(steps, 99) * 1000, 1) if steps else None,
        "step_samples": len(steps),
    }


def main() -> None:
    """Entry point of the load process: a JSON config on stdin, a JSON result on stdout."""
    config = json.loads(sys.stdin.read())
    with open(config["bodies_file"], "rb") as f:
        bodies = [line.rstrip(b"\n") for line in f if line.strip()]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_main(config, bodies))))


if __name__ == "__main__":
    main()
