"""Sending to care providers (MedMij delen): the confirmation page with exactly what will
be sent, the way to the provider's authorization (one ``<provider>~<service>`` scope),
the callback that sends, the outcome and the list of sends. Documents (PDF/A) start at
``/documents/send``; measurements at ``/measurements/send``."""
from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from regie.share import documents as docs
from regie.share.correction import correction_summary
from regie.share.sender import deliver
from regie.share.service import ShareError
from regie.share.texts import KINDS, STATES, error_text
from regie.store.models import User
from regie.web.collecting import directory_of, session_key
from regie.web.guards import page_owner
from regie.web.i18n import N_
from regie.web.oauth_callback import read_callback
from regie.web.pages._helpers import gettext_for, see_other
from regie.web.sharing import authorization_url, check_receiver, provider_name, receivers, sends_of, start
from regie.web.templating import DISPLAY_ZONE, language_of, render
from regie.web.uploads import refusal

router = APIRouter(include_in_schema=False)
CurrentUser = Annotated[User, Depends(page_owner)]  # the record's owner (regie.access)
DOCUMENT_SERVICE = "51"
DOCUMENT_TYPE_LABELS = {
    "discharge_letter": N_("Discharge letter"),
    "referral_letter": N_("Referral letter"),
    "consult_note": N_("Other letter or report"),
}


def _when(text: str | None) -> str:
    from datetime import datetime

    return datetime.fromisoformat(text).astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y %H:%M") if text else ""


# The callback comes first: "/send/callback" is not a send id.
@router.get("/send/callback")
async def callback(request: Request) -> Response:
    """Back from the provider: ``code`` and ``state`` (then send), or ``error`` and ``state``."""
    received = read_callback(request)
    key = session_key(request)
    sends = sends_of(request.app)
    if received is None:
        return _problem(request, "state-mismatch")
    if received.error:
        try:
            send_id = await run_in_threadpool(sends.refuse, received.state, key, received.error)
        except ShareError as exc:
            return _problem(request, exc.code)
        return _after(request, send_id)
    try:
        claim = await run_in_threadpool(sends.claim, received.state, key)
    except ShareError as exc:
        return _problem(request, exc.code)
    directory = await run_in_threadpool(directory_of, request.app)
    outcome = await deliver(sends, claim, received.code, directory,
                            transport=getattr(request.app.state, "collect_transport", None))
    if outcome.ok and claim.kind == "questionnaire":
        from regie.web.pages.questionnaires import tasks_of

        await run_in_threadpool(tasks_of(request.app).mark_sent, claim.user_id, claim.send_id)
    return _after(request, claim.send_id)


def _after(request: Request, send_id: str) -> Response:
    if session_key(request) is not None:
        return see_other(f"/send/{send_id}")
    # Started over the API: this browser has no account to show it in.
    return render(request, "send_done.html")


def _problem(request: Request, code: str) -> Response:
    return render(request, "send_problem.html", 400, message=error_text(code))


@router.get("/send")
async def history(request: Request, user: CurrentUser) -> Response:
    app = request.app
    rows = await run_in_threadpool(sends_of(app).history, user.id)
    for row in rows:
        row["provider_name"] = provider_name(app, row["provider"])
    return render(request, "send_history.html", rows=rows, states=STATES, kinds=KINDS, local_time=_when)


# --- documents (PDF/A, service 51) ----------------------------------------------------
def _record_pdf(request: Request, user: User, item_id: str) -> tuple[bytes, str] | None:
    """A PDF in the user's record (its bytes and title), or None."""
    from regie.web.pages.viewer import open_record

    with open_record(request, user) as (repo, q):
        found = q.document_file(item_id[:64])
        if found is None or found[0] != "application/pdf":
            return None
        repo.audit(user.id, "read_document", [item_id[:64]], "web")
    return found[1], found[2]


def _record_title(request: Request, user: User, item_id: str) -> str | None:
    found = _record_pdf(request, user, item_id) if item_id else None
    return found[1] if found else None


def _doc_form(request: Request, status: int = 200, values=None, errors=None, record_title=None) -> Response:
    gettext = gettext_for(request)
    return render(request, "document_send.html", status, values=values or {}, errors=errors or {},
                  record_title=record_title,
                  receivers=receivers(request.app, DOCUMENT_SERVICE),
                  doc_types=[(k, gettext(v)) for k, v in DOCUMENT_TYPE_LABELS.items()])


