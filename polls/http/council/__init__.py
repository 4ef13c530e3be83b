"""Officer pages: signing in, pilots, areas, staff, polls, voter codes, paper ballots, translations."""

from starlette.routing import BaseRoute

from polls.http.council import (
    codes,
    event_codes,
    paper,
    paper_held,
    password_reset,
    pilots,
    poll_translations,
    polls,
    results_review,
    sign_in,
)

routes: list[BaseRoute] = [
    *sign_in.routes,
    *password_reset.routes,
    *pilots.routes,
    *polls.routes,
    *codes.routes,
    *event_codes.routes,
    *paper.routes,
    *paper_held.routes,
    *poll_translations.routes,
    *results_review.routes,
]
