"""Officers translate a draft poll's content into the pilot's other languages (the API
for it is polls.http.api.translations).

The resident pages' own words and the language switch are in polls.http.residents.language."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.questions import QuestionKind
from polls.domain.translations import LANGUAGE_NAMES, PollTranslation
from polls.domain.validation import parse
from polls.errors import ValidationFailed
from polls.http.kit.forms import read_form
from polls.http.kit.guards import page, poll_staff
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import polls as poll_store
from polls.store.models import Pilot, Poll


def _from_form(form: FormData, poll: Any) -> dict[str, Any]:
    """Form fields (title, q12_title, o34 ...) as a PollTranslation body."""
    body: dict[str, Any] = {"title": form.get("title", ""), "description": form.get("description", "")}
    questions: dict[str, Any] = {}
    for question in poll.questions:
        prefix = f"q{question.id}_"
        item: dict[str, Any] = {
            key: form.get(prefix + key, "") for key in ("title", "help_text", "min_label", "max_label")
        }
        item["options"] = {str(o.id): form.get(f"o{o.id}", "") for o in question.options}
        questions[str(question.id)] = item
    body["questions"] = questions
    return body


def _values(snapshot: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"title": snapshot["title"], "description": snapshot["description"]}
    for qid, item in snapshot["questions"].items():
        for key in ("title", "help_text", "min_label", "max_label"):
            values[f"q{qid}_{key}"] = item.get(key, "")
        for oid, label in item["options"].items():
            values[f"o{oid}"] = label
    return values


@poll_staff(Permission.MANAGE_PILOT)
async def translation_page(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    rt = runtime(request)
    poll_id, language = poll.id, request.path_params["language"]
    errors: dict[str, str] = {}
    values = _values(poll_store.translation_snapshot(poll, language))
    if request.method == "POST":
        form = await read_form(request)
        values = dict(form)
        try:
            spec = parse(PollTranslation, _from_form(form, poll))
            async with rt.db.begin() as db:
                await poll_store.set_translation(db, actor, poll_id, language, spec)
            return RedirectResponse(f"/council/polls/{poll_id}", status_code=303)
        except ValidationFailed as exc:
            errors = {e.field.replace("questions.", "q").replace(".", "_"): e.message for e in exc.errors}
    context = {
        "poll": poll,
        "pilot": pilot,
        "language": language,
        "language_name": LANGUAGE_NAMES.get(language, language),
        "values": values,
        "errors": errors,
        "kinds": QuestionKind,
    }
    return render(request, "council/translation.html", context, status_code=422 if errors else 200)


routes: list[BaseRoute] = [
    Route(
        "/council/polls/{poll_id:id}/translations/{language}",
        page(translation_page),
        methods=["GET", "POST"],
    ),
]