@router.get("/send/document")
async def document_page(request: Request, user: CurrentUser) -> Response:
    """``?item=<record item id>``: a PDF from the record instead of an upload."""
    item = request.query_params.get("item", "")[:64]
    title = await run_in_threadpool(_record_title, request, user, item) if item else None
    if item and title is None:
        raise HTTPException(404)
    return _doc_form(request, values={"item": item, "title": title or ""} if item else None, record_title=title)


@router.post("/send/document")
async def document_send(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    if (refused := refusal(request, form)) is not None:  # count and size limits (regie.web.uploads)
        return refused
    gettext = gettext_for(request)
    values = {k: str(form.get(k, "")).strip()[:200] for k in ("provider", "title", "name", "type", "item")}
    errors: dict[str, str] = {}
    provider = check_receiver(request.app, values["provider"], DOCUMENT_SERVICE)
    if provider is None:
        errors["provider"] = gettext(N_("Choose a care provider."))
    if not values["title"]:
        errors["title"] = gettext(N_("Give the document a title."))
    if not values["name"]:
        errors["name"] = gettext(N_("Fill in your name as your care provider knows it."))
    if values["type"] not in docs.DOCUMENT_TYPES:
        values["type"] = "consult_note"
    upload = form.get("file")
    pdf = b""
    record_title = None
    if values["item"]:
        found = await run_in_threadpool(_record_pdf, request, user, values["item"])
        if found is None:
            raise HTTPException(404)
        pdf, record_title = found
    elif isinstance(upload, UploadFile):
        pdf = await upload.read(docs.MAX_PDF_BYTES + 1)
    try:
        docs.check_pdf(pdf)
    except docs.NotAPdf:
        errors["file"] = gettext(N_("Choose a PDF file of at most 10 MB."))
    if errors:
        return _doc_form(request, 422, values, errors, record_title)
    bundle = docs.document_bundle(pdf, title=values["title"], patient_name=values["name"], doc_type=values["type"])
    problems = docs.check_document_bundle(bundle)
    assert not problems, problems
    send_id = await run_in_threadpool(
        lambda: start(request.app, user.id, kind="document", provider=provider, service_id=DOCUMENT_SERVICE,
                      bundle=bundle, channel="web", session_id=session_key(request)))
    return see_other(f"/send/{send_id}")



# After /send/document and /send/callback: those are not send ids.
@router.get("/send/{send_id}")
async def send_page(request: Request, send_id: str, user: CurrentUser) -> Response:
    view = await run_in_threadpool(sends_of(request.app).get, user.id, send_id)
    if view is None:
        raise HTTPException(404)
    bundle = view["bundle"]
    shown = bundle
    if view["kind"] == "document":  # the preview shows the PDF's size, not its bytes
        shown = orjson.loads(orjson.dumps(bundle))
        for e in shown["entry"]:
            if e["resource"]["resourceType"] == "Binary":
                e["resource"]["content"] = f"({len(e['resource']['content'])} base64)"
    return render(request, "send.html", view=view, provider_name=provider_name(request.app, view["provider"]),
                  states=STATES, kinds=KINDS, message=error_text(view["error"]), local_time=_when,
                  document=docs.summary(bundle) if view["kind"] == "document" else None,
                  answers=_answers(bundle, gettext_for(request), language_of(request))
                  if view["kind"] == "questionnaire" else None,
                  correction=correction_summary(bundle) if view["kind"] == "correction" else None,
                  preview=orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode())


def _answers(bundle: dict, gettext, language: str) -> list[tuple[str, list[str]]]:
    """The questions and answers in a questionnaire send, as a person reads them."""
    from babel.numbers import format_decimal

    from regie.share.questionnaire.form import display_answer

    def number(value) -> str:
        return format_decimal(value, locale=language) if isinstance(value, (int, float)) else str(value)

    out: list[tuple[str, list[str]]] = []

    def walk(items: list[dict]) -> None:
        for item in items or []:
            answers = item.get("answer") or []
            if answers:
                out.append((item.get("text") or item.get("linkId", ""), [display_answer(a, gettext, number) for a in answers]))
            for answer in answers:
                walk(answer.get("item") or [])
            walk(item.get("item") or [])

    for entry in bundle.get("entry") or []:
        if (entry.get("resource") or {}).get("resourceType") == "QuestionnaireResponse":
            walk(entry["resource"].get("item") or [])
    return out


@router.get("/send/{send_id}/go")
async def go(request: Request, send_id: str, user: CurrentUser) -> Response:
    """Confirmed: to the provider's authorization endpoint (a link: the CSP's form-action
    would block a form that ends on another site)."""
    url = await run_in_threadpool(authorization_url, request.app, user.id, send_id, session_key(request))
    if url is None:
        raise HTTPException(404)
    return RedirectResponse(url, status_code=303)


__all__ = ["router"]
