"""The API keeps the promises of its OpenAPI document: schemathesis generates requests from the
document (a few per operation, anonymous and signed in) against the app under uvicorn, and
checks every answer: no 5xx, a documented status, a body matching the schema, 405 with Allow."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis import checks

from polls import serving
from polls.app import create_app
from polls.http.api.registry import document
from polls.live.embedded import EmbeddedRedis
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.staff import create_staff
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, in_thread
from tests.factories import BALLOT_KEY, SECRET, pilot_body
from tests.servers import free_port

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_dict(document())
# What the document promises. Not "schema-valid data is accepted": rules the schema cannot say
# (no control characters, closing after opening, unique codes) rightly answer 422.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.allow_header_conformance,
]
EXAMPLES = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
)


async def _seed_admin(url: str) -> None:
    engine = open_engine(url, ballot_key=BALLOT_KEY)
    async with sessions_for(engine).begin() as session:
        await create_staff(
            session, email=ADMIN_EMAIL, name="Ada Admin", password=ADMIN_PASSWORD, site_admin=True, actor="t"
        )
    await engine.dispose()


@pytest.fixture(scope="module")
def api_server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, redis_server: EmbeddedRedis
) -> Iterator[str]:
    """The app on SQLite under a real uvicorn, in a thread, with a site admin and one pilot."""
    folder = tmp_path_factory.mktemp("contract")
    shutil.copy(sqlite_template, folder / "polls.sqlite3")
    url = f"sqlite+aiosqlite:///{folder / 'polls.sqlite3'}"
    in_thread(lambda: asyncio.run(_seed_admin(url)))
    app_settings = Settings(
        database_url=url,
        redis_url=redis_server.url,
        secret_keys=(SECRET,),
        data_dir=folder,
        ballot_key=BALLOT_KEY,
        signin_address_attempts=1_000_000,  # the fuzzer's sign-in guesses all come from 127.0.0.1
    )
    port = free_port()
    app = create_app(app_settings, run_scheduler=False)
    server = uvicorn.Server(
        serving.config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        threading.Event().wait(0.05)
    with httpx.Client(base_url=base) as http:
        token = http.post("/api/session", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()
        created = http.post("/api/pilots", json=pilot_body(), headers={"X-CSRF-Token": token["csrf_token"]})
        assert created.status_code == 201, created.text
    yield base
    server.should_exit = True
    thread.join(10)


def _signed_in(base: str) -> requests.Session:
    """A fresh session each time: a generated DELETE /api/session would end a shared one."""
    session = requests.Session()
    answer = session.post(f"{base}/api/session", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert answer.status_code == 200, answer.text
    session.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return session


@schema.parametrize()
@EXAMPLES
def test_anonymous_requests_get_documented_answers(case: schemathesis.Case, api_server: str) -> None:
    case.call_and_validate(base_url=api_server, checks=CHECKS)


@schema.parametrize()
@EXAMPLES
def test_signed_in_requests_get_documented_answers(case: schemathesis.Case, api_server: str) -> None:
    # Not negative_data_rejection here: the session's own cookie would stand in for a
    # deliberately missing or broken one (the anonymous run checks those refusals).
    signed_in_checks = [c for c in CHECKS if c is not checks.negative_data_rejection]
    with _signed_in(api_server) as session:
        case.call_and_validate(base_url=api_server, session=session, checks=signed_in_checks)


def test_a_wrong_method_says_which_would_do(api_server: str) -> None:
    answer = httpx.patch(f"{api_server}/api/pilots")
    assert answer.status_code == 405
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert answer.json()["code"] == "method_not_allowed"


def test_the_document_states_the_limits_and_refusals() -> None:
    doc = document()
    sign_in = doc["paths"]["/api/session"]["post"]["responses"]
    assert "Retry-After" in sign_in["429"]["headers"]
    assert "400" in sign_in
    specs = doc["components"]["schemas"]
    assert specs["AreaSpec"]["properties"]["code"]["pattern"]
    assert specs["JurySpec"]["properties"]["size"]["maximum"] == 150
    assert specs["Role"]["enum"] == ["council_admin", "moderator", "analyst"]
