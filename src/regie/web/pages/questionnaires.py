"""Questionnaires from care providers (MedMij service 906): find tasks at a provider,
accept one, fill in its Questionnaire (drafts encrypted, conditions evaluated on the
server so the form works without JavaScript), then the usual send: a preview of exactly
what will be sent, confirmation, permission at the provider, the ``transaction`` Bundle
with the Task update, the receipt (``regie.web.pages.share``).

Getting tasks and accepting one use one permission (scope ``<provider>~906``); its access
token is kept encrypted for at most 15 minutes so "accept" does not ask again. Sending
asks for permission again, as every send does.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from regie.collect.service import CollectError, provider_endpoints
from regie.share.questionnaire import form as qform
from regie.share.questionnaire.bundle import check_questionnaire_bundle, response_bundle, title_of
from regie.share.questionnaire.provider import Provider, ProviderError, accept_task, find_tasks
from regie.share.questionnaire.tasks import SERVICE, Tasks, TaskError
from regie.share.texts import error_text
from regie.store.models import User
from regie.web.collecting import directory_of, session_key
from regie.web.guards import page_owner
from regie.web.i18n import N_
from regie.web.oauth_callback import read_callback
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.sharing import provider_name, receivers
from regie.web.sharing import start as start_send
from regie.web.templating import DISPLAY_ZONE, render

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
TASK_STATES = {
    "new": N_("Waiting for you"),
    "accepted": N_("Being filled in"),
    "sent": N_("Sent"),
    "gone": N_("Withdrawn by the care provider"),
}
PROBLEMS = {
    "no-questionnaire": N_("The care provider did not give the questions of this questionnaire. Try again later."),
    "not-fhir": N_("The care provider gave an answer Regie cannot read. Try again later."),
    "not-found": N_("The care provider does not know this questionnaire (any more)."),
}


def tasks_of(app) -> Tasks:
    tasks = getattr(app.state, "questionnaire_tasks", None)
    if tasks is None:
        context = app.state.context
        tasks = app.state.questionnaire_tasks = Tasks(context.settings, context.db, context.accounts.keyring)
    return tasks


def _provider(request: Request) -> Provider:
    return Provider(tasks_of(request.app), directory_of(request.app),
                    transport=getattr(request.app.state, "collect_transport", None))


def _problem_text(code: str | None) -> str | None:
    if code in PROBLEMS:
        return PROBLEMS[code]
    return error_text(code)


def _when(moment: datetime | str | None) -> str:
    if not moment:
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment[:10]
    return moment.astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y")


def _requester(task: dict) -> str:
    agent = ((task.get("requester") or {}).get("agent") or {})
    for ext in agent.get("extension") or []:
        display = (ext.get("valueReference") or {}).get("display")
        if display:
            return str(display)
    return str(agent.get("display") or "")


@router.get("/questionnaires")
async def overview(request: Request, user: CurrentUser) -> Response:
    app = request.app
    rows = await run_in_threadpool(tasks_of(app).list, user.id)
    problem = request.query_params.get("problem", "")[:40] or None
    return render(request, "questionnaires.html", rows=rows, states=TASK_STATES, receivers=receivers(app, SERVICE),
                  provider_name=lambda p: provider_name(app, p), title_of=title_of, requester=_requester,
                  day=_when, message=_problem_text(problem) if problem else None,
                  found=request.query_params.get("found"))


@router.get("/questionnaires/fetch")
async def fetch(request: Request, user: CurrentUser) -> Response:
    """To the provider's authorization (a link: the CSP's form-action would block a form
    that ends on another site)."""
    provider = request.query_params.get("provider", "")[:200]
    if not any(p == provider for p, _ in receivers(request.app, SERVICE)):
        raise HTTPException(404)
    url = await run_in_threadpool(_authorize, request, user, provider, "fetch", None)
    if url is None:
        raise HTTPException(404)
    return RedirectResponse(url, status_code=303)


def _authorize(request: Request, user: User, provider: str, purpose: str, row_id: str | None) -> str | None:
    try:
        endpoints = provider_endpoints(directory_of(request.app), provider, [SERVICE])
    except CollectError:
        return None
    return tasks_of(request.app).authorize(user.id, provider, endpoints, purpose=purpose, task_row=row_id,
                                           session_id=session_key(request))


# The callback before /questionnaires/{row_id}: "callback" is not a task.
@router.get("/questionnaires/callback")
async def callback(request: Request) -> Response:
    received = read_callback(request)
    tasks = tasks_of(request.app)
    key = session_key(request)
    if received is None:
        return render(request, "send_problem.html", 400, message=error_text("state-mismatch"))
    if received.error:
        try:
            await run_in_threadpool(tasks.refuse, received.state, key, received.error)
        except TaskError as exc:
            return render(request, "send_problem.html", 400, message=error_text(exc.code))
        return see_other("/questionnaires?problem=access_denied" if received.error == "access_denied"
                         else "/questionnaires?problem=authorization-error")
    try:
        claim = await run_in_threadpool(tasks.claim, received.state, key)
    except TaskError as exc:
        return render(request, "send_problem.html", 400, message=error_text(exc.code))
    provider = await run_in_threadpool(_provider, request)
    target = "/questionnaires"
    try:
        async with provider.client() as http:
            token = await provider.exchange(http, claim, received.code or "")
            conn = provider.connection(http, claim.provider, token.access_token, claim.correlation_id)
            found = await find_tasks(conn)
            ids = await run_in_threadpool(tasks.store_found, claim.user_id, claim.provider, conn.base_url, found)
            await run_in_threadpool(tasks.granted, claim.user_id, claim.access_id, token.access_token,
                                    token.expires_in)
            target = f"/questionnaires?found={len(ids)}"
            if claim.purpose == "accept" and claim.task_row:
                await _accept(tasks, conn, claim.user_id, claim.task_row)
                target = f"/questionnaires/{claim.task_row}"
    except ProviderError as exc:
        await run_in_threadpool(tasks.granted, claim.user_id, claim.access_id, None, None, exc.code)
        target = f"/questionnaires?problem={exc.code}"
    if key is None:  # a browser without a Regie session: nothing to show here
        return render(request, "send_done.html")
    return see_other(target)


async def _accept(tasks: Tasks, conn, user_id: str, row_id: str) -> None:
    view = await run_in_threadpool(tasks.get, user_id, row_id)
    if view is None:
        raise ProviderError("not-found")
    accepted, questionnaire = await accept_task(conn, view.task)
    await run_in_threadpool(tasks.accepted, user_id, row_id, accepted, questionnaire)


async def _view(request: Request, user: User, row_id: str):
    view = await run_in_threadpool(tasks_of(request.app).get, user.id, row_id[:32])
    if view is None:
        raise HTTPException(404)
    return view


def _render_task(request: Request, view, status: int = 200, checked=None, message=None) -> Response:
    items = qform.parse(view.questionnaire) if view.questionnaire else []
    if checked is None and items:
        checked = qform.evaluate(items, view.draft, complete=False)
        checked.errors = {}
    gettext = gettext_for(request)
    errors = {k: gettext(msg).format(**values) for k, (msg, values) in (checked.errors if checked else {}).items()}
    return render(request, "questionnaire.html", status, view=view, items=items, checked=checked, errors=errors,
                  title=title_of(view.questionnaire, view.task), requester=_requester(view.task),
                  provider_name=provider_name(request.app, view.provider), states=TASK_STATES,
                  day=_when, message=message, other=qform.OTHER, conditions_json=_conditions_json)


def _conditions_json(item: qform.Item) -> str:
    """The item's conditions for the small script that shows and hides live."""
    import json

    return json.dumps({"any": item.behavior != "all", "when": [
        {"q": c.question, "op": c.operator, "v": c.answer if c.operator == "exists" else _plain(c.answer)}
        for c in item.conditions]})


