"""`polls bench analysis`: suggested themes for 10,000 written responses of about 60 words each
(generated: residents writing about one of a dozen local topics, in English and some in Welsh,
a third of them touching on a second topic, with everyday words around them), and how far the
groups found are the topics planted; then opinion groups for 5,000 participants voting on some
of 300 statements (three planted camps, and statements all of them agree with)."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from polls.domain import opinion_groups
from polls.domain.theme_suggestions import suggest

TARGETS = {"themes_seconds": 20.0, "opinion_seconds": 5.0}
CAMPS, UNITING = 3, 12

TOPICS = {
    "lighting": "street lights lighting dark night lamp unsafe walking evening bulbs path",
    "litter": "litter bins rubbish overflowing collection fly tipping waste recycling mess",
    "buses": "bus buses service timetable late cancelled route fares stop shelter",
    "parking": "parking cars pavement spaces permits drivers blocked double parked",
    "potholes": "potholes road surface repairs tarmac cracked damage tyres cyclists",
    "playground": "playground children swings slide equipment broken toddlers families",
    "library": "library books opening hours computers study quiet librarians reading",
    "trees": "trees planting shade green leaves branches woodland wildlife canopy",
    "speeding": "speeding traffic speed cameras humps limit twenty dangerous crossing",
    "housing": "housing homes affordable rent flats young families estate landlords",
    "parcio": "parcio ceir palmant lle ysgol bore gyrwyr ffordd traffig plant",
    "sbwriel": "sbwriel biniau ailgylchu casglu gwastraff strydoedd glan llanast",
}
EVERYDAY = (
    "really think would like better more council area local people week every time years "
    "always need please also good much since lot around near town street day thing way"
)
FILLER = "the and a to of in it is that for on we my our this was be at with have are"
WELSH_FILLER = "y yr a ac i o yn mae ar am ein fy bod ond hefyd gyda"


def responses(n: int, seed: int = 2024, words: int = 60) -> tuple[list[str], list[str]]:
    """``n`` responses of about ``words`` words and the topic each was written about."""
    rng = random.Random(seed)
    topics, everyday = list(TOPICS), EVERYDAY.split()
    texts, truth = [], []
    for _ in range(n):
        topic = rng.choice(topics)
        own = TOPICS[topic].split()
        if rng.random() < 0.3:  # a word in four about something else
            own = own * 3 + TOPICS[rng.choice(topics)].split()
        filler = (WELSH_FILLER if topic in ("parcio", "sbwriel") else FILLER).split()
        length = rng.randint(words - 15, words + 15)
        chosen = [rng.choice(own) for _ in range(length // 4)]
        chosen += [rng.choice(everyday) for _ in range(length // 4)]
        chosen += [rng.choice(filler) for _ in range(length - 2 * (length // 4))]
        rng.shuffle(chosen)
        texts.append(" ".join(chosen))
        truth.append(topic)
    return texts, truth


def _purity(members: list[list[int]], truth: list[str]) -> float:
    """The share of grouped responses whose group's most common topic is their own."""
    grouped = sum(len(m) for m in members)
    right = sum(Counter(truth[i] for i in m).most_common(1)[0][1] for m in members if m)
    return right / grouped if grouped else 0.0


def votes(participants: int, statements: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray, set[int]]:
    """A vote matrix (NaN: not seen) with three planted camps, each participant seeing 30 to 80
    statements; the first UNITING statements most of every camp agrees with, and others may
    happen to be agreed by every camp; those with every camp leaning over 60% are returned."""
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, CAMPS, participants)
    leaning = rng.uniform(0.1, 0.9, (CAMPS, statements))
    leaning[:, :UNITING] = rng.uniform(0.8, 0.95, (CAMPS, UNITING))
    agree = rng.random((participants, statements)) < leaning[camp]
    passed = rng.random((participants, statements)) < 0.1
    out = np.where(agree, 1.0, -1.0)
    out[passed] = 0.0
    seen = rng.random((participants, statements)) < rng.uniform(30, 80, participants)[:, None] / statements
    out[~seen] = np.nan
    uniting = {int(i) for i in np.flatnonzero(leaning.min(axis=0) > 0.6)}
    return out, camp, uniting


def run(
    count: int = 10_000, groups: int = len(TOPICS), participants: int = 5000, statements: int = 300
) -> dict[str, Any]:
    texts, truth = responses(count)
    started = time.perf_counter()
    found = suggest(texts, groups=groups)
    seconds = time.perf_counter() - started
    members = [s.members for s in found]
    figures = {
        "responses": count,
        "mean_words": round(sum(len(t.split()) for t in texts) / count, 1),
        "groups_asked": groups,
        "groups_found": len(found),
        "grouped": sum(len(m) for m in members),
        "purity": round(_purity(members, truth), 4),
        "themes_seconds": round(seconds, 3),
        "themes_meets_target": seconds < TARGETS["themes_seconds"],
    }
    return figures | _opinions(participants, statements)


def _opinions(participants: int, statements: int) -> dict[str, Any]:
    matrix, camp, truly_uniting = votes(participants, statements)
    started = time.perf_counter()
    found = opinion_groups.find(matrix)
    seconds = time.perf_counter() - started
    assert found is not None
    placed = (~np.isnan(matrix)).sum(axis=1) >= opinion_groups.MIN_VOTES
    uniting = {s for s, _ in found.uniting}
    return {
        "participants": participants,
        "statements": statements,
        "mean_votes": round(float((~np.isnan(matrix)).sum(axis=1).mean()), 1),
        "opinion_groups_found": len(found.groups),
        "opinion_groups_planted": CAMPS,
        "adjusted_rand": round(float(adjusted_rand_score(camp[placed], found.labels)), 4),
        "uniting_found": len(uniting),
        "uniting_true": len(truly_uniting),
        "uniting_true_found": len(uniting & truly_uniting),
        "uniting_planted_found": len(uniting & set(range(UNITING))),
        "uniting_planted": UNITING,
        "opinion_seconds": round(seconds, 3),
        "opinion_meets_target": seconds < TARGETS["opinion_seconds"],
    }


def report(figures: dict[str, Any]) -> str:
    f = figures
    verdict = "met" if f["themes_meets_target"] else "MISSED"
    lines = [
        f"suggested themes: {f['responses']:,} responses of {f['mean_words']} words on average, "
        f"{f['groups_found']} groups of {f['groups_asked']} asked, {f['grouped']:,} grouped, "
        f"purity {f['purity']:.1%}",
        f"  {f['themes_seconds']:.2f} s  {verdict} (< {TARGETS['themes_seconds']:.0f} s)",
        f"opinion groups: {f['participants']:,} participants, {f['statements']} statements, "
        f"{f['mean_votes']} votes each on average; {f['opinion_groups_found']} groups found of "
        f"{f['opinion_groups_planted']} planted (adjusted Rand {f['adjusted_rand']:.3f}); "
        f"{f['uniting_planted_found']} of {f['uniting_planted']} planted uniting statements found; "
        f"{f['uniting_true_found']} of the {f['uniting_true']} every camp leans to, "
        f"{f['uniting_found']} in all",
        f"  {f['opinion_seconds']:.2f} s  {'met' if f['opinion_meets_target'] else 'MISSED'} "
        f"(< {TARGETS['opinion_seconds']:.0f} s)",
        json.dumps(figures),
    ]
    return "\n".join(lines)
