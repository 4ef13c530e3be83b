"""The resident pages' language: the switch (``?lang=``, remembered in a cookie, else the
browser's) and the service's own words in each language a pilot can offer.

Poll content is translated by officers (polls.http.council.poll_translations, rules in
polls/domain/translations.py); this catalogue holds the service's own words. Welsh entries were
written by the development team and must be checked by the council's Welsh-language officer
before a pilot goes live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from polls.domain.translations import LANGUAGE_NAMES, choose_language
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store.models import Poll

COOKIE = "polls_lang"

WELSH = {
    "Have your say": "Dweud eich dweud",
    "Enter the code from your poll card": "Rhowch y cod o'ch cerdyn pleidleisio",
    "Poll card code": "Cod y cerdyn pleidleisio",
    "Continue": "Parhau",
    "Start": "Dechrau",
    "You have voted": "Rydych wedi pleidleisio",
    "See results": "Gweld y canlyniadau",
    "See the results": "Gweld y canlyniadau",
    "Open until": "Ar agor tan",
    "Check your answers": "Gwirio eich atebion",
    "Send my vote": "Anfon fy mhleidlais",
    "Change my answers": "Newid fy atebion",
    "Not answered": "Heb ateb",
    "Not ranked": "Heb ei restru",
    "Your vote has been counted": "Mae eich pleidlais wedi cael ei chyfrif",
    "Your receipt": "Eich derbynneb",
    "This code has already been used": "Mae'r cod hwn wedi cael ei ddefnyddio'n barod",
    "Results": "Canlyniadau",
    "Votes": "Pleidleisiau",
    "Option": "Opsiwn",
    "Area": "Ardal",
    "Turnout by area": "Nifer y pleidleisiau fesul ardal",
    "Check your receipt": "Gwirio eich derbynneb",
    "Check": "Gwirio",
    "There is a problem": "Mae problem",
    "Live": "Byw",
    "Language": "Iaith",
    "Tell me when the results are published": "Dywedwch wrthyf pan fydd y canlyniadau wedi'u cyhoeddi",
    "Email address or mobile number": "Cyfeiriad e-bost neu rif ffôn symudol",
    "We write to you once when the results are published, then delete your address. It is kept apart "
    "from your vote.": (
        "Rydym yn ysgrifennu atoch unwaith pan fydd y canlyniadau wedi'u cyhoeddi, ac yna'n dileu eich "
        "cyfeiriad. Caiff ei gadw ar wahân i'ch pleidlais."
    ),
    "We will tell you when the results are published": (
        "Byddwn yn dweud wrthych pan fydd y canlyniadau wedi'u cyhoeddi"
    ),
    "We will write to": "Byddwn yn ysgrifennu at",
    " once, then delete the address.": " unwaith, ac yna'n dileu'r cyfeiriad.",
    "Our confirmation, with a link to stop this, may take a while: we add addresses in groups, so that "
    "nobody can tell from our records when you voted.": (
        "Gall ein cadarnhad, gyda dolen i atal hyn, gymryd amser: rydym yn ychwanegu cyfeiriadau mewn "
        "grwpiau, fel na all neb ddweud o'n cofnodion pryd y gwnaethoch bleidleisio."
    ),
    "We are sending you a confirmation with a link to stop this.": (
        "Rydym yn anfon cadarnhad atoch gyda dolen i atal hyn."
    ),
    "Stop messages about this poll": "Atal negeseuon am yr arolwg hwn",
    "Stop messages and delete my address": "Atal negeseuon a dileu fy nghyfeiriad",
    "You will not hear from us about this poll": "Ni fyddwch yn clywed gennym am yr arolwg hwn",
    "We have deleted your address.": "Rydym wedi dileu eich cyfeiriad.",
    "You can leave out any question. You will see your answers before you send them.": (
        "Gallwch adael unrhyw gwestiwn allan. Byddwch yn gweld eich atebion cyn eu hanfon."
    ),
    "Once you send your answers you cannot change them. Your vote is secret: "
    "nobody can see which answers are yours.": (
        "Ar ôl i chi anfon eich atebion ni allwch eu newid. Mae eich pleidlais yn gyfrinachol: "
        "does neb yn gallu gweld pa atebion sy'n perthyn i chi."
    ),
    "There are no polls open for your area just now. Keep your card: you can use it for future polls.": (
        "Does dim pleidleisiau ar agor i'ch ardal ar hyn o bryd. Cadwch eich cerdyn ar gyfer "
        "pleidleisiau yn y dyfodol."
    ),
}

CATALOGUE: Mapping[str, Mapping[str, str]] = {"cy": WELSH}


def translator(language: str) -> Callable[[str], str]:
    words = CATALOGUE.get(language, {})

    def _(text: str) -> str:
        return words.get(text, text)

    return _


def resident_language(request: Request, offered: list[str]) -> str:
    return choose_language(
        offered,
        request.query_params.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("accept-language", ""),
    )


def render_resident(
    request: Request, template: str, context: dict[str, Any], offered: list[str], *, status_code: int = 200
) -> Response:
    """Render a resident page in the resident's language, with links to the others offered."""
    language = resident_language(request, offered)
    context = {
        **context,
        "lang": language,
        "_": translator(language),
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in offered] if len(offered) > 1 else [],
    }
    response = render(request, template, context, status_code=status_code)
    if request.query_params.get("lang") == language:
        response.set_cookie(
            COOKIE,
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=runtime(request).settings.secure_cookies,
        )
    return response


def poll_text(poll: Poll, language: str, field: str) -> str:
    """The poll's title or description in ``language`` where translated."""
    translated = str((poll.translations or {}).get(language, {}).get(field) or "")
    return translated or str(getattr(poll, field))
