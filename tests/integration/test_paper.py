"""Poll officers enter paper ballots; a code counts once across online and paper."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.ballots import OptionDef, PollDef, QuestionDef
from polls.domain.codes import format_short_code
from polls.domain.paper import parse_paper_csv
from polls.domain.questions import QuestionKind
from polls.store.models import Ballot
from tests.conftest import count
from tests.factories import csrf_from
from tests.voting_setup import Setup, token, vote


@pytest.fixture
async def officer_pages(officer: httpx.AsyncClient, voting: Setup) -> httpx.AsyncClient:
    """The officer's client (signed in by the voting set-up), used through the pages."""
    return officer


async def test_one_paper_ballot_is_entered_and_tagged_paper(
    officer_pages: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    url = f"/council/polls/{voting.poll['id']}/paper"
    page = await officer_pages.get(url)
    data = {
        "csrf_token": csrf_from(page.text),
        "code": format_short_code(voting.codes["north"][0].short_code),
        f"q{voting.q['single']['id']}": str(voting.option("single", 0)),
        f"q{voting.q['scale']['id']}": "3",
    }
    response = await officer_pages.post(url, data=data)
    assert response.status_code == 201, response.text
    assert 'id="paper-entered"' in response.text
    channel = (await db.execute(select(Ballot.channel))).scalar_one()
    assert channel == "paper"


async def test_a_code_used_online_cannot_vote_on_paper(
    officer_pages: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    issued = voting.codes["north"][1]
    assert (
        await vote(officer_pages, voting.poll["id"], token(issued), voting.full_ballot())
    ).status_code == 201
    url = f"/council/polls/{voting.poll['id']}/paper"
    page = await officer_pages.get(url)
    response = await officer_pages.post(
        url,
        data={
            "csrf_token": csrf_from(page.text),
            "code": issued.short_code,
            f"q{voting.q['scale']['id']}": "1",
        },
    )
    assert response.status_code == 409
    assert "already been used" in response.text
    assert await count(db, Ballot) == 1


async def test_a_code_used_on_paper_cannot_vote_online(
    officer_pages: httpx.AsyncClient, voting: Setup
) -> None:
    issued = voting.codes["north"][2]
    url = f"/council/polls/{voting.poll['id']}/paper"
    page = await officer_pages.get(url)
    await officer_pages.post(
        url,
        data={
            "csrf_token": csrf_from(page.text),
            "code": issued.short_code,
            f"q{voting.q['scale']['id']}": "2",
        },
    )
    online = await vote(officer_pages, voting.poll["id"], token(issued), voting.full_ballot())
    assert online.json()["code"] == "code_already_used"


async def test_csv_of_counted_ballots_is_all_checked_before_anything_is_entered(
    officer_pages: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    url = f"/council/polls/{voting.poll['id']}/paper"
    single, ranked = voting.q["single"], voting.q["ranked"]
    codes = voting.codes["north"]
    bad = (
        f"code,{single['title']},q{ranked['id']}\n"
        f"{codes[3].short_code},North,A > C\n"
        f"{codes[4].short_code},West,\n"
    )
    page = await officer_pages.get(url)
    response = await officer_pages.post(
        url + "/upload",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": ("count.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 422
    assert "Line 3" in response.text and "West" in response.text
    assert await count(db, Ballot) == 0
    good = bad.replace(",West,", ",South,")
    response = await officer_pages.post(
        url + "/upload",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": ("count.csv", good.encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert 'id="paper-entered-count">2<' in response.text
    assert await count(db, Ballot) == 2


def test_paper_csv_reads_labels_rankings_and_numbers() -> None:
    poll = PollDef(
        id=1,
        pilot_id=1,
        area_ids=frozenset(),
        questions=(
            QuestionDef(
                1, QuestionKind.RANKED, "Rank", {"seats": 1}, (OptionDef(10, "A"), OptionDef(11, "B"))
            ),
            QuestionDef(2, QuestionKind.SCALE, "How much", {"scale_min": 1, "scale_max": 5}),
            QuestionDef(
                3,
                QuestionKind.MULTIPLE,
                "Which",
                {"min_choices": 0, "max_choices": 2},
                (OptionDef(20, "Bus"), OptionDef(21, "Bike")),
            ),
        ),
    )
    rows, problems = parse_paper_csv(poll, "code,q1,How much,which\nC1,b > a,4,bus; BIKE\nC2,,x,\n")
    assert [r.answers for r in rows] == [{"1": [11, 10], "2": 4, "3": [20, 21]}]
    assert [(p.line, "number" in p.message) for p in problems] == [(3, True)]
    _, problems = parse_paper_csv(poll, "code,Mystery\nC1,x\n")
    assert problems[0].message.startswith("Columns that match no question")


async def test_csv_with_a_code_from_another_area_enters_nothing(
    officer_pages: httpx.AsyncClient, voting: Setup, db: AsyncSession
) -> None:
    url = f"/council/polls/{voting.poll['id']}/paper"
    single = voting.q["single"]
    csv = (
        f"code,q{single['id']}\n"
        f"{voting.codes['north'][0].short_code},North\n"
        f"{voting.codes['east'][0].short_code},South\n"
    )
    page = await officer_pages.get(url)
    response = await officer_pages.post(
        url + "/upload",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": ("c.csv", csv.encode(), "text/csv")},
    )
    assert response.status_code == 422
    assert "Line 3" in response.text
    assert await count(db, Ballot) == 0
