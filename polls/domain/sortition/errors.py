"""What can go wrong in selection, drawn once as a tree.

SortitionError        (422) base; carries a machine-readable ``code``
├── PoolFileError           a people or categories CSV is malformed; names the file and line
├── QuotasInfeasible        no panel meets every quota; carries the relaxation report
├── LotteryFileError        a published lottery file (or draw record) is malformed or inconsistent
└── SeedMismatch            a seed whose SHA-256 is not the commitment published with the lottery
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from polls.errors import PollsError

if TYPE_CHECKING:
    from polls.domain.sortition.relaxation import InfeasibilityReport


class SortitionError(PollsError):
    status = 422
    code = "sortition_failed"


class PoolFileError(SortitionError):
    code = "pool_file_invalid"

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {problem}")
        self.file, self.line, self.problem = file, line, problem


class QuotasInfeasible(SortitionError):
    code = "quotas_infeasible"

    def __init__(self, report: InfeasibilityReport) -> None:
        super().__init__(report.describe())
        self.report = report


class LotteryFileError(SortitionError):
    code = "lottery_file_invalid"


class SeedMismatch(SortitionError):
    code = "seed_mismatch"
