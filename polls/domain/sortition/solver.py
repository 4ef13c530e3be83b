"""HiGHS behind the few calls selection needs: a model built row by row, solved, read back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

INFINITY = highspy.kHighsInf
Numbers = Sequence[float] | npt.NDArray[np.float64]


@dataclass(frozen=True)
class Row:
    """``lower <= sum(values[i] * x[columns[i]]) <= upper``."""

    lower: float
    upper: float
    columns: Sequence[int]
    values: Sequence[float]


class SolverFailed(RuntimeError):
    """HiGHS stopped without an answer: a bug or a numerical breakdown, never bad input."""


def new_model(
    costs: Numbers,
    lower: Numbers,
    upper: Numbers,
    rows: Sequence[Row],
    *,
    maximise: bool,
    integer: bool,
) -> highspy.Highs:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(costs), len(rows)
    lp.col_cost_ = np.asarray(costs, dtype=np.float64)
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.asarray([r.lower for r in rows], dtype=np.float64)
    lp.row_upper_ = np.asarray([r.upper for r in rows], dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(costs), len(rows)
    lp.a_matrix_.start_ = np.cumsum([0] + [len(r.columns) for r in rows], dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray([c for r in rows for c in r.columns], dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray([v for r in rows for v in r.values], dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * len(costs)
    model = highspy.Highs()  # type: ignore[no-untyped-call]
    model.setOptionValue("output_flag", False)
    # One thread: the solves are small and many, and the machine is shared.
    model.setOptionValue("threads", 1)
    _check(model.passModel(lp), "load the model")
    return model


def add_row(model: highspy.Highs, row: Row) -> None:
    columns = np.asarray(row.columns, dtype=np.int32)
    values = np.asarray(row.values, dtype=np.float64)
    _check(model.addRow(row.lower, row.upper, len(columns), columns, values), "add a row")


def solve(model: highspy.Highs) -> bool:
    """Solve; True if optimal, False if infeasible; anything else is a failure."""
    model.run()
    status = model.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return True
    if status == highspy.HighsModelStatus.kInfeasible:
        return False
    raise SolverFailed(f"HiGHS stopped with status {model.modelStatusToString(status)}")


def values(model: highspy.Highs) -> npt.NDArray[np.float64]:
    return np.asarray(model.getSolution().col_value, dtype=np.float64)


def row_duals(model: highspy.Highs) -> npt.NDArray[np.float64]:
    return np.asarray(model.getSolution().row_dual, dtype=np.float64)


def _check(status: highspy.HighsStatus, doing: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise SolverFailed(f"HiGHS could not {doing}")
