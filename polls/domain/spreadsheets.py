"""Cells for CSV downloads that a spreadsheet program opens as text, never as a formula.

Excel, LibreOffice and Google Sheets treat a cell starting with ``=``, ``+``, ``-`` or ``@`` as a
formula (some skip a leading tab or carriage return first), so a pool id or a title typed by
someone outside the council could run a formula, or fetch a URL, on the computer of the officer
who opens the file. Such cells get a leading apostrophe, which the programs show as text.
"""

from __future__ import annotations

from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = TypeVar("Cell")


def spreadsheet_safe(cell: Cell) -> Cell | str:
    """The cell as written to a downloaded CSV; anything but text is left as it is."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
