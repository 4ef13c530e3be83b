"""`polls bench jury`: one moderator event reaching 2,000 observers and 24 jurors over websockets.

One run: build a throwaway embedded set-up (SQLite file, a real redis-server) with a jury of 24
who accepted and a live session, start the app under uvicorn (one worker), connect every client
from a separate load process (bare websocket clients offering compression as browsers do;
POLLS_BENCH_DEFLATE=0 offers none), and time how long each moderator command takes to reach
each client (sent to received, one clock). Memory per connection is the app process's RSS growth
divided by the connections it holds. Then the same with two app processes sharing Redis and
the database, half of the clients on each, the moderator on the first. Prints a table and, last,
one JSON line.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from polls.bench.postgres import free_port as _free_port
from polls.bench.topology import start_bench_server as _start
from polls.bench.topology import stop as _stop
from polls.domain.access import Actor
from polls.domain.jury_protocol import VERSION
from polls.domain.pilots import Role
from polls.live.embedded import EmbeddedRedis
from polls.store.db import open_engine, sessions_for
from polls.store.jury_sessions import create_session
from polls.store.migrate import upgrade
from polls.store.models import Juror, Jury, Pilot, PoolMember, StaffRole
from polls.store.staff import create_staff
from polls.tokens import JUROR_ROOM, Tokens

TARGET_P99_MS = 200
EMAIL = "moderator@bench.example"
JURORS = 24


async def _seed(database_url: str, key: str, password: str, ballot_key: str) -> tuple[int, list[str]]:
    engine = open_engine(database_url, ballot_key=ballot_key)  # pool members' features are sealed under it
    try:
        async with sessions_for(engine).begin() as s:
            pilot = Pilot(
                name="Bench Borough",
                region="Bench",
                council="Bench Council",
                languages=["en"],
                starts_on=date(2026, 1, 1),
                ends_on=date(2027, 12, 31),
                contact_email="bench@polls.example",
            )
            s.add(pilot)
            await s.flush()
            staff = await create_staff(s, email=EMAIL, name="Moderator", password=password, actor="bench")
            s.add(StaffRole(pilot_id=pilot.id, staff_id=staff.id, role=Role.MODERATOR.value))
            jury = Jury(pilot_id=pilot.id, title="Bench jury", remit="What should we do?", kind="jury")
            jury.size, jury.threshold, jury.quotas = JURORS, 75, []
            jury.status = "inviting"  # drawn, its lottery public: the public may watch
            s.add(jury)
            await s.flush()
            jurors = []
            for n in range(1, JURORS + 1):
                member = PoolMember(jury_id=jury.id, person_id=f"p{n}", position=n, features={})
                s.add(member)
                await s.flush()
                juror = Juror(jury_id=jury.id, pool_member_id=member.id, role="panel", position=n, seat=n)
                juror.status, juror.room_nonce, juror.display_name = "accepted", secrets.token_hex(8), f"J{n}"
                s.add(juror)
                jurors.append(juror)
            await s.flush()
            actor = Actor(staff.id, EMAIL, "Moderator", roles={pilot.id: Role.MODERATOR})
            session = await create_session(s, actor, jury.id, "Bench session")
            signer = Tokens((key,))
            return session.id, [signer.sign(JUROR_ROOM, {"j": j.id, "n": j.room_nonce}) for j in jurors]
    finally:
        await engine.dispose()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _sign_in(port: int, password: str) -> str:
    response = httpx.post(f"http://127.0.0.1:{port}/api/session", json={"email": EMAIL, "password": password})
    response.raise_for_status()
    return f"polls_session={response.cookies['polls_session']}"


def _measure(
    ports: list[int],
    pids: list[int],
    session_id: int,
    tokens: list[str],
    cookie: str,
    observers: int,
    rounds: int,
) -> dict[str, Any]:
    """Connect the clients from a load process, read each app's RSS growth, then run the rounds."""
    clients = []
    for n in range(observers):
        clients.append({"port": ports[n % len(ports)], "query": ""})
    for n, token in enumerate(tokens):
        clients.append({"port": ports[n % len(ports)], "query": f"?token={token}"})
    moderator = {"port": ports[0], "cookie": cookie}
    config = {"session_id": session_id, "clients": clients, "moderator": moderator, "rounds": rounds}
    before = [_rss_kb(pid) for pid in pids]
    with subprocess.Popen(
        [sys.executable, "-m", "polls.bench.jury"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as load:
        assert load.stdin is not None and load.stdout is not None
        load.stdin.write(json.dumps(config) + "\n")
        load.stdin.flush()
        ready = json.loads(load.stdout.readline())
        time.sleep(1.0)  # let the servers settle after the connection storm
        after = [_rss_kb(pid) for pid in pids]
        load.stdin.write("go\n")
        load.stdin.flush()
        result: dict[str, Any] = json.loads(load.stdout.readline())
        load.wait(timeout=60)
    connections = len(clients) + 1
    result["connected"] = ready["connected"]
    result["connect_seconds"] = ready["seconds"]
    result["rss_delta_mb"] = [round((a - b) / 1024, 1) for a, b in zip(after, before, strict=True)]
    result["kb_per_connection"] = round(
        sum(a - b for a, b in zip(after, before, strict=True)) / connections, 1
    )
    return result


def run(observers: int = 2000, rounds: int = 30) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="polls-bench-jury-"))
    redis = EmbeddedRedis(workdir / "redis")
    figures: dict[str, Any] = {
        "benchmark": "jury",
        "observers": observers,
        "jurors": JURORS,
        "rounds": rounds,
    }
    try:
        database_url = f"sqlite+aiosqlite:///{workdir / 'polls.sqlite3'}"
        upgrade(database_url)
        redis.start()
        key, password = secrets.token_urlsafe(32), secrets.token_urlsafe(16)
        ballot_key = secrets.token_urlsafe(32)
        session_id, tokens = asyncio.run(_seed(database_url, key, password, ballot_key))
        env_file = workdir / "env.json"
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis.url,
            "SECRET_KEYS": key,
            "BALLOT_KEY": ballot_key,
            "POLLS_DATA_DIR": str(workdir),
        }
        env_file.write_text(json.dumps(env))
        for label, instances in (("one_process", 1), ("two_processes", 2)):
            print(
                f"{label}: {observers:,} observers + {JURORS} jurors + 1 moderator ...",
                file=sys.stderr,
                flush=True,
            )
            ports = [_free_port() for _ in range(instances)]
            apps = [_start("app", port, env_file) for port in ports]
            try:
                cookie = _sign_in(ports[0], password)
                pids = [app.pid for app in apps]
                figures[label] = _measure(ports, pids, session_id, tokens, cookie, observers, rounds)
            finally:
                for app in apps:
                    _stop(app)
    finally:
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    figures["target_p99_ms"] = TARGET_P99_MS
    figures["met"] = all(
        figures[k]["p99_ms"] < TARGET_P99_MS and not figures[k]["missing"]
        for k in ("one_process", "two_processes")
    )
    return figures


