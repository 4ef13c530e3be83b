"""Starlette endpoints grouped by who uses them, and the machinery they share."""

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    """Ids in paths: at most nine digits, so an absurd number is a plain 404, not a database error."""

    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


def whole_number(raw: str, *, digits: int = 9) -> int | None:
    """A form field as a whole number of at most ``digits`` ASCII digits, else None.

    (``str.isdigit`` alone lets through characters such as "²" that ``int`` refuses.)"""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= digits else None