def _plain(value: dict) -> str:
    """What the form posts for an answer the condition compares with."""
    (key, v), = value.items()
    if key == "valueBoolean":
        return "true" if v else "false"
    if key == "valueCoding":
        return "code:" + str(v.get("code"))
    return str(v)


@router.get("/questionnaires/{row_id}")
async def task_page(request: Request, row_id: str, user: CurrentUser) -> Response:
    view = await _view(request, user, row_id)
    return _render_task(request, view)


@router.post("/questionnaires/{row_id}/accept")
async def accept(request: Request, row_id: str, user: CurrentUser) -> Response:
    """Accept with the token of a recent permission; else ask for permission again."""
    view = await _view(request, user, row_id)
    if view.state not in ("new", "accepted"):
        raise HTTPException(409)
    tasks = tasks_of(request.app)
    token = await run_in_threadpool(tasks.token, user.id, view.provider)
    if token is None:
        return render(request, "questionnaire_permission.html", view=view,
                      provider_name=provider_name(request.app, view.provider),
                      title=title_of(view.questionnaire, view.task))
    provider = await run_in_threadpool(_provider, request)
    try:
        async with provider.client() as http:
            conn = provider.connection(http, view.provider, token, "")
            await _accept(tasks, conn, user.id, view.id)
    except ProviderError as exc:
        if exc.code == "unauthorized":  # the token ran out at the provider
            await run_in_threadpool(tasks.forget_token, user.id, view.provider)
            return render(request, "questionnaire_permission.html", view=view,
                          provider_name=provider_name(request.app, view.provider),
                          title=title_of(view.questionnaire, view.task))
        return _render_task(request, view, 502, message=_problem_text(exc.code))
    return see_other(f"/questionnaires/{view.id}")


