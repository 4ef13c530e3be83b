"""Opinion groups from agree / disagree / pass votes on statements, as Pol.is finds them: each
participant's votes projected onto two principal components, grouped by k-means (k from 2 to 5,
chosen by silhouette), then the statements each group agrees on more than the rest do, and the
statements every group agrees on.

Pure and CPU-bound (numpy and scikit-learn): callers on the event loop run it in a thread. The
same votes and seed give the same groups.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

AGREE, DISAGREE, PASS = 1, -1, 0
MIN_VOTES = 7  # Pol.is leaves out participants who voted on fewer statements
MIN_PARTICIPANTS = 10
MAX_GROUPS = 5
SILHOUETTE_SAMPLE = 2000
Z_90 = 1.2816  # one-sided 90%: Pol.is's test that a group really agrees


@dataclass(frozen=True)
class GroupView:
    size: int
    centre: tuple[float, float]
    agrees_on: list[tuple[int, float]]  # (statement index, share of the group agreeing), strongest first


@dataclass(frozen=True)
class OpinionGroups:
    participants: int  # those with enough votes to be placed
    points: list[tuple[float, float]]  # each placed participant's position, for the chart
    labels: list[int]  # each placed participant's group
    groups: list[GroupView]
    uniting: list[tuple[int, float]]  # statements every group agrees on, with the lowest share


def find(votes: np.ndarray, seed: int = 0, max_groups: int = MAX_GROUPS) -> OpinionGroups | None:
    """``votes``: participants × statements, 1 agree, -1 disagree, 0 pass, NaN not seen. None
    when too few participants voted on enough statements to find groups."""
    seen = ~np.isnan(votes)
    placed = seen.sum(axis=1) >= MIN_VOTES
    if placed.sum() < MIN_PARTICIPANTS or votes.shape[1] < 2:
        return None
    matrix, mask = votes[placed], seen[placed]
    # One thread for BLAS and OpenMP: on a busy server several threads fighting for two cores
    # run this ten times slower than one.
    with threadpool_limits(limits=1):
        points = _project(matrix, mask)
        labels, k = _cluster(points, seed, max_groups)
    groups = [_group(matrix, mask, labels, g, points) for g in range(k)]
    order = sorted(range(k), key=lambda g: -groups[g].size)
    relabel = np.empty(k, dtype=int)
    relabel[order] = np.arange(k)
    return OpinionGroups(
        participants=int(placed.sum()),
        points=[(round(float(x), 4), round(float(y), 4)) for x, y in points],
        labels=[int(g) for g in relabel[labels]],
        groups=[groups[g] for g in order],
        uniting=_uniting(matrix, mask, labels, k),
    )


def _project(matrix: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Two principal components of the votes, unseen votes filled with the statement's mean; a
    participant who saw few statements is pushed out from the centre as Pol.is does, so sparse
    voters do not all bunch in the middle."""
    filled = np.where(mask, matrix, 0.0)
    means = filled.sum(axis=0) / np.maximum(mask.sum(axis=0), 1)
    centred = np.where(mask, matrix, means) - means
    centred -= centred.mean(axis=0)
    # The top two eigenvectors of the statements' covariance: the same axes as an SVD of the
    # matrix, at a fraction of the cost when participants far outnumber statements.
    _, vectors = np.linalg.eigh(centred.T @ centred)
    points: np.ndarray = centred @ vectors[:, [-1, -2]]
    scale = np.sqrt(matrix.shape[1] / np.maximum(mask.sum(axis=1), 1))
    scaled: np.ndarray = points * scale[:, None]
    return scaled


def _cluster(points: np.ndarray, seed: int, max_groups: int) -> tuple[np.ndarray, int]:
    best: tuple[float, np.ndarray, int] | None = None
    for k in range(2, max(2, min(max_groups, len(points) - 1)) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(points)
        if len(set(labels.tolist())) < 2:
            continue
        sample = min(SILHOUETTE_SAMPLE, len(points))
        score = float(silhouette_score(points, labels, sample_size=sample, random_state=seed))
        if best is None or score > best[0]:
            best = (score, labels, k)
    if best is None:
        return np.zeros(len(points), dtype=int), 1
    return best[1], best[2]


def _agreement(matrix: np.ndarray, mask: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per statement: the (smoothed) share of ``rows`` agreeing, and how many of them saw it."""
    agrees = ((matrix[rows] == AGREE) & mask[rows]).sum(axis=0)
    seen = mask[rows].sum(axis=0)
    return (agrees + 1) / (seen + 2), seen


def _group(matrix: np.ndarray, mask: np.ndarray, labels: np.ndarray, g: int, points: np.ndarray) -> GroupView:
    inside, outside = labels == g, labels != g
    share, seen = _agreement(matrix, mask, inside)
    others, _ = _agreement(matrix, mask, outside)
    # Statements the group agrees on (significantly more than half) and more than the rest do.
    z = (share - 0.5) / np.sqrt(0.25 / np.maximum(seen, 1))
    chosen = np.flatnonzero((z > Z_90) & (share > others))
    ranked = chosen[np.argsort(-(share[chosen] / others[chosen]), kind="stable")][:5]
    centre = points[inside].mean(axis=0)
    return GroupView(
        size=int(inside.sum()),
        centre=(round(float(centre[0]), 4), round(float(centre[1]), 4)),
        agrees_on=[(int(s), round(float(share[s]), 4)) for s in ranked],
    )


def _uniting(matrix: np.ndarray, mask: np.ndarray, labels: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Statements that more than 60% of every group agree with, most widely agreed first."""
    shares = np.vstack([_agreement(matrix, mask, labels == g)[0] for g in range(k)])
    lowest = shares.min(axis=0)
    found = np.flatnonzero(lowest > 0.6)
    return [(int(s), round(float(lowest[s]), 4)) for s in found[np.argsort(-lowest[found], kind="stable")]]


def matrix(ballots: Sequence[dict[str, str]], statements: Sequence[int]) -> np.ndarray:
    """The vote matrix from each participant's {statement id: "agree" | "disagree" | "pass"}."""
    column = {s: i for i, s in enumerate(statements)}
    out = np.full((len(ballots), len(statements)), math.nan)
    value = {"agree": AGREE, "disagree": DISAGREE, "pass": PASS}
    for row, votes in enumerate(ballots):
        for statement, vote in votes.items():
            if int(statement) in column and vote in value:
                out[row, column[int(statement)]] = value[vote]
    return out
