"""Messages: officers' delivery views and template previews, and /dev/messages (Notify's callbacks
are in the API)."""

from starlette.routing import BaseRoute

from polls.http.messages import dev_inbox, officer, templates

routes: list[BaseRoute] = [*officer.routes, *templates.routes]
dev_routes = [*dev_inbox.routes]  # only in `polls dev` (polls.app)
