"""The published lottery and the verifiable draw: reproducible from the published inputs and the seed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter

import pytest

from polls.domain.sortition import (
    Lottery,
    Person,
    Pool,
    Quota,
    Quotas,
    commitment,
    draw,
    fairest_lottery,
    group_pool,
    make_lottery,
    read_draw,
    read_lottery,
    replacement,
    unfair_probabilities,
    verify,
)
from polls.domain.sortition.lottery import WEIGHT_TOTAL
from polls.domain.sortition.seed import Stream
from polls.errors import LotteryFileError, SeedMismatch

SEED = "5eed" * 16

# Ten people; p0 and p1 share a home, as do p4 and p5.
FEATURES = [
    ("f", "young"),
    ("f", "old"),
    ("f", "young"),
    ("f", "old"),
    ("m", "young"),
    ("m", "old"),
    ("m", "young"),
    ("m", "old"),
    ("m", "old"),
    ("f", "young"),
]
QUOTAS = Quotas(
    (Quota("sex", "f", 2, 2), Quota("sex", "m", 2, 2), Quota("age", "young", 1, 3), Quota("age", "old", 1, 3))
)


def make_pool(features: list[tuple[str, str]] = FEATURES, quotas: Quotas = QUOTAS) -> Pool:
    homes = {0: "A", 1: "A", 4: "B", 5: "B"}
    return Pool(tuple(Person(f"p{i}", f, homes.get(i)) for i, f in enumerate(features)), quotas)


@pytest.fixture(scope="module")
def lottery() -> Lottery:
    groups = group_pool(make_pool(), households=True)
    return make_lottery(fairest_lottery(groups, 4), households_apart=True, seed_sha256=commitment(SEED))


def test_the_stream_is_sha256_in_counter_mode_as_documented() -> None:
    seed, public = "correct horse", "dice: 4 2 6"
    key = b"polls sortition draw v1"
    key += len(seed).to_bytes(8, "big") + seed.encode() + len(public).to_bytes(8, "big") + public.encode()
    blocks = (
        hashlib.sha256(key + (0).to_bytes(8, "big")).digest()
        + hashlib.sha256(key + (1).to_bytes(8, "big")).digest()
    )
    words = [int.from_bytes(blocks[i : i + 8], "big") for i in range(0, 40, 8)]
    stream = Stream(seed, public)
    assert [stream.word() for _ in range(5)] == words
    # Pinned, so the algorithm can never change under a published draw.
    assert words[0] == 10779962912485349799


def test_below_and_shuffle_are_pinned() -> None:
    stream = Stream("correct horse")
    assert [stream.below(10) for _ in range(10)] == [3, 6, 0, 9, 9, 4, 9, 4, 6, 2]
    assert stream.shuffle([str(i) for i in range(10)]) == ["8", "9", "4", "3", "2", "6", "1", "7", "0", "5"]
    assert Stream("x").below(1) == 0
    with pytest.raises(ValueError):
        Stream("x").below(0)


def test_whole_number_weights_add_up_and_give_the_solver_probabilities(lottery: Lottery) -> None:
    assert sum(lottery.weights) == WEIGHT_TOTAL and min(lottery.weights) > 0
    assert list(lottery.panels) == sorted(lottery.panels)
    assert lottery.problems() == []
    probabilities = lottery.probabilities()
    assert sum(probabilities.values()) == 4  # exactly: fractions, not floats
    distribution = fairest_lottery(lottery.groups, 4)
    solver = distribution.probabilities()
    for g, group in enumerate(lottery.groups.groups):
        for person in group.ids:
            assert float(probabilities[person]) == pytest.approx(solver[g], abs=1e-9)


def test_the_fingerprint_is_sha256_of_the_files_canonical_essentials(lottery: Lottery) -> None:
    data = lottery.to_json()
    del data["probabilities"], data["lowest_probability"]  # follow from the rest
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert lottery.fingerprint() == hashlib.sha256(text.encode()).hexdigest()


def test_the_lottery_file_reads_back_the_same_whatever_its_order(lottery: Lottery) -> None:
    data = json.loads(json.dumps(lottery.to_json()))
    assert read_lottery(data) == lottery
    # Groups and panels listed in another order: the same lottery, the same fingerprint, the same draw.
    order = list(reversed(range(len(data["groups"]))))
    data["groups"] = [data["groups"][i] for i in order]
    renumber = {old: new for new, old in enumerate(order)}
    data["panels"] = [
        {"weight": p["weight"], "seats": [[renumber[g], n] for g, n in p["seats"]]}
        for p in reversed(data["panels"])
    ]
    shuffled = read_lottery(data)
    assert shuffled == lottery and shuffled.fingerprint() == lottery.fingerprint()
    assert draw(shuffled, SEED, reserves=3) == draw(lottery, SEED, reserves=3)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda d: d.update(format="other"), "not a lottery file"),
        (lambda d: d["probabilities"].update(p3=0.99), "published probabilities of 1 people (first 'p3')"),
        (lambda d: d["probabilities"].pop("p3"), "do not list exactly the pool"),
        (lambda d: d.update(seed_sha256="abc"), "not a SHA-256"),
        (lambda d: d.pop("panels"), "not one polls wrote"),
        (lambda d: d["groups"][0]["people"].append("p9"), "someone is in two groups"),
    ],
)
def test_a_malformed_or_edited_lottery_file_is_refused(lottery: Lottery, edit: object, says: str) -> None:
    data = json.loads(json.dumps(lottery.to_json()))
    edit(data)  # type: ignore[operator]
    with pytest.raises(LotteryFileError, match=says.replace("(", "\\(").replace(")", "\\)")):
        read_lottery(data)


def test_the_draw_is_reproducible_from_the_lottery_and_the_seed(lottery: Lottery) -> None:
    first = draw(lottery, SEED, reserves=4)
    again = draw(read_lottery(json.loads(json.dumps(lottery.to_json()))), SEED, reserves=4)
    assert first == again
    assert read_draw(json.loads(json.dumps(first.to_json()))) == first
    assert len(first.panel) == 4 and list(first.panel) == sorted(first.panel)
    assert lottery.groups.problems(_counts(lottery, first.panel), 4) == []


def test_a_seed_other_than_the_committed_one_is_refused(lottery: Lottery) -> None:
    with pytest.raises(SeedMismatch, match="not the one committed to"):
        draw(lottery, SEED + "0")


def test_public_randomness_changes_the_draw(lottery: Lottery) -> None:
    draws = {draw(lottery, SEED, reserves=6, public_randomness=f"dice {i}") for i in range(8)}
    assert len({(d.panel, d.reserves) for d in draws}) > 1


def test_panels_are_drawn_as_often_as_the_lottery_says(lottery: Lottery) -> None:
    seats: Counter[str] = Counter()
    runs = 3000
    for i in range(runs):
        seed = f"seed {i}"
        seats.update(draw(dataclasses.replace(lottery, seed_sha256=commitment(seed)), seed).panel)
    for person, probability in lottery.probabilities().items():
        spread = 4 * (float(probability) * (1 - float(probability)) / runs) ** 0.5 + 1e-9
        assert abs(seats[person] / runs - float(probability)) <= spread, person


def test_reserves_come_in_order_apart_from_the_panel_and_each_other(lottery: Lottery) -> None:
    record = draw(lottery, SEED, reserves=10)
    homes = {"p0": "A", "p1": "A", "p4": "B", "p5": "B"}
    assert not set(record.reserves) & set(record.panel)
    assert len(set(record.reserves)) == len(record.reserves)
    everyone = list(record.panel) + list(record.reserves)
    used = [homes[p] for p in everyone if p in homes]
    assert len(used) == len(set(used))  # nobody shares a home with a panel member or an earlier reserve
    assert len(record.reserves) == 10 - 4 - sum(
        1 for h in "AB" if h in used
    )  # the rest, household-permitting
    assert (
        draw(lottery, SEED, reserves=2).reserves == record.reserves[:2]
    )  # fewer reserves: the same first ones


def test_a_decliner_is_replaced_by_the_first_reserve_who_keeps_the_quotas(lottery: Lottery) -> None:
    record = draw(lottery, SEED, reserves=6)
    panel, features = list(record.panel), {f"p{i}": f for i, f in enumerate(FEATURES)}
    declined = panel[0]
    chosen = replacement(lottery, panel, declined, list(record.reserves))
    assert chosen is not None
    assert features[chosen][0] == features[declined][0]  # the sex quotas are exact: like for like
    earlier = record.reserves[: record.reserves.index(chosen)]
    assert all(features[r][0] != features[declined][0] for r in earlier)
    assert (
        replacement(
            lottery, panel, declined, [r for r in record.reserves if features[r][0] != features[declined][0]]
        )
        is None
    )


def test_an_honest_draw_verifies_with_and_without_the_pool(lottery: Lottery) -> None:
    record = draw(lottery, SEED, reserves=3)
    assert verify(lottery, SEED, record) == []
    assert verify(lottery, SEED, record, make_pool()) == []


def test_public_randomness_nobody_committed_to_fails_verification(lottery: Lottery) -> None:
    """Chosen at the draw, it could have been tried until the panel suited whoever knew the seed."""
    record = draw(lottery, SEED, reserves=3, public_randomness="dice 3 1 4")
    assert verify(lottery, SEED, record) == [
        "the draw used public randomness that was not committed to before the draw"
    ]


def test_any_change_to_seed_or_inputs_fails_verification(lottery: Lottery) -> None:
    record = draw(lottery, SEED, reserves=3)
    others = [p for p in lottery.probabilities() if p not in record.panel and p not in record.reserves]
    assert verify(lottery, SEED + "1", record)  # another seed
    assert verify(lottery, SEED, dataclasses.replace(record, public_randomness="x"))
    assert verify(lottery, SEED, dataclasses.replace(record, panel=(*record.panel[1:], others[0])))
    assert verify(lottery, SEED, dataclasses.replace(record, reserves=tuple(reversed(record.reserves))))
    assert verify(lottery, SEED, dataclasses.replace(record, lottery_sha256="0" * 64))
    # The lottery, the pool, the quotas.
    other_weights = dataclasses.replace(
        lottery, weights=(*lottery.weights[:-2], lottery.weights[-2] + 1, lottery.weights[-1] - 1)
    )
    assert verify(other_weights, SEED, record)
    moved = [("m", "young") if i == 2 else f for i, f in enumerate(FEATURES)]
    assert any("ids or features differ" in p for p in verify(lottery, SEED, record, make_pool(moved)))
    looser = Quotas((Quota("sex", "f", 1, 2), *QUOTAS.quotas[1:]))
    assert any("quotas" in p for p in verify(lottery, SEED, record, make_pool(quotas=looser)))
    apart = Pool(tuple(dataclasses.replace(p, household=None) for p in make_pool().people), QUOTAS)
    assert any("households" in p or "ids or features" in p for p in verify(lottery, SEED, record, apart))


def test_a_lottery_favouring_someone_draws_and_verifies_but_fails_the_recompute(lottery: Lottery) -> None:
    assert unfair_probabilities(lottery) == []
    # Move chance from the first panel to the last: still a valid lottery, no longer the fairest.
    moved = lottery.weights[0] // 2
    tilted = dataclasses.replace(
        lottery, weights=(lottery.weights[0] - moved, *lottery.weights[1:-1], lottery.weights[-1] + moved)
    )
    assert tilted.problems() == []
    record = draw(tilted, SEED)
    assert verify(tilted, SEED, record, make_pool()) == []
    (problem,) = unfair_probabilities(tilted)
    assert "do not have the fairest probability" in problem


def _counts(lottery: Lottery, panel: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(sum(p in panel for p in group.ids) for group in lottery.groups.groups)
