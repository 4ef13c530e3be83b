"""`polls bench close` on a small poll, on both databases: the scheduler's close counted every
ballot and question, wrote the ballot file, and the figures come last as one JSON line."""

from __future__ import annotations

import json
import os
import random

import pytest

from polls.bench import close, postgres
from polls.domain.ballots import OptionDef, PollDef, QuestionDef, check_ballot
from polls.domain.polls import NewPollSpec
from polls.domain.validation import parse


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_close_bench_counts_every_generated_ballot_and_reports_time_and_memory(database: str) -> None:
    if database == "postgresql" and not postgres.installed() and not os.environ.get("CI"):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    figures = close.run(ballots=600, database=database)
    assert json.loads(close.report(figures).splitlines()[-1]) == figures
    assert figures["database"] == database
    assert figures["counted_ballots"] == figures["ballots"] == 600
    assert figures["questions"] == 6 and figures["counted_questions"] == 5  # the comment is read
    assert 0 < figures["comments"] < 60  # about one ballot in fifty has a comment
    # a header, one line per answer to each counted question, the comments last
    assert (
        1 + 4 * 600 + figures["comments"] < figures["ballot_file_lines"] <= 1 + 5 * 600 + figures["comments"]
    )
    assert figures["close_seconds"] > 0
    assert figures["peak_memory_mb"] >= figures["start_memory_mb"] > 0
    assert figures["within_targets"] is True


def test_generated_ballots_pass_the_checks_a_cast_vote_passes() -> None:
    """Every answer is one a resident could have cast: check_ballot accepts it unchanged."""
    spec = parse(NewPollSpec, close.POLL)
    defs, questions = [], []
    for n, q in enumerate(spec.questions, start=1):
        options = tuple(OptionDef(n * 100 + i, o.label, o.cost) for i, o in enumerate(q.options))
        defs.append(QuestionDef(n, q.kind, q.title, q.settings(), options))
        questions.append(
            {
                "id": n,
                "kind": q.kind.value,
                "options": [o.id for o in options],
                "costs": [o.cost or 0 for o in options],
                "settings": q.settings(),
            }
        )
    poll = PollDef(1, 1, frozenset(), tuple(defs))
    rng = random.Random(1)
    for _ in range(500):
        ballot = close.answers(questions, rng)
        assert check_ballot(poll, ballot) == ballot
