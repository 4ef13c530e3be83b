"""The final report: officers write the summary while the results are in review; once published
the report page and its PDF show the summary, results, themes with their counts and the chosen
quotes (published words only), and the responses download as CSV with their themes, withheld
ones left out."""

from __future__ import annotations

import csv
import io

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import sign_in
from tests.factories import csrf_from
from tests.integration.test_analysis import (
    ANALYST,
    NORTH,
    SOUTH,
    Written,
    _add_theme,
    _numbers,
    _tag,
    written,
)
from tests.integration.test_results_store import audit_actions

__all__ = ["written"]

SUMMARY = "Residents told us about dark paths and full bins.\n\nWe will fix the lights first."


async def _prepare(officer: httpx.AsyncClient, w: Written) -> dict[str, int]:
    """Themes and quotes on the responses; the identifying one withheld, one formula-like."""
    numbers = await _numbers(officer, w.poll_id)
    lighting = await _add_theme(officer, w.pilot["id"], "Lighting")
    litter = await _add_theme(officer, w.pilot["id"], "=Litter")  # typed like a formula
    for text in NORTH[:3]:
        await _tag(officer, w, numbers[text], [lighting], quote=text == NORTH[0])
    for text in NORTH[3:] + SOUTH[:1]:
        await _tag(officer, w, numbers[text], [litter], quote=text == SOUTH[0])
    await _tag(officer, w, numbers[SOUTH[1]], [], quote=True)
    token_ = csrf_from((await officer.get(f"{w.base}/responses/1")).text)
    withheld = await officer.post(
        f"{w.base}/responses/{numbers[SOUTH[4]]}/withhold",
        data={"csrf_token": token_, "reason": "identifying"},
    )
    assert withheld.status_code == 303
    return numbers


async def test_the_summary_is_written_in_review_and_fixed_once_published(
    officer: httpx.AsyncClient, written: Written, db: AsyncSession
) -> None:
    url = f"/council/polls/{written.poll_id}/report"
    page = await officer.get(url)
    assert page.status_code == 200 and 'name="summary"' in page.text
    token_ = csrf_from(page.text)
    too_long = await officer.post(url, data={"csrf_token": token_, "summary": "x" * 10_001})
    assert too_long.status_code == 422 and 'id="summary-error"' in too_long.text
    saved = await officer.post(url, data={"csrf_token": token_, "summary": SUMMARY.replace("\n", "\r\n")})
    assert saved.status_code == 303
    assert "We will fix the lights first." in (await officer.get(url)).text
    entries = await audit_actions(db, "report.summary")
    assert len(entries) == 1 and entries[0]["after"]["summary"] == SUMMARY
    await officer.post(f"/api/polls/{written.poll_id}/official/comments/withhold-unreviewed")
    assert (await officer.post(f"/api/polls/{written.poll_id}/actions/review")).status_code == 200
    assert (await officer.post(f"/api/polls/{written.poll_id}/actions/publish")).status_code == 200
    late = await officer.post(url, data={"csrf_token": token_, "summary": "changed"})
    assert late.status_code == 409
    assert 'name="summary"' not in (await officer.get(url)).text


async def test_the_published_report_shows_themes_counts_and_only_published_quotes(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, written: Written
) -> None:
    numbers = await _prepare(officer, written)
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as public:
        assert (await public.get(f"/polls/{written.poll_id}/report")).status_code == 404  # not yet
        assert (await public.get(f"/polls/{written.poll_id}/report.pdf")).status_code == 404
        url = f"/council/polls/{written.poll_id}/report"
        token_ = csrf_from((await officer.get(url)).text)
        await officer.post(url, data={"csrf_token": token_, "summary": SUMMARY})
        preview = (await officer.get(f"/polls/{written.poll_id}/report")).text
        assert "Not published yet" in preview and NORTH[0] not in preview  # quotes wait for review
        api = f"/api/polls/{written.poll_id}/official/comments"
        for text in NORTH + SOUTH[:1] + SOUTH[2:4]:
            decided = await officer.put(f"{api}/{numbers[text]}", json={"decision": "published"})
            assert decided.status_code == 200
        await officer.post(f"{api}/withhold-unreviewed")  # SOUTH[1], quoted, was never reviewed
        assert (await officer.post(f"/api/polls/{written.poll_id}/actions/review")).status_code == 200
        assert (await officer.post(f"/api/polls/{written.poll_id}/actions/publish")).status_code == 200
        page = (await public.get(f"/polls/{written.poll_id}/report")).text
        pdf = await public.get(f"/polls/{written.poll_id}/report.pdf")
    assert (
        "Residents told us about dark paths and full bins." in page
        and "We will fix the lights first." in page
    )
    assert NORTH[0] in page and SOUTH[0] in page
    assert SOUTH[1] not in page and "Elm Road" not in page  # not published, withheld
    table = page.split('id="theme-table"')[1].split("</table>")[0]
    assert "Lighting</th>" in table and "=Litter</th>" in table
    assert table.index("=Litter") < table.index("Lighting")  # 3 responses each: by name
    assert "8 written responses were read" in page  # withheld ones are not counted
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 5000


async def test_responses_download_with_themes_and_without_the_withheld(
    client: httpx.AsyncClient, officer: httpx.AsyncClient, written: Written
) -> None:
    numbers = await _prepare(officer, written)
    url = f"/council/polls/{written.poll_id}/analysis/responses.csv"
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as analyst:
        await sign_in(analyst, *ANALYST)
        download = await analyst.get(url)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == 9 and all("Elm Road" not in r["text"] for r in rows)
    by_number = {int(r["response"]): r for r in rows}
    assert (
        by_number[numbers[NORTH[0]]]["themes"] == "Lighting"
        and by_number[numbers[NORTH[0]]]["quoted"] == "yes"
    )
    assert by_number[numbers[NORTH[3]]]["themes"] == "'=Litter"  # never a formula
    assert (
        by_number[numbers[SOUTH[2]]]["themes"] == ""
        and by_number[numbers[SOUTH[2]]]["review"] == "Not reviewed"
    )
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as anonymous:
        assert (await anonymous.get(url)).status_code in (401, 303)
