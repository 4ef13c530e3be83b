"""The final report of a poll, as a page and a PDF: the council's summary, turnout, results and
responses, the themes residents raised with their counts and chosen quotes, and what has happened
since. Public once the results are published; staff with the results role see it from closing,
marked as not yet published."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain import final_report
from polls.domain.polls import Assurance
from polls.domain.publication import FOLLOW_UP_LABELS
from polls.domain.questions import QuestionKind
from polls.http.kit.render import TEMPLATES, render
from polls.http.public.official_results import PUBLIC_ASSURANCE, question_views, visible_results
from polls.runtime import runtime
from polls.store import analysis as analysis_store
from polls.store import reports


async def report_context(request: Request) -> dict[str, Any]:
    pilot, poll, result, items, published = await visible_results(request)
    async with runtime(request).db() as db:
        found = await analysis_store.gather(db, poll, result)
        summary = await reports.summary(db, poll.id)
    views = [v for v in question_views(poll, result) if v.kind != QuestionKind.COMMENT.value]
    return {
        "pilot": pilot,
        "poll": poll,
        "result": result,
        "published": published,
        "summary": [p.strip() for p in summary.split("\n\n") if p.strip()],
        "views": views,
        "assurance": PUBLIC_ASSURANCE[Assurance(poll.assurance)],
        "themes": final_report.themes(found.responses, found.readings, found.themes, found.quotes),
        "written": len(found.analysed),
        "follow_ups": items,
        "follow_up_labels": FOLLOW_UP_LABELS,
    }


async def report_page(request: Request) -> Response:
    return render(request, "results/report.html", await report_context(request))


def _refuse(url: str) -> dict[str, Any]:
    raise ValueError(f"the report fetches nothing: {url}")


def pdf(html: str) -> bytes:
    """The report page printed by WeasyPrint, fetching nothing from anywhere (everything it
    shows, the charts included, is in the page)."""
    from weasyprint import HTML  # a heavy import, and only this download needs it

    document: bytes = HTML(string=html, url_fetcher=_refuse).write_pdf()
    return document


async def report_pdf(request: Request) -> Response:
    context = await report_context(request)
    html = TEMPLATES.env.get_template("results/report_pdf.html").render(request=request, **context)
    body = await asyncio.to_thread(pdf, html)  # seconds of CPU: off the event loop
    poll_id = context["poll"].id
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="poll-{poll_id}-report.pdf"'},
    )


GET = ["GET"]

routes: list[BaseRoute] = [
    Route("/polls/{poll_id:id}/report", report_page, methods=GET),
    Route("/polls/{poll_id:id}/report.pdf", report_pdf, methods=GET),
]
