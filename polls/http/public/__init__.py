"""Pages anyone can see: the front page, a pilot's page, official results and the final report, live
results, the health checks and the metrics."""

from starlette.routing import BaseRoute

from polls.http.public import home, live, metrics, official_results, pilot, report

routes: list[BaseRoute] = [
    *home.routes,
    *pilot.routes,
    *official_results.routes,
    *report.routes,
    *live.routes,
    *metrics.routes,
]
