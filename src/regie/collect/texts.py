"""Plain-language explanations of everything that can go wrong in a collection.

English message ids (translated to Dutch B1 in the web catalogue); the receipt stores
the code, the page, API and CLI show the text in the reader's language.
"""
from __future__ import annotations


def N_(message: str) -> str:  # marks a text for extraction (scripts/update_translations.py)
    return message


ERRORS: dict[str, str] = {
    # The authorization step (the patient at the provider).
    "access_denied": N_("You did not give permission at this care provider, so nothing was collected. Do you want to try again? Then choose 'Try again' and give permission."),
    "invalid_scope": N_("The care provider does not offer (all of) these data. Choose other data, or try again later."),
    "invalid_request": N_("The care provider did not accept the request from Regie. Try again. If it happens again, contact us and give the reference code."),
    "server_error": N_("The care provider had a problem while you gave permission. Try again later."),
    "temporarily_unavailable": N_("The care provider is busy or in maintenance. Try again later."),
    "oauth-error": N_("The care provider did not give permission for a reason we do not know. Try again later."),
    "state-mismatch": N_("This answer from the care provider does not belong to a request of yours, or it was used already. Start again from your overview."),
    "expired": N_("You took too long to log in and give permission. Try again."),
    "token-refused": N_("The care provider did not give Regie access after your permission. Try again. If it happens again, give the reference code to the care provider's helpdesk."),
    "token-unavailable": N_("The care provider's login server did not answer in time. Try again later."),
    "not-in-zal": N_("This care provider is not (any more) on the MedMij list, so Regie may not contact it."),
    # Fetching.
    "unauthorized": N_("The care provider stopped Regie's access during the collection. Try again and give permission again."),
    "busy": N_("The care provider was too busy to answer. Regie tried a few times. Try again later."),
    "server-error": N_("The care provider's system had an error. Try again later. If it keeps happening, give the reference code to the care provider's helpdesk."),
    "timeout": N_("The care provider did not answer in time. Try again later."),
    "connection": N_("Regie could not reach the care provider. Try again later."),
    "incomplete": N_("The connection broke while the data came in, so these data were not saved. Try again later."),
    "too-large": N_("The care provider sent more data than Regie accepts at once. These data were not saved. Give the reference code to the care provider's helpdesk."),
    "not-fhir": N_("The care provider sent a web page instead of health data. These data were not saved. Try again later."),
    "unreadable": N_("The care provider sent data that Regie cannot read. Nothing of it was saved. Give the reference code to the care provider's helpdesk."),
    "operation-outcome": N_("The care provider answered with a message instead of data. Give the reference code to the care provider's helpdesk."),
    "bad-request": N_("The care provider did not understand this request. Give the reference code to the care provider's helpdesk."),
    "forbidden": N_("The care provider does not allow Regie to fetch these data. Contact the care provider."),
    "not-found": N_("The care provider does not offer these data (any more)."),
    "http-error": N_("The care provider gave an unexpected answer. Try again later."),
    "not-allowed": N_("Regie did not contact this address, because it is not on the MedMij list of trusted addresses."),
    "store-failed": N_("Regie could not save these data. Nothing was changed. Try again later."),
    "not-supported": N_("Regie cannot collect these data yet."),
    "interrupted": N_("The collection stopped halfway, because Regie was restarted. What came in before is saved. Try again to collect the rest."),
    "internal": N_("Something went wrong on our side. What came in before is saved. Try again later."),
}

STATES: dict[str, str] = {
    "pending": N_("Waiting for your permission"),
    "queued": N_("About to start"),
    "running": N_("Collecting"),
    "done": N_("Done"),
    "failed": N_("Not collected"),
    "interrupted": N_("Stopped halfway"),
}

SERVICE_STATES: dict[str, str] = {
    "complete": N_("Complete"),
    "partial": N_("Partly collected"),
    "failed": N_("Not collected"),
    "interrupted": N_("Stopped halfway"),
}


def error_text(code: str | None) -> str | None:
    """The English message id for an error code (OAuth error codes included)."""
    if code is None:
        return None
    return ERRORS.get(code) or (ERRORS["token-refused"] if code.startswith("token-") else ERRORS["oauth-error"])
