"""Poll cards for issued voter codes: QR codes as SVG, the mail-merge CSV, the printable sheet."""

from __future__ import annotations

import csv
import html
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TextIO

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

from polls.domain.codes import ALPHABET, LENGTH, format_short_code
from polls.i18n import _, ngettext
from polls.tokens import VOTER_CODE, Tokens
from polls.web import TEMPLATES_DIR

QUIET_ZONE = 4  # modules of light margin the QR standard asks for
# segno otherwise scores all eight masks for each code (about 5 ms a code). Any mask gives a
# valid code that phones read, and a fixed one is what lets ShortLinkQr serve a whole batch.
MASK = 2
CSV_COLUMNS = ("reference", "area", "link", "short_code", "short_link", "qr_svg")
CARDS_PER_PAGE = 8  # 2 x 4 on A4

ERROR_LEVEL = "m"  # 15% of the code can be smudged or torn and it still reads
_DARK_RUN = re.compile("1+")
_AS_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


@dataclass(frozen=True)
class CardRow:
    """Everything printed on one poll card. It names no person."""

    reference: str
    area_code: str
    short_code: str  # formatted, XXXX-XXXX-XXXX-XX
    link: str  # the voting link carrying the signed token
    short_link: str  # what the QR code holds: short, so the QR stays small
    qr_svg: str


def qr_svg(text: str, *, title: str = "QR code") -> str:
    """``text`` as a QR code in SVG (any text; poll cards take the faster ShortLinkQr path)."""
    qr = segno.make_qr(text, error=ERROR_LEVEL, mask=MASK)
    return svg_of(_bits(qr.matrix), len(qr.matrix), title)


def _bits(matrix: Sequence[bytes | bytearray]) -> str:
    """The modules row by row as one string of "0" (light) and "1" (dark)."""
    return b"".join(bytes(row) for row in matrix).translate(_AS_DIGITS).decode()


def svg_of(bits: str, size: int, title: str) -> str:
    """One SVG path: a closed rectangle for each run of dark modules in a row, on a white square."""
    side = size + 2 * QUIET_ZONE
    parts = []
    for y in range(size):
        previous = -1
        for run in _DARK_RUN.finditer(bits, y * size, (y + 1) * size):
            x, width = run.start() - y * size + QUIET_ZONE, run.end() - run.start()
            # After "z" the pen is back at the run's start, so the next run moves relative to it.
            move = f"M{x} {y + QUIET_ZONE}" if previous < 0 else f"m{x - previous} 0"
            parts.append(f"{move}h{width}v1h-{width}z")
            previous = x
    # Single quotes: the SVG sits in a CSV cell, where every double quote would be doubled.
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {side} {side}' role='img' "
        f"shape-rendering='crispEdges'><title>{html.escape(title)}</title>"
        f"<rect width='{side}' height='{side}' fill='#fff'/><path d='{''.join(parts)}'/></svg>"
    )


class ShortLinkQr:
    """QR codes for ``prefix`` followed by a short code: microseconds a matrix, not half a millisecond.

    With the version, mode, error level and mask fixed, a QR code's modules are an affine
    function of its data bits over GF(2): the Reed-Solomon check bytes are linear in the data,
    and placement and masking are fixed. So the code for ``prefix + code`` is the code for
    ``prefix + "000..."`` XOR, for each position, the difference one character there makes.
    segno computes those 1 + 14 * 32 matrices once; each card then costs 14 XORs of integers.
    Tests check the result equals segno's own matrix.
    """

    def __init__(self, prefix: str, length: int = LENGTH) -> None:
        self.prefix, self.length = prefix, length
        zero = ALPHABET[0] * length
        first = segno.make_qr(prefix + zero, error=ERROR_LEVEL, mask=MASK)
        self._pinned: dict[str, Any] = {
            "version": first.version,
            "error": first.error,
            "mode": "byte",
            "mask": MASK,
            "boost_error": False,
        }
        self.size = len(first.matrix)
        self._base = self._as_int(zero)
        self._deltas = [
            {c: self._as_int(zero[:i] + c + zero[i + 1 :]) ^ self._base for c in ALPHABET}
            for i in range(length)
        ]

    def _as_int(self, code: str) -> int:
        qr = segno.make_qr(self.prefix + code, **self._pinned)
        if qr.mode != "byte" or len(qr.matrix) != self.size:
            raise ValueError("the link does not encode as the first one did")
        return int(_bits(qr.matrix), 2)

    def bits(self, code: str) -> str:
        """The modules for ``prefix + code``, row by row, as "0"/"1" characters."""
        if len(code) != self.length:
            raise ValueError(f"expected a code of {self.length} characters")
        value = self._base
        for deltas, char in zip(self._deltas, code, strict=True):
            value ^= deltas[char]
        return format(value, f"0{self.size * self.size}b")

    def svg(self, code: str, *, title: str = "QR code") -> str:
        return svg_of(self.bits(code), self.size, title)


