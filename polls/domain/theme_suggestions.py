"""Suggested themes: groups of similar responses and the phrases that mark each, found with
TF-IDF and non-negative matrix factorisation (scikit-learn), in English and Welsh.

Pure and CPU-bound: callers on the event loop run ``suggest`` in a thread. Nothing here changes a
record; a suggestion becomes a theme only when an officer accepts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from threadpoolctl import threadpool_limits

from polls.domain.welsh_stopwords import WELSH_STOP_WORDS

STOP_WORDS = sorted(ENGLISH_STOP_WORDS | WELSH_STOP_WORDS)
MIN_RESPONSES = 4
MAX_GROUPS = 20
DEFAULT_GROUPS = 8
KEY_PHRASES = 6


@dataclass(frozen=True)
class Suggestion:
    label: str  # the first key phrases, for the officer to keep or rename
    key_phrases: list[str]
    members: list[int]  # indexes into the texts given, strongest first


def suggest(texts: Sequence[str], groups: int = DEFAULT_GROUPS, seed: int = 0) -> list[Suggestion]:
    """Up to ``groups`` groups of the texts, largest first; none when there are too few texts
    or too few shared words to group them. The same texts and seed give the same groups."""
    if len(texts) < MIN_RESPONSES:
        return []
    vectoriser = TfidfVectorizer(
        stop_words=STOP_WORDS,
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.6,
        max_features=20_000,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[^\W\d_][\w'’]+\b",  # words of two letters or more, Welsh ŵ and ŷ too
        dtype=np.float32,
    )
    try:
        matrix = vectoriser.fit_transform(texts)
    except ValueError:  # nothing but stop words, or no word in two responses
        return []
    terms = vectoriser.get_feature_names_out()
    k = max(1, min(groups, MAX_GROUPS, matrix.shape[1], len(texts) // 2))
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=200, tol=1e-3)
    with threadpool_limits(limits=1):  # threads fighting for a busy server's cores only slow it
        weights = model.fit_transform(matrix)
    return _groups(weights, model.components_, terms)


def _groups(weights: np.ndarray, components: np.ndarray, terms: np.ndarray) -> list[Suggestion]:
    best = weights.argmax(axis=1)
    strength = weights.max(axis=1)
    out = []
    for group, component in enumerate(components):
        members = np.flatnonzero((best == group) & (strength > 0))
        if len(members) < 2:
            continue
        members = members[np.argsort(-strength[members], kind="stable")]
        phrases = _phrases(component, terms)
        out.append(Suggestion(", ".join(phrases[:2]), phrases, [int(i) for i in members]))
    return sorted(out, key=lambda s: (-len(s.members), s.label))


def _phrases(component: np.ndarray, terms: np.ndarray) -> list[str]:
    """The group's strongest terms, each word once (no "skate" beside "skate park")."""
    out: list[str] = []
    for index in np.argsort(-component):
        if component[index] <= 0 or len(out) == KEY_PHRASES:
            break
        term = str(terms[index])
        inside = [i for i, kept in enumerate(out) if kept in term.split()]
        if inside:  # a phrase beats its own word: "skate park" replaces "skate"
            out[inside[0]] = term
            out = [kept for i, kept in enumerate(out) if i not in inside[1:]]
        elif not any(term in kept.split() for kept in out):
            out.append(term)
    return out
