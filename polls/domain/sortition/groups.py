"""People the lottery cannot tell apart, grouped: this is what makes large pools fast.

Two people with the same features are interchangeable for every quota, so the leximin lottery gives
them the same probability (the leximin probability vector is unique, hence symmetric). The solver
therefore works with groups of identical people and panels that say how many to take from each
group; which people of a group sit on the panel is settled by the draw. A person who shares a
household with another pool member is not interchangeable when households are kept apart, so such
a person is a group of one and the household becomes a constraint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from polls.domain.sortition.pool import Pool, Quotas


@dataclass(frozen=True)
class Group:
    features: tuple[str, ...]
    ids: tuple[str, ...]  # sorted

    @property
    def size(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Groups:
    quotas: Quotas
    groups: tuple[Group, ...]  # canonical order: by smallest id
    households: tuple[tuple[int, ...], ...] = ()  # groups that share a household; at most one may sit

    def __len__(self) -> int:
        return len(self.groups)

    @cached_property
    def sizes(self) -> tuple[int, ...]:
        return tuple(g.size for g in self.groups)

    @cached_property
    def people(self) -> int:
        return sum(self.sizes)

    @cached_property
    def having(self) -> tuple[tuple[int, ...], ...]:
        """For each quota (in ``quotas.quotas`` order), the groups whose people have its feature."""
        position = {c: i for i, c in enumerate(self.quotas.categories)}
        return tuple(
            tuple(
                g for g, group in enumerate(self.groups) if group.features[position[q.category]] == q.feature
            )
            for q in self.quotas.quotas
        )

    def problems(self, panel: tuple[int, ...], size: int) -> list[str]:
        """Why a panel is not a valid one (empty when it is)."""
        found = []
        if len(panel) != len(self.groups):
            return [f"the panel has {len(panel)} group counts, the pool has {len(self.groups)} groups"]
        if sum(panel) != size:
            found.append(f"the panel has {sum(panel)} people, not {size}")
        found += [
            f"{n} people taken from a group of {s}"
            for n, s in zip(panel, self.sizes, strict=True)
            if not 0 <= n <= s
        ]
        for quota, groups in zip(self.quotas.quotas, self.having, strict=True):
            n = sum(panel[g] for g in groups)
            if not quota.min <= n <= quota.max:
                found.append(
                    f"{n} people with {quota.category} '{quota.feature}' (quota {quota.min}-{quota.max})"
                )
        found += [
            f"{sum(panel[g] for g in h)} people from one household"
            for h in self.households
            if sum(panel[g] for g in h) > 1
        ]
        return found


def group_pool(pool: Pool, *, households: bool) -> Groups:
    """Group identical people; with ``households``, people sharing one stay apart as groups of one."""
    shared = {i for ids in pool.shared_households() for i in ids} if households else set()
    by_features: dict[tuple[str, ...], list[str]] = {}
    alone: list[Group] = []
    for person in pool.people:
        if person.id in shared:
            alone.append(Group(person.features, (person.id,)))
        else:
            by_features.setdefault(person.features, []).append(person.id)
    groups = alone + [Group(features, tuple(sorted(ids))) for features, ids in by_features.items()]
    groups.sort(key=lambda g: g.ids[0])
    index = {g.ids[0]: i for i, g in enumerate(groups)}
    kept_apart = (
        tuple(tuple(sorted(index[i] for i in ids)) for ids in pool.shared_households()) if households else ()
    )
    return Groups(pool.quotas, tuple(groups), tuple(sorted(kept_apart)))