def report(figures: dict[str, Any]) -> str:
    lines = [f"{'':16}{'clients':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'missing':>9}{'KB/conn':>9}"]
    for label in ("one_process", "two_processes"):
        f = figures[label]
        lines.append(
            f"{label:16}{f['connected']:>9}{f['p50_ms']:>9}{f['p99_ms']:>9}{f['max_ms']:>9}"
            f"{f['missing']:>9}{f['kb_per_connection']:>9}"
        )
    lines.append(
        f"target: every client within {TARGET_P99_MS} ms at p99: {'met' if figures['met'] else 'NOT met'}"
    )
    lines.append(json.dumps(figures))
    return "\n".join(lines)


# --- the load process ---------------------------------------------------------------------

EVENT = b'{"v":%d,"type":"event","id":' % VERSION
DEFLATE = os.environ.get("POLLS_BENCH_DEFLATE", "1") != "0"


class Listener(asyncio.Protocol):
    """A bare websocket client that only notes when each event arrives.

    Written on asyncio's protocol callbacks rather than a websocket library so that 2,000 of
    them in one load process cost little next to the server being measured: it reads frame
    headers, answers pings, and looks at the first bytes of each text message.
    """

    def __init__(self, path: str, host: str, on_event: Any) -> None:
        self.path, self.host, self.on_event = path, host, on_event
        self.buffer = b""
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport instances
        self.inflater: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        # Offer compression as browsers do, so the server does the work it does for them.
        extensions = (
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if DEFLATE else ""
        )
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extensions}\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(self.buffer[:80].decode(errors="replace")))
                return
            if b"permessage-deflate" in self.buffer[:end]:
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            self.upgraded, self.buffer = True, self.buffer[end + 4 :]
        while len(self.buffer) >= 2:
            opcode, length, start = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                length, start = int.from_bytes(self.buffer[2:4], "big"), 4
            elif length == 127:
                if len(self.buffer) < 10:
                    return
                length, start = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < start + length:
                return
            compressed = self.buffer[0] & 0x40
            payload, self.buffer = self.buffer[start : start + length], self.buffer[start + length :]
            if compressed and self.inflater is not None:
                payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
            if opcode == 1:
                self._text(payload, now)
            elif opcode == 9:  # ping: answer with a masked pong
                mask = secrets.token_bytes(4)
                masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)

    def _text(self, payload: bytes, now: float) -> None:
        if payload.startswith(EVENT):
            self.on_event(int(payload[len(EVENT) : payload.index(b",", len(EVENT))]), now)
        elif not self.ready.done() and b'"type":"snapshot"' in payload:
            self.ready.set_result(None)


