"""Reading the pool and its quotas from the CSV files councils use with the Sortition Foundation's tools.

Categories: one row per feature, ``category,feature,min,max`` (the older ``category,name,min,max`` and
the newer ``feature,value,min,max`` headers are read too; ``min_flex``/``max_flex`` are ignored).
People: a header, an id column, one column per category, any other columns (names, addresses) ignored
unless named as household columns. Values are matched ignoring case and surrounding spaces, because
spreadsheets collect both; the spelling of the categories file is kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from polls.domain.sortition.pool import Person, Pool, Quota, Quotas
from polls.errors import PoolFileError


def read_rows(text: str, file: str) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line number they start on, cells stripped; blank lines skipped.

    Lines may end in LF, CR LF or a bare CR (old Mac spreadsheets). A row the csv module cannot read raises
    PoolFileError naming the line it starts on: in practice a field past the module's size limit,
    which is usually a quote never closed swallowing the rest of the file.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    line = 1
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise PoolFileError(file, line, _unreadable(exc)) from None
        if row is None:
            return
        if any(cell.strip() for cell in row):
            yield line, [cell.strip() for cell in row]
        line = reader.line_num + 1


def _unreadable(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return (
            f"a field is longer than {csv.field_size_limit():,} characters; "
            'check for a quote (") that is opened but not closed'
        )
    return f"the line cannot be read as CSV ({exc})"


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _count(file: str, line: int, column: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise PoolFileError(file, line, f"{column} is '{raw}', not a whole number") from None
    if value < 0:
        raise PoolFileError(file, line, f"{column} is {value}; it cannot be negative")
    return value


def _columns(file: str, header: list[str], wanted: dict[str, str]) -> dict[str, int]:
    """Index of each wanted column (name -> what it is for), found ignoring case."""
    found = {_key(name): i for i, name in enumerate(header)}
    missing = [f"'{name}' ({why})" for name, why in wanted.items() if _key(name) not in found]
    if missing:
        raise PoolFileError(file, 1, f"the header has no column {', '.join(missing)}; it has {header}")
    return {name: found[_key(name)] for name in wanted}


def read_categories(text: str, *, file: str = "categories file") -> Quotas:
    rows = read_rows(text, file)
    first = next(rows, None)
    if first is None:
        raise PoolFileError(file, None, "the file is empty")
    _, header = first
    names = {_key(name) for name in header}
    category, feature = ("category", "feature") if "category" in names else ("feature", "value")
    if category == "category" and "feature" not in names and "name" in names:
        feature = "name"
    index = _columns(
        file, header, {category: "the category", feature: "the feature", "min": "quota", "max": "quota"}
    )
    quotas: list[Quota] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))
        cat, feat = row[index[category]], row[index[feature]]
        if not cat or not feat:
            raise PoolFileError(file, line, f"the {category} and the {feature} must both be filled in")
        low = _count(file, line, "min", row[index["min"]])
        high = _count(file, line, "max", row[index["max"]])
        if low > high:
            raise PoolFileError(file, line, f"{cat} '{feat}': min {low} is more than max {high}")
        key = (_key(cat), _key(feat))
        if key in seen:
            raise PoolFileError(file, line, f"{cat} '{feat}' is listed twice (also on line {seen[key]})")
        seen[key] = line
        # The first spelling of a category wins, so "Age" and "age " are one category.
        cat = next((q.category for q in quotas if _key(q.category) == key[0]), cat)
        quotas.append(Quota(cat, feat, low, high))
    if not quotas:
        raise PoolFileError(file, None, "the file has a header but no categories")
    # Grouped by category in first-appearance order, features in file order.
    order = {c: i for i, c in enumerate(dict.fromkeys(q.category for q in quotas))}
    return Quotas(tuple(sorted(quotas, key=lambda q: order[q.category])))


def read_people(
    text: str,
    quotas: Quotas,
    *,
    file: str = "people file",
    id_column: str | None = None,
    household_columns: Sequence[str] = (),
) -> Pool:
    """The pool; ``id_column`` defaults to a column named ``id``, else the first column.

    People whose household columns (an address, a postcode, a household number) are equal after
    normalising case and spaces live together; all-empty household columns mean nobody else.
    """
    rows = read_rows(text, file)
    first = next(rows, None)
    if first is None:
        raise PoolFileError(file, None, "the file is empty")
    _, header = first
    if id_column is None:
        id_column = next((name for name in header if _key(name) == "id"), header[0])
    wanted = {id_column: "the person's id"}
    wanted |= {c: "a category in the categories file" for c in quotas.categories}
    wanted |= {c: "a household column" for c in household_columns}
    index = _columns(file, header, wanted)
    spelling = {c: {_key(f): f for f in quotas.features(c)} for c in quotas.categories}

    people: list[Person] = []
    lines: dict[str, int] = {}
    for line, row in rows:
        if len(row) != len(header):
            raise PoolFileError(file, line, f"{len(row)} fields, but the header has {len(header)}")
        person_id = row[index[id_column]]
        if not person_id:
            raise PoolFileError(file, line, f"no id in column '{id_column}'")
        if person_id in lines:
            raise PoolFileError(
                file, line, f"id '{person_id}' is used twice (also on line {lines[person_id]})"
            )
        lines[person_id] = line
        features = []
        for category in quotas.categories:
            raw = row[index[category]]
            feature = spelling[category].get(_key(raw))
            if feature is None:
                allowed = ", ".join(quotas.features(category))
                shown = f"'{raw}'" if raw else "empty"
                raise PoolFileError(
                    file, line, f"{category} is {shown}; the categories file allows {allowed}"
                )
            features.append(feature)
        address = [_key(row[index[c]]) for c in household_columns]
        household = "\x1f".join(address) if any(address) else None
        people.append(Person(person_id, tuple(features), household))
    if not people:
        raise PoolFileError(file, None, "the file has a header but nobody in it")
    return Pool(tuple(people), quotas)
