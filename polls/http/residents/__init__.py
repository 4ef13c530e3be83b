"""Resident pages: enter or scan a code, answer a poll, get a receipt, follow the results."""

from starlette.routing import BaseRoute

from polls.http.residents import ballot, results, subscriptions

routes: list[BaseRoute] = [*ballot.routes, *results.routes, *subscriptions.routes]
