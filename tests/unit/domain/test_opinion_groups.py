"""Opinion groups from statement votes, as Pol.is finds them: planted camps come back as groups,
each group's own statements and the statements uniting every group are found, and too few
votes give no groups rather than made-up ones."""

from __future__ import annotations

import math

import numpy as np

from polls.domain import opinion_groups


def _two_camps(per_camp: int = 40) -> np.ndarray:
    """Statements 0-1: everyone agrees; 2-4: camp A agrees, B disagrees; 5-7: the other way."""
    rng = np.random.default_rng(7)
    rows = []
    for camp in (0, 1):
        for _ in range(per_camp):
            row = [1.0, 1.0] + [1.0 if camp == 0 else -1.0] * 3 + [-1.0 if camp == 0 else 1.0] * 3
            flips = rng.random(8) < 0.05
            rows.append([-v if f and i >= 2 else v for i, (v, f) in enumerate(zip(row, flips, strict=True))])
    return np.array(rows)


def test_planted_camps_come_back_as_groups_with_their_statements() -> None:
    found = opinion_groups.find(_two_camps())
    assert found is not None and len(found.groups) == 2
    assert found.participants == 80 and sorted(g.size for g in found.groups) == [40, 40]
    labels = np.array(found.labels)
    assert len(set(labels[:40])) == 1 and len(set(labels[40:])) == 1 and labels[0] != labels[40]
    first = found.groups[labels[0]]
    assert {s for s, _ in first.agrees_on} == {2, 3, 4}
    assert {s for s, _ in found.uniting} == {0, 1}
    assert len(found.points) == 80


def test_the_same_votes_give_the_same_groups() -> None:
    assert opinion_groups.find(_two_camps()) == opinion_groups.find(_two_camps())


def test_participants_with_few_votes_are_left_out_and_too_few_give_no_groups() -> None:
    votes = _two_camps()
    votes[:, 1:] = np.nan  # one vote each: nobody can be placed
    assert opinion_groups.find(votes) is None
    sparse = _two_camps()
    sparse[:5, 2:] = np.nan
    found = opinion_groups.find(sparse)
    assert found is not None and found.participants == 75


def test_the_vote_matrix_reads_each_participants_votes_by_statement() -> None:
    matrix = opinion_groups.matrix(
        [{"11": "agree", "12": "pass"}, {"12": "disagree", "99": "agree"}], [11, 12]
    )
    assert matrix[0, 0] == 1 and matrix[0, 1] == 0 and matrix[1, 1] == -1 and math.isnan(matrix[1, 0])
