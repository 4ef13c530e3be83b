"""Officer pages: signing in, pilots, areas, staff, polls, voter codes, paper ballots, translations."""

from starlette.routing import BaseRoute

from polls.http.council import (
    analysis,
    codes,
    event_codes,
    paper,
    paper_held,
    password_reset,
    pilots,
    poll_translations,
    polls,
    preview,
    report,
    results_review,
    sign_in,
    sign_in_link,
    themes,
)

routes: list[BaseRoute] = [
    *sign_in.routes,
    *password_reset.routes,
    *sign_in_link.routes,
    *pilots.routes,
    *polls.routes,
    *preview.routes,
    *codes.routes,
    *event_codes.routes,
    *paper.routes,
    *paper_held.routes,
    *poll_translations.routes,
    *results_review.routes,
    *analysis.routes,
    *themes.routes,
    *report.routes,
]
