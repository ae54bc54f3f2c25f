"""Plain-language texts for send states and errors (English msgids, Dutch in the catalogue)."""
from __future__ import annotations

from regie.web.i18n import N_

STATES = {
    "pending": N_("Waiting for your permission"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "failed": N_("Not sent"),
}

KINDS = {
    "measurements": N_("Measurements"),
    "document": N_("Document"),
    "questionnaire": N_("Questionnaire"),
    "correction": N_("Correction request"),
}

ERRORS = {
    "access_denied": N_("You did not give permission, so nothing was sent."),
    "authorization-error": N_("The care provider could not ask for your permission. Nothing was sent. Try again later."),
    "server_error": N_("The care provider could not ask for your permission. Nothing was sent. Try again later."),
    "temporarily_unavailable": N_("The care provider is busy. Nothing was sent. Try again later."),
    "state-mismatch": N_("This link is not valid (any more). Start sending again."),
    "expired": N_("Giving permission took too long. Nothing was sent. Start again."),
    "not-in-zal": N_("This care provider does not accept this kind of data through MedMij (any more)."),
    "not-allowed": N_("The address of this care provider is not allowed. Nothing was sent."),
    "token-refused": N_("The care provider did not accept the permission. Nothing was sent. Start again."),
    "timeout": N_("The care provider did not answer in time. It is not certain whether the data arrived. Ask your care provider before you send again."),
    "connection": N_("No connection with the care provider. Nothing was sent. Try again later."),
    "unauthorized": N_("The care provider did not accept the permission. Nothing was sent. Start again."),
    "forbidden": N_("The care provider refused the data. Nothing was sent."),
    "refused": N_("The care provider refused the data. Nothing was sent."),
    "partly-refused": N_("The care provider accepted only part of the data."),
    "busy": N_("The care provider is busy. Nothing was sent. Try again later."),
    "server-error": N_("Something went wrong at the care provider. It is not certain whether the data arrived."),
    "internal": N_("Something went wrong in Regie. Nothing was sent."),
}


def error_text(code: str | None) -> str | None:
    if not code:
        return None
    return ERRORS.get(code, ERRORS["internal"])
