"""Starlette endpoints grouped by who uses them (council, juries, public, residents, the JSON API),
and the kit they share.

The ``id`` path convertor is registered here, before any route is built: every module below imports
this package first."""

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    """Ids in paths: at most nine digits, so an absurd number is a plain 404, not a database error."""

    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
