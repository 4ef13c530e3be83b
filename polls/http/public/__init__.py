"""Pages anyone can see: the front page, a pilot's page, official results, live results and the
health checks."""

from starlette.routing import BaseRoute

from polls.http.public import home, live, official_results, pilot

routes: list[BaseRoute] = [*home.routes, *pilot.routes, *official_results.routes, *live.routes]
