"""Anyone can recount: the published anonymised ballot file reproduces the count with `polls recount`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.voting_setup import Setup, token, vote

POLLS = str(Path(sys.executable).parent / "polls")


async def test_published_ballots_hold_no_codes_and_recount_to_the_same_winner(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup, tmp_path: Path
) -> None:
    poll_id = voting.poll["id"]
    early = await client.get(f"/polls/{poll_id}/ballots.jsonl")
    assert (early.status_code, "closed" in early.text) == (403, True)
    for issued in voting.codes["north"][:3]:
        assert (await vote(client, poll_id, token(issued.reference), voting.full_ballot())).status_code == 201
    await officer.post(f"/api/polls/{poll_id}/actions/close")

    published = await client.get(f"/polls/{poll_id}/ballots.jsonl")
    assert published.status_code == 200
    lines = published.text.splitlines()
    header, ballots = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert header["format"] == "polls-ballots" and header["layout"] == "per_question"
    assert len(ballots) == 3 * 6  # each question's answers on lines of their own; comments last
    assert ballots[-1] == {str(voting.q["comment"]["id"]): "[withheld: awaiting review]"}
    for secret in [c.reference for c in voting.codes["north"]] + ["More trees please"]:
        assert secret not in published.text  # no codes, and comments only once reviewed

    path = tmp_path / "ballots.jsonl"
    path.write_text(published.text)
    single = voting.q["single"]
    recount = await asyncio.to_thread(
        subprocess.run,
        [POLLS, "recount", str(path), "--question", str(single["id"])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert recount.returncode == 0, recount.stderr
    assert voting.q["single"]["options"][1]["label"] in recount.stdout  # every ballot chose "South"
