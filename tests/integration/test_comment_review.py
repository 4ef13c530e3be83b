"""Free-text comments are published only after review: officers publish or withhold each one (with
a reason, audited without the words), results wait until every comment is decided, and a withheld
comment never appears in anything public."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import csrf_from
from tests.integration.test_results_store import audit_actions, vote_and_close
from tests.voting_setup import Setup

IDENTIFYING = "comment 3"  # the ballots of vote_and_close say "comment 0" ... "comment 9"


async def _comments(officer: httpx.AsyncClient, poll_id: int) -> list[dict[str, object]]:
    response = await officer.get(f"/api/polls/{poll_id}/official/comments")
    assert response.status_code == 200
    comments: list[dict[str, object]] = response.json()
    return comments


async def test_a_withheld_comment_never_appears_in_the_published_file_or_pages(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    comments = await _comments(officer, poll_id)
    assert sorted(c["text"] for c in comments) == sorted(f"comment {i}" for i in range(10))
    assert {c["status"] for c in comments} == {"unreviewed"}
    assert set(comments[0]) == {"number", "question_id", "text", "status", "reason", "published_as"}
    # Before review, not even staff's copy of the file carries the words.
    early = (await officer.get(f"/polls/{poll_id}/ballots.jsonl")).text
    assert "comment " not in early and early.count("[withheld: awaiting review]") == 10

    assert (await officer.post(f"/api/polls/{poll_id}/actions/review")).status_code == 200
    refused = await officer.post(f"/api/polls/{poll_id}/actions/publish")
    assert refused.status_code == 409 and refused.json()["code"] == "comments_not_reviewed"
    assert "10 comments are not reviewed yet" in refused.json()["message"]

    target = next(c["number"] for c in comments if c["text"] == IDENTIFYING)
    url = f"/api/polls/{poll_id}/official/comments"
    bad = await officer.put(f"{url}/{target}", json={"decision": "withheld"})
    assert bad.status_code == 422  # a reason is needed
    assert (await officer.put(f"{url}/99", json={"decision": "published"})).status_code == 404
    withheld = await officer.put(f"{url}/{target}", json={"decision": "withheld", "reason": "identifying"})
    assert withheld.status_code == 200
    assert withheld.json()["published_as"] == "[withheld: could identify someone]"
    # Un-withhold, then withhold again: each decision is audited, none with the words.
    await officer.put(f"{url}/{target}", json={"decision": "published"})
    await officer.put(f"{url}/{target}", json={"decision": "withheld", "reason": "identifying"})
    others = [c["number"] for c in comments if c["number"] != target]
    for number in others[:5]:
        assert (await officer.put(f"{url}/{number}", json={"decision": "published"})).status_code == 200
    assert (await officer.post(f"{url}/withhold-unreviewed")).status_code == 200  # the rest: not reviewed
    assert (await officer.post(f"/api/polls/{poll_id}/actions/publish")).status_code == 200

    withholds = await audit_actions(db, "results.comment_withheld")
    assert len(withholds) == 2
    assert withholds[0]["after"]["reason"] == "identifying" and withholds[0]["actor"]
    assert len(await audit_actions(db, "results.comment_published")) == 6
    bulk = await audit_actions(db, "results.comments_withhold_unreviewed")
    assert bulk[0]["after"]["comments"] == 4

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as public:
        file = (await public.get(f"/polls/{poll_id}/ballots.jsonl")).text
        page = (await public.get(f"/polls/{poll_id}/official")).text
        download = (await public.get(f"/polls/{poll_id}/official.json")).text
        csv = (await public.get(f"/polls/{poll_id}/official.csv")).text
        log = (await officer.get(f"/council/pilots/{voting.pilot['id']}/audit")).text
    for text in (file, page, download, csv, log):
        assert IDENTIFYING not in text
    assert file.count("[withheld: could identify someone]") == 1
    assert file.count("[withheld: not reviewed]") == 4
    assert "[withheld: could identify someone]" in page and "[withheld: not reviewed]" in page
    published = [c["text"] for c in comments if c["number"] in others[:5]]
    assert all(text in file and text in page for text in published)
    entries = await audit_actions(db, "results.comment_withheld")
    assert IDENTIFYING not in repr(entries)


async def test_officers_review_comments_on_the_results_page(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, voting: Setup
) -> None:
    poll_id = await vote_and_close(client, officer, voting)
    page = await officer.get(f"/council/polls/{poll_id}/results")
    assert "10 not reviewed yet" in page.text and "comment 7" in page.text
    assert "Each question&#39;s answers separately" in page.text
    token = csrf_from(page.text)
    missing = await officer.post(
        f"/council/polls/{poll_id}/results/comments/1", data={"csrf_token": token, "decision": "withheld"}
    )
    assert missing.status_code == 422 and 'id="reason-1-error"' in missing.text
    done = await officer.post(
        f"/council/polls/{poll_id}/results/comments/1",
        data={"csrf_token": token, "decision": "withheld", "reason-1": "abusive"},
    )
    assert done.status_code == 303
    bulk = await officer.post(
        f"/council/polls/{poll_id}/results/comments/withhold-unreviewed", data={"csrf_token": token}
    )
    assert bulk.status_code == 303
    after = (await officer.get(f"/council/polls/{poll_id}/results")).text
    assert "not reviewed yet" not in after and "(abusive or offensive)" in after