class _Arrivals:
    """When each client received the event being timed; set once they all have."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.expected = 0
        self.received: list[float] = []  # receive times of the event being timed
        self.everyone = asyncio.Event()

    def expect(self, seq: int) -> None:
        self.expected = seq
        self.received.clear()
        self.everyone.clear()

    def on_event(self, seq: int, at: float) -> None:
        if seq == self.expected:
            self.received.append(at)
            if len(self.received) == self.total:
                self.everyone.set()


async def _listen(config: dict[str, Any], arrivals: _Arrivals) -> list[Listener]:
    """Every client's socket, opened a hundred at a time, each once it has its snapshot."""
    loop = asyncio.get_running_loop()

    async def open_one(client: dict[str, Any]) -> Listener:
        path = f"/live/jury-sessions/{config['session_id']}{client['query']}"
        host = f"127.0.0.1:{client['port']}"
        _, listener = await loop.create_connection(
            lambda: Listener(path, host, arrivals.on_event), "127.0.0.1", client["port"]
        )
        await asyncio.wait_for(listener.ready, 60)
        return listener

    listeners: list[Listener] = []
    for i in range(0, arrivals.total, 100):
        listeners.extend(await asyncio.gather(*(open_one(c) for c in config["clients"][i : i + 100])))
    return listeners


async def _moderate(config: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The moderator's socket and the room's state from its snapshot."""
    import websockets

    url = f"ws://127.0.0.1:{config['moderator']['port']}/live/jury-sessions/{config['session_id']}"
    moderator = await websockets.connect(url, additional_headers={"Cookie": config["moderator"]["cookie"]})
    state: dict[str, Any] = {}
    while not state:
        message = json.loads(await moderator.recv())
        state = message["state"] if message["type"] == "snapshot" else {}
    return moderator, state


async def _command(moderator: Any, body: dict[str, Any]) -> int:
    """Send one moderator command; the sequence number of the last event it made."""
    await moderator.send(json.dumps({"v": VERSION, **body}))
    while True:
        reply = json.loads(await moderator.recv())
        if reply["type"] == "ack":
            return int(reply["ids"][-1])
        if reply["type"] == "error":
            raise RuntimeError(reply["message"])


def _latency_figures(latencies: list[float], missing: int) -> dict[str, Any]:
    latencies = sorted(latencies)

    def pct(p: float) -> float:
        return (
            round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)
            if latencies
            else -1.0
        )

    result = {"samples": len(latencies), "p50_ms": pct(0.5), "p99_ms": pct(0.99), "missing": missing}
    result["max_ms"] = round(latencies[-1] * 1000, 1) if latencies else -1.0
    return result


async def _load(config: dict[str, Any]) -> None:
    arrivals = _Arrivals(len(config["clients"]))
    started = time.perf_counter()
    listeners = await _listen(config, arrivals)
    moderator, state = await _moderate(config)
    print(
        json.dumps({"connected": arrivals.total + 1, "seconds": round(time.perf_counter() - started, 1)}),
        flush=True,
    )
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    seq = (
        await _command(moderator, {"type": "start_session"})
        if state["status"] == "waiting"
        else int(state["seq"])
    )
    await asyncio.sleep(1)
    latencies: list[float] = []
    missing = 0
    phases = ["evidence", "deliberation"]
    for n in range(config["rounds"]):
        arrivals.expect(seq + 1)
        sent = time.perf_counter()
        seq = await _command(moderator, {"type": "set_phase", "phase": phases[n % 2]})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrivals.everyone.wait(), 10)
        missing += arrivals.total - len(arrivals.received)
        latencies.extend(t - sent for t in arrivals.received)
        await asyncio.sleep(0.3)
    for listener in listeners:
        if listener.transport is not None:
            listener.transport.close()
    await moderator.close()
    print(json.dumps(_latency_figures(latencies, missing)), flush=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(_load(json.loads(sys.stdin.readline())))
