"""The language catalogues are complete: every string in the code and templates is in each
catalogue, and every language other than English translates all of them (none fuzzy).

When this fails, run `make translations` and translate what it lists in each catalogue.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from polls.i18n import LOCALE_DIR, SOURCE_LANGUAGE, catalogue_languages, translations, use_language

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _extracted() -> dict[str, str]:
    """msgid -> where it is used, read as `make translations` reads (babel.cfg)."""
    method_map = [("polls/**.py", "python"), ("polls/web/templates/**.html", "jinja2")]
    options = {"polls/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found: dict[str, str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, f"{filename}:{line}")
    return found


def _catalogue(language: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def _translated(string: str | tuple[str, ...]) -> bool:
    return bool(string) if isinstance(string, str) else all(string)


def test_babel_cfg_reads_what_this_test_reads() -> None:
    config = (ROOT / "babel.cfg").read_text()
    assert "[python: polls/**.py]" in config and "[jinja2: polls/web/templates/**.html]" in config


def test_welsh_is_offered() -> None:
    assert catalogue_languages()[:1] == [SOURCE_LANGUAGE] and "cy" in catalogue_languages()


@pytest.mark.parametrize("language", catalogue_languages())
def test_every_string_is_in_the_catalogue(language: str) -> None:
    catalogue = _catalogue(language)
    held = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}
    missing = {msgid: where for msgid, where in _extracted().items() if msgid not in held}
    assert not missing, f"not in {language}'s catalogue (run `make translations`):\n" + "\n".join(
        f"  {where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda kv: kv[1])
    )


@pytest.mark.parametrize("language", [code for code in catalogue_languages() if code != SOURCE_LANGUAGE])
def test_every_string_is_translated_and_none_is_fuzzy(language: str) -> None:
    catalogue = _catalogue(language)
    untranslated = [m.id for m in catalogue if m.id and not _translated(m.string)]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert (untranslated, fuzzy) == ([], []), (
        f"{language}: {len(untranslated)} untranslated, {len(fuzzy)} fuzzy:\n"
        + "\n".join(f"  {msgid!r}" for msgid in untranslated + fuzzy)
    )


def test_a_missing_translation_shows_english() -> None:
    with use_language("cy"):
        assert translations("cy").gettext("Check your answers") == "Gwirio eich atebion"
        assert translations("cy").gettext("A sentence nobody translated") == "A sentence nobody translated"
    assert translations("xx").gettext("Check your answers") == "Check your answers"  # no catalogue at all
