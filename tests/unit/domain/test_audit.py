"""The audit hash chain: every entry commits to the one before, so any edit, gap or reorder shows."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from polls.domain.audit import GENESIS, AuditRecord, BrokenLink, chain_hash, verify_chain

Link = tuple[AuditRecord, str, str]
EDITED = "content does not match its hash (edited)"
UNLINKED = "does not point at the previous entry's hash"


def record(seq: int = 1, **changes: Any) -> AuditRecord:
    fields: dict[str, Any] = {
        "seq": seq,
        "at": "2026-03-01T12:00:00+00:00",
        "actor": "officer@northshire.example",
        "pilot_id": 1,
        "action": "poll.open",
        "target": "poll:7",
        "before": {"status": "scheduled"},
        "after": {"status": "open"},
    }
    return AuditRecord(**{**fields, **changes})


def chain(records: list[AuditRecord], genesis: str = GENESIS) -> list[Link]:
    links = []
    prev = genesis
    for rec in records:
        digest = chain_hash(prev, rec)
        links.append((rec, prev, digest))
        prev = digest
    return links


def numbered(bodies: list[dict[str, Any]]) -> list[AuditRecord]:
    return [AuditRecord(seq=i, **body) for i, body in enumerate(bodies, start=1)]


# chain_hash


def test_chain_hash_is_a_sha256_hex_digest() -> None:
    digest = chain_hash(GENESIS, record())
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


def test_chain_hash_is_the_same_for_the_same_record_and_previous_hash() -> None:
    assert chain_hash(GENESIS, record()) == chain_hash(GENESIS, record())


def test_chain_hash_depends_on_the_previous_hash() -> None:
    assert chain_hash(GENESIS, record()) != chain_hash("f" * 64, record())


def test_chain_hash_ignores_the_order_of_keys_in_snapshots() -> None:
    one = record(before={"title": "Parks", "status": "draft"})
    other = record(before={"status": "draft", "title": "Parks"})
    assert chain_hash(GENESIS, one) == chain_hash(GENESIS, other)


def test_chain_hash_tells_a_number_from_its_text() -> None:
    assert chain_hash(GENESIS, record(after=7)) != chain_hash(GENESIS, record(after="7"))


def test_chain_hash_handles_text_beyond_ascii() -> None:
    welsh = record(target="area:Ynys Môn", after={"name": "Ŵyr"})
    assert chain_hash(GENESIS, welsh) != chain_hash(
        GENESIS, record(target="area:Ynys Mon", after={"name": "Wyr"})
    )


# verify_chain, by example


def test_empty_log_verifies() -> None:
    assert verify_chain([]) == (0, None)


def test_intact_chain_verifies_every_entry() -> None:
    links = chain([record(1), record(2, action="poll.close"), record(3, action="poll.review")])
    assert verify_chain(links) == (3, None)


def test_first_entry_must_point_at_the_genesis_hash() -> None:
    links = chain([record(1), record(2)], genesis="1" * 64)
    assert verify_chain(links) == (0, BrokenLink(1, UNLINKED))


def test_log_must_start_at_entry_one() -> None:
    links = chain([record(2), record(3)])
    assert verify_chain(links) == (0, BrokenLink(2, "expected entry 1, found 2"))


def test_edited_entry_is_reported_with_the_entries_before_it_counted_good() -> None:
    links = chain([record(1), record(2), record(3)])
    rec, prev, digest = links[1]
    links[1] = (dataclasses.replace(rec, actor="intruder@example.org"), prev, digest)
    assert verify_chain(links) == (1, BrokenLink(2, EDITED))


def test_rehashing_an_edited_entry_breaks_the_link_from_the_next_one() -> None:
    links = chain([record(1), record(2), record(3)])
    rec, prev, _ = links[1]
    forged = dataclasses.replace(rec, after={"status": "published"})
    links[1] = (forged, prev, chain_hash(prev, forged))
    assert verify_chain(links) == (2, BrokenLink(3, UNLINKED))


def test_missing_entry_is_reported_where_the_numbering_jumps() -> None:
    links = chain([record(1), record(2), record(3), record(4)])
    del links[1]
    assert verify_chain(links) == (1, BrokenLink(3, "expected entry 2, found 3"))


def test_dropping_the_newest_entry_is_invisible_to_the_chain_alone() -> None:
    # The store also compares the head row with the last entry to catch this.
    links = chain([record(1), record(2), record(3)])
    assert verify_chain(links[:-1]) == (2, None)


def test_verify_chain_reads_a_generator_once() -> None:
    links = chain([record(1), record(2)])
    assert verify_chain(link for link in links) == (2, None)


# verify_chain, as properties over random logs

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=5,
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "at": st.datetimes().map(lambda d: d.isoformat() + "+00:00"),
    "actor": st.sampled_from(["system:scheduler", "officer@northshire.example"]) | st.text(max_size=20),
    "pilot_id": st.none() | st.integers(min_value=1, max_value=10**6),
    "action": st.sampled_from(["pilot.create", "area.import", "poll.open", "poll.close", "staff.grant"]),
    "target": st.text(max_size=30),
    "before": json_values,
    "after": json_values,
}
bodies = st.fixed_dictionaries(FIELD_VALUES)
logs = st.lists(bodies, min_size=1, max_size=6).map(numbered)
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@settings(max_examples=100, deadline=None)
@given(logs)
def test_any_honestly_built_chain_verifies(records: list[AuditRecord]) -> None:
    assert verify_chain(chain(records)) == (len(records), None)


@settings(max_examples=150, deadline=None)
@given(records=logs, data=st.data())
def test_changing_any_field_of_any_entry_is_reported_at_that_entry(
    records: list[AuditRecord], data: st.DataObject
) -> None:
    links = chain(records)
    index = data.draw(st.integers(min_value=0, max_value=len(links) - 1), label="index")
    name = data.draw(st.sampled_from([*FIELD_VALUES, "prev_hash", "hash"]), label="field")
    rec, prev, digest = links[index]
    if name == "prev_hash":
        new_prev = data.draw(hashes, label="value")
        assume(new_prev != prev)
        links[index] = (rec, new_prev, digest)
        reason = UNLINKED
    elif name == "hash":
        new_digest = data.draw(hashes, label="value")
        assume(new_digest != digest)
        links[index] = (rec, prev, new_digest)
        reason = EDITED
    else:
        value = data.draw(FIELD_VALUES[name], label="value")
        assume(value != getattr(rec, name))
        links[index] = (dataclasses.replace(rec, **{name: value}), prev, digest)
        reason = EDITED
    assert verify_chain(links) == (index, BrokenLink(rec.seq, reason))


@settings(max_examples=100, deadline=None)
@given(records=logs, data=st.data())
def test_renumbering_any_entry_is_reported_at_that_position(
    records: list[AuditRecord], data: st.DataObject
) -> None:
    links = chain(records)
    index = data.draw(st.integers(min_value=0, max_value=len(links) - 1), label="index")
    rec, prev, digest = links[index]
    new_seq = data.draw(st.integers(min_value=-5, max_value=20).filter(lambda s: s != rec.seq), label="seq")
    links[index] = (dataclasses.replace(rec, seq=new_seq), prev, digest)
    assert verify_chain(links) == (index, BrokenLink(new_seq, f"expected entry {rec.seq}, found {new_seq}"))


@settings(max_examples=100, deadline=None)
@given(records=st.lists(bodies, min_size=2, max_size=6).map(numbered), data=st.data())
def test_dropping_any_entry_but_the_newest_is_reported_where_it_was(
    records: list[AuditRecord], data: st.DataObject
) -> None:
    links = chain(records)
    index = data.draw(st.integers(min_value=0, max_value=len(links) - 2), label="index")
    del links[index]
    missing, found = index + 1, index + 2
    assert verify_chain(links) == (index, BrokenLink(found, f"expected entry {missing}, found {found}"))


@settings(max_examples=100, deadline=None)
@given(records=st.lists(bodies, min_size=2, max_size=6).map(numbered), data=st.data())
def test_swapping_any_two_entries_is_reported_at_the_earlier_one(
    records: list[AuditRecord], data: st.DataObject
) -> None:
    links = chain(records)
    first = data.draw(st.integers(min_value=0, max_value=len(links) - 2), label="first")
    second = data.draw(st.integers(min_value=first + 1, max_value=len(links) - 1), label="second")
    links[first], links[second] = links[second], links[first]
    found = links[first][0].seq
    assert verify_chain(links) == (first, BrokenLink(found, f"expected entry {first + 1}, found {found}"))
