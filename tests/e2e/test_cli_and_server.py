"""The `polls` command and the real server: serve, dev, db upgrade, staff create, audit verify."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from polls.live.embedded import EmbeddedRedis
from tests.servers import AppProcess, free_port

POLLS = str(Path(sys.executable).parent / "polls")


def run_polls(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [POLLS, *args], env={**os.environ, **env}, input=stdin, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/polls.sqlite3", "POLLS_DATA_DIR": str(tmp_path)}
    assert run_polls("db", "upgrade", env=env).returncode == 0
    return env


def test_serve_refuses_to_start_without_its_settings() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEYS", "BASE_URL", "BALLOT_KEY")
    }
    result = subprocess.run([POLLS, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEYS", "BASE_URL", "BALLOT_KEY"):
        assert name in result.stderr


def test_serve_refuses_an_embedded_redis() -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "sqlite:///x.sqlite3",
        "REDIS_URL": "embedded",
        "SECRET_KEYS": "k" * 32,
        "BALLOT_KEY": "b" * 32,
        "BASE_URL": "https://polls.example.org",
    }
    result = subprocess.run([POLLS, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "instances must share one Redis" in result.stderr


def test_serve_refuses_a_database_without_migrations(tmp_path: Path, redis_server: EmbeddedRedis) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3",
        "REDIS_URL": redis_server.url,
        "SECRET_KEYS": "k" * 32,
        "BALLOT_KEY": "b" * 32,
        "BASE_URL": "http://127.0.0.1",
    }
    result = subprocess.run(
        [POLLS, "serve", "--port", str(free_port())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "polls db upgrade" in result.stdout + result.stderr


def test_staff_created_on_the_command_line_can_sign_in_over_real_http(
    sqlite_env: dict[str, str], redis_server: EmbeddedRedis
) -> None:
    created = run_polls(
        "staff",
        "create",
        "--email",
        "Chief@Council.example",
        "--name",
        "Chief Officer",
        "--site-admin",
        "--password-stdin",
        env=sqlite_env,
        stdin="a very long password\n",
    )
    assert created.returncode == 0, created.stderr
    again = run_polls(
        "staff",
        "create",
        "--email",
        "chief@council.example",
        "--name",
        "Again",
        "--password-stdin",
        env=sqlite_env,
        stdin="a very long password\n",
    )
    assert again.returncode == 2
    assert "already a staff account" in again.stderr

    server = AppProcess(
        {
            **sqlite_env,
            "REDIS_URL": redis_server.url,
            "SECRET_KEYS": "s" * 32,
            "BALLOT_KEY": "b" * 32,
            "SECURE_COOKIES": "0",
            "BASE_URL": "http://127.0.0.1",
        }
    )
    server.start()
    try:
        with httpx.Client(base_url=server.base_url) as http:
            signed_in = http.post(
                "/api/session", json={"email": "chief@council.example", "password": "a very long password"}
            )
            assert signed_in.status_code == 200
            http.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
            pilot = http.post(
                "/api/pilots",
                json={
                    "name": "Served Pilot",
                    "region": "Here",
                    "council": "Our Council",
                    "starts_on": "2027-01-01",
                    "ends_on": "2027-02-01",
                    "contact_email": "a@b.example",
                },
            )
            assert pilot.status_code == 201
    finally:
        server.stop()
    verified = run_polls("audit", "verify", env=sqlite_env)
    assert verified.returncode == 0
    assert "2 entries verified" in verified.stdout  # staff.create, pilot.create


def test_audit_verify_reports_the_first_edited_entry(sqlite_env: dict[str, str]) -> None:
    for n in range(3):
        result = run_polls(
            "staff",
            "create",
            "--email",
            f"s{n}@council.example",
            "--name",
            f"Staff {n}",
            "--password-stdin",
            env=sqlite_env,
            stdin="another long password\n",
        )
        assert result.returncode == 0
    assert "3 entries verified" in run_polls("audit", "verify", env=sqlite_env).stdout
    path = sqlite_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
    result = run_polls("audit", "verify", env=sqlite_env)
    assert result.returncode == 1
    assert "BROKEN at entry 2" in result.stdout
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE audit_log SET actor = 'cli:staff-create' WHERE seq = 2")
        conn.execute("DELETE FROM audit_log WHERE seq = 3")
    truncated = run_polls("audit", "verify", env=sqlite_env)
    assert truncated.returncode == 1
    assert "head does not match" in truncated.stdout


def _redis_children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "redis" in line]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


@pytest.mark.e2e
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGKILL])
def test_dev_serves_the_demo_and_leaves_no_redis_behind(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEYS")}
    env["POLLS_DATA_DIR"] = str(tmp_path / "var")
    process = subprocess.Popen(
        [POLLS, "dev", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("polls dev did not start")
        children = _redis_children(process.pid)
        assert len(children) == 1
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            signed_in = http.post(
                "/api/session",
                json={"email": "officer@demo-borough.example", "password": "demo-borough-officer"},
            )
            assert signed_in.status_code == 200
            http.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
            pilots = http.get("/api/pilots").json()
            assert [p["name"] for p in pilots] == ["Demo Borough"]
            polls = http.get(f"/api/pilots/{pilots[0]['id']}/polls").json()
            assert sorted(p["status"] for p in polls) == ["open", "published", "scheduled"]
            story = next(p for p in polls if p["status"] == "published")
            assert "You said, we did" in http.get(f"/polls/{story['id']}/official").text
            assert len(http.get(f"/api/pilots/{pilots[0]['id']}/areas").json()) == 3
            kinds = {q["kind"] for p in polls for q in p["questions"]}
            assert kinds == {"single", "multiple", "ranked", "scale", "budget", "comment"}
            invited = http.put(
                f"/api/pilots/{pilots[0]['id']}/staff",
                json={"email": "someone.new@demo-borough.example", "role": "analyst"},
            )
            assert invited.status_code == 201, invited.text
            # Links handed out reach the port it listens on, not a default.
            assert invited.json()["invitation_link"].startswith(f"http://127.0.0.1:{port}/staff/welcome?")
            assert "polls_request_duration_seconds_bucket" in http.get("/metrics").text  # open in dev
        process.send_signal(stop_signal)
        process.wait(timeout=20)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        assert not any(_alive(c) for c in children), "redis-server outlived polls dev"
        output = process.stdout.read() if process.stdout else ""
        assert "officer@demo-borough.example / demo-borough-officer" in output
        assert f"http://127.0.0.1:{port}/v/vc_" in output
        assert "GET /api/pilots 200 [polls.access] request_id=" in output  # plain text in dev
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
