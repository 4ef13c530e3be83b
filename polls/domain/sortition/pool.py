"""The recruitment pool and its quotas, as plain data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quota:
    """How many panel members must have ``feature`` of ``category`` (say age 16-29): ``min`` to ``max``."""

    category: str
    feature: str
    min: int
    max: int


@dataclass(frozen=True)
class Quotas:
    """Every quota, categories in the order the categories file lists them."""

    quotas: tuple[Quota, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.category for q in self.quotas))

    def features(self, category: str) -> tuple[str, ...]:
        return tuple(q.feature for q in self.quotas if q.category == category)

    def quota(self, category: str, feature: str) -> Quota:
        for q in self.quotas:
            if q.category == category and q.feature == feature:
                return q
        raise KeyError((category, feature))


@dataclass(frozen=True)
class Person:
    """One pool member: an opaque id, one feature per category (in ``Quotas.categories`` order)."""

    id: str
    features: tuple[str, ...]
    household: str | None = None  # a normalised address or household key; None: lives alone


@dataclass(frozen=True)
class Pool:
    people: tuple[Person, ...]
    quotas: Quotas

    def __len__(self) -> int:
        return len(self.people)

    def shared_households(self) -> list[tuple[str, ...]]:
        """Households with two or more pool members, each as its sorted ids, sorted by first id."""
        members: dict[str, list[str]] = {}
        for person in self.people:
            if person.household is not None:
                members.setdefault(person.household, []).append(person.id)
        return sorted(tuple(sorted(ids)) for ids in members.values() if len(ids) > 1)
