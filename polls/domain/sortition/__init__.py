"""Selecting a citizens' jury by lot: quotas, the fairest (leximin) panel lottery, the verifiable draw.

Reading the pool: ``csv_files``. Grouping interchangeable people: ``groups``. The lottery:
``leximin`` (with ``relaxed``, ``decompose``, ``column_generation``, ``panels``), ``relaxation``
when the quotas cannot all be met. Publishing and drawing: ``lottery``, ``seed``, ``draw``.
"""

from polls.domain.sortition.csv_files import read_categories, read_people
from polls.domain.sortition.draw import DrawRecord, draw, read_draw, replacement, verify
from polls.domain.sortition.groups import Groups, group_pool
from polls.domain.sortition.leximin import Distribution, SolveProgress, fairest_lottery
from polls.domain.sortition.lottery import Lottery, make_lottery, read_lottery, unfair_probabilities
from polls.domain.sortition.pool import Person, Pool, Quota, Quotas
from polls.domain.sortition.seed import commitment, new_seed

__all__ = [
    "Distribution",
    "DrawRecord",
    "Groups",
    "Lottery",
    "Person",
    "Pool",
    "Quota",
    "Quotas",
    "SolveProgress",
    "commitment",
    "draw",
    "fairest_lottery",
    "group_pool",
    "make_lottery",
    "new_seed",
    "read_categories",
    "read_draw",
    "read_lottery",
    "read_people",
    "replacement",
    "unfair_probabilities",
    "verify",
]
