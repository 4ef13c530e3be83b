"""The demo pilot tells the whole story: a published poll with ballots, official results that
recount exactly, the council's responses and follow-ups; seeding twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from polls import demo
from polls.demo import story
from polls.domain.ballot_files import read_published
from polls.domain.counting import official
from polls.domain.counting.results import as_json
from polls.settings import Settings
from polls.store.db import open_engine, sessions_for
from polls.store.models import Ballot, FollowUp, OfficialResult, Poll, QuestionResult


async def test_demo_seeds_a_published_poll_once_and_its_file_recounts_exactly(settings: Settings) -> None:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    sessions = sessions_for(engine)
    try:
        for _ in range(2):
            async with sessions.begin() as session:
                await demo.seed(session)
        async with sessions() as session:
            poll = (await session.execute(select(Poll).where(Poll.title == story.STORY_TITLE))).scalar_one()
            assert poll.status == "published"
            ballots = await session.scalar(
                select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)
            )
            assert ballots == story.STORY_BALLOTS
            result = (await session.execute(select(OfficialResult))).scalar_one()
            assert result.published_at is not None and result.ballots == story.STORY_BALLOTS
            stored = {
                q.question_id: (q.method, q.result, q.response)
                for q in (await session.scalars(select(QuestionResult))).all()
            }
            assert await session.scalar(select(func.count()).select_from(FollowUp)) == 2
    finally:
        await engine.dispose()
    methods = sorted(m for m, _, _ in stored.values() if m)
    assert methods == ["equal_shares", "instant_runoff", "scale"]
    assert sum(1 for _, _, response in stored.values() if response) == 3
    for item in read_published(result.ballot_file).questions:
        method, stored_result, _ = stored[item.question.id]
        if method is None:  # comments are read, not counted: the demo's officer published them all
            assert item.ballots == (("Please keep the library open too.", len(result.comments)),)
            continue
        assert item.method == method
        assert as_json(official.count(item.question, item.ballots, item.method)) == stored_result
