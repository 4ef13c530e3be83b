"""/metrics: what an instance counts, who may read it, and that no secret is ever a label."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from polls.app import create_app
from polls.settings import Settings
from tests.voting_setup import Setup, token, vote

TOKEN = "metrics-token-for-the-tests-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
async def open_metrics(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as `polls dev` runs it: /metrics open to anyone."""
    app = create_app(dataclasses.replace(settings, metrics_open=True), run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_votes_batches_and_latency_are_counted_with_no_code_or_tracker_in_them(
    voting: Setup, open_metrics: httpx.AsyncClient
) -> None:
    before = samples((await open_metrics.get("/metrics")).text)
    poll_id = voting.poll["id"]
    card = voting.codes["north"][0]
    accepted = await vote(open_metrics, poll_id, token(card), voting.full_ballot())
    assert accepted.status_code == 201
    again = await vote(open_metrics, poll_id, token(card), voting.full_ballot())
    assert again.status_code == 409
    bad = await vote(open_metrics, poll_id, "nonsense", voting.full_ballot())
    assert bad.status_code == 422
    await open_metrics.get(f"/polls/{poll_id}/results")
    response = await open_metrics.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("polls_votes_accepted_total") == 1
    assert grew("polls_votes_refused_total", reason="code_already_used") == 1
    assert grew("polls_votes_refused_total", reason=bad.json()["code"]) == 1
    assert grew("polls_vote_batch_size_count") >= 1
    assert grew("polls_vote_batch_commit_seconds_count") >= 1
    assert grew("polls_tally_lag_seconds_count") >= 1
    vote_route = {"route": "/api/polls/{poll_id}/votes", "method": "POST"}
    assert grew("polls_request_duration_seconds_count", **vote_route, status="201") == 1
    assert grew("polls_request_duration_seconds_count", **vote_route, status="409") == 1
    results = {"route": "/polls/{poll_id}/results", "method": "GET", "status": "200"}
    assert grew("polls_request_duration_seconds_count", **results) == 1
    # Never a code, a tracker or a raw path with an id in it.
    for secret in (token(card), card.short_code, accepted.json()["tracker"], f"/polls/{poll_id}/"):
        assert secret not in response.text


async def test_requests_carry_a_request_id_in_and_out(voting: Setup, client: httpx.AsyncClient) -> None:
    given = await client.get("/livez", headers={"X-Request-Id": "proxy-1234.abc"})
    assert given.headers["x-request-id"] == "proxy-1234.abc"
    made = await client.get("/livez", headers={"X-Request-Id": "not acceptable <script>"})
    assert len(made.headers["x-request-id"]) == 16
    voted = await vote(client, voting.poll["id"], "nonsense", {})
    assert len(voted.headers["x-request-id"]) == 16


async def test_metrics_need_the_bearer_token_in_production(settings: Settings) -> None:
    for configured, authorisation, status in (
        ("", f"Bearer {TOKEN}", 404),  # no token set: no metrics at all
        (TOKEN, "", 401),
        (TOKEN, "Bearer wrong-token", 401),
        (TOKEN, f"Bearer {TOKEN}", 200),
    ):
        app = create_app(dataclasses.replace(settings, metrics_token=configured), run_scheduler=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                headers = {"Authorization": authorisation} if authorisation else {}
                assert (await http.get("/metrics", headers=headers)).status_code == status
