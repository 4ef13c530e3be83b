"""The service's own words in each language: Babel catalogues, and the language of this request.

Catalogues live in polls/locale/<code>/LC_MESSAGES/messages.po (English is the source; each other
language is one catalogue). ``make setup`` compiles them to .mo; a catalogue whose .mo is missing
or older than its .po (a fresh clone, an install without the build step) is compiled in memory
when first used, so the service never depends on that step. A string without a translation shows
in English; a fuzzy translation is not used.

Poll content (titles, options) is translated by officers and stored with the poll: see
polls/domain/translations.py.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"

_language: ContextVar[str] = ContextVar("polls_language", default=SOURCE_LANGUAGE)


def catalogue_languages() -> list[str]:
    """Every language with a catalogue, English first: what a page can be shown in."""
    return list(_catalogue_languages())


@cache
def _catalogue_languages() -> tuple[str, ...]:  # read once: catalogues come with the package
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *(code for code in found if code != SOURCE_LANGUAGE))


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if not po.exists():
        return gettext_module.NullTranslations()
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return gettext_module.GNUTranslations(compiled)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries left out, as pybabel compile does
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def current_language() -> str:
    return _language.get()


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Words looked up inside the block come from ``language``'s catalogue."""
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


def set_language(language: str) -> None:
    """The language of the rest of this request (called once per request, by the middleware)."""
    _language.set(language)


def _(message: str) -> str:
    """``message`` in this request's language; English where the catalogue has no translation."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for the catalogues where it is written; it is translated where shown."""
    return message