@router.get("/questionnaires/{row_id}/permission")
async def permission(request: Request, row_id: str, user: CurrentUser) -> Response:
    view = await _view(request, user, row_id)
    url = await run_in_threadpool(_authorize, request, user, view.provider, "accept", view.id)
    if url is None:
        raise HTTPException(404)
    return RedirectResponse(url, status_code=303)


@router.post("/questionnaires/{row_id}")
async def answer(request: Request, row_id: str, user: CurrentUser) -> Response:
    """``do=save``: keep the draft (and show the questions that now apply);
    ``do=check``: everything needed answered? Then the preview as a send."""
    view = await _view(request, user, row_id)
    if view.state != "accepted" or not view.questionnaire:
        raise HTTPException(409)
    form = await request.form()
    items = qform.parse(view.questionnaire)
    raw = qform.from_form(items, form)
    tasks = tasks_of(request.app)
    await run_in_threadpool(tasks.save_draft, user.id, view.id, raw)
    view.draft = raw
    gettext = gettext_for(request)
    if form.get("do") != "check":
        checked = qform.evaluate(items, raw, complete=False)
        return _render_task(request, view, checked=checked,
                            message=gettext(N_("Your answers are saved. You can go on later.")))
    checked = qform.evaluate(items, raw, complete=True)
    if checked.errors:
        return _render_task(request, view, 422, checked=checked)
    answers = qform.response_items(items, checked)
    if not answers:
        checked.errors["_"] = (N_("Answer at least one question."), {})
        return _render_task(request, view, 422, checked=checked)
    bundle = response_bundle(view.task, view.questionnaire, answers, base_url=view.base_url,
                             authored=datetime.now(DISPLAY_ZONE), patient_display=gettext(N_("Patient")))
    problems = check_questionnaire_bundle(bundle)
    if problems:  # the provider's Task or Questionnaire is not usable as it is
        return _render_task(request, view, 422, checked=checked,
                            message=gettext(N_("Regie cannot send these answers in the right form. Ask your care provider.")))
    send_id = await run_in_threadpool(
        lambda: start_send(request.app, user.id, kind="questionnaire", provider=view.provider, service_id=SERVICE,
                           bundle=bundle, channel="web", session_id=session_key(request)))
    await run_in_threadpool(tasks.link_send, user.id, view.id, send_id)
    return see_other(f"/send/{send_id}")


__all__ = ["router", "tasks_of"]