@lru_cache(maxsize=4)
def short_link_qr(prefix: str) -> ShortLinkQr:
    return ShortLinkQr(prefix)


@lru_cache(maxsize=4)
def _tokens(secret_keys: tuple[str, ...]) -> Tokens:
    return Tokens(secret_keys)


def card_rows(
    codes: Sequence[tuple[str, str]], area_code: str, base_url: str, secret_keys: tuple[str, ...]
) -> list[CardRow]:
    """Cards for (reference, normalised short code) pairs; plain arguments so a process pool can run it."""
    tokens = _tokens(secret_keys)
    qr = short_link_qr(f"{base_url}/c/")
    rows = []
    for reference, short_code in codes:
        short_link = f"{base_url}/c/{short_code}"
        rows.append(
            CardRow(
                reference=reference,
                area_code=area_code,
                short_code=format_short_code(short_code),
                # The link carries the code: the server needs it to unwrap the card's voter secret.
                link=f"{base_url}/v/{tokens.sign(VOTER_CODE, short_code)}",
                short_link=short_link,
                qr_svg=qr.svg(short_code, title="QR code for your voting link"),
            )
        )
    return rows


def csv_record(row: CardRow) -> tuple[str, ...]:
    return (row.reference, row.area_code, row.link, row.short_code, row.short_link, row.qr_svg)


def csv_text(rows: Iterable[CardRow], *, header: bool = False) -> str:
    """CSV lines for ``rows`` (with the header line first if asked), for streaming a response."""
    out = io.StringIO()
    write_codes_csv(rows, out, header=header)
    return out.getvalue()


def write_codes_csv(rows: Iterable[CardRow], out: TextIO, *, header: bool = True) -> int:
    """The mail-merge file: a header, then one row per card. Returns the number of rows."""
    return sum(1 for _ in tee_csv(rows, out, header=header))


def tee_csv(rows: Iterable[CardRow], out: TextIO, *, header: bool = True) -> Iterator[CardRow]:
    """Pass ``rows`` on, writing each to the CSV as it goes: one pass makes both CSV and sheet."""
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(csv_record(row))
        yield row


def card_rows_parallel(
    codes: Sequence[tuple[str, str]],
    area_code: str,
    base_url: str,
    secret_keys: tuple[str, ...],
    *,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = 1000,
) -> Iterator[CardRow]:
    """card_rows over every core, in order, as each chunk is ready (signing and SVG writing are CPU work)."""
    chunks = [codes[i : i + chunk] for i in range(0, len(codes), chunk)]
    workers = min(os.cpu_count() or 1, len(chunks))
    if workers <= 1:
        results: Iterable[list[CardRow]] = (card_rows(c, area_code, base_url, secret_keys) for c in chunks)
        yield from _counted(results, len(codes), progress)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        n = len(chunks)
        results = pool.map(card_rows, chunks, [area_code] * n, [base_url] * n, [secret_keys] * n)
        yield from _counted(results, len(codes), progress)


def _counted(
    results: Iterable[list[CardRow]], total: int, progress: Callable[[int, int], None] | None
) -> Iterator[CardRow]:
    done = 0
    for rows in results:
        yield from rows
        done += len(rows)
        if progress is not None:
            progress(done, total)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # The card's words from the catalogues, in the language of the thread that renders it.
    environment.install_gettext_callables(_, ngettext, newstyle=True)  # type: ignore[attr-defined]
    return environment


def poll_card_sheet_parts(
    rows: Iterable[CardRow], pilot: Any, *, stylesheet: str | None = None
) -> Iterator[str]:
    """The printable sheet in pieces, reading ``rows`` as it goes (for very large batches).

    ``pilot`` needs ``name``, ``council``, ``contact_email`` and ``contact_phone``. The print CSS
    is inside the page unless ``stylesheet`` names its address (pages served under a CSP that
    refuses inline styles).
    """
    template = _environment().get_template("council/cards.html")
    return template.generate(rows=rows, pilot=pilot, per_page=CARDS_PER_PAGE, stylesheet=stylesheet)


def poll_card_sheet(rows: Iterable[CardRow], pilot: Any, *, stylesheet: str | None = None) -> str:
    """An HTML page of poll cards, eight to an A4 sheet, with its print CSS."""
    return "".join(poll_card_sheet_parts(rows, pilot, stylesheet=stylesheet))


@lru_cache(maxsize=1)
def sheet_css() -> str:
    """The sheet's print CSS on its own (it is written once, in the template)."""
    module = _environment().get_template("council/cards.html").make_module({"pilot": {}, "rows": []})
    return str(getattr(module, "stylesheet_rules")())  # noqa: B009 (a template macro)
