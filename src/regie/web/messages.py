"""Texts for the stable message codes that accounts and forms produce.

English here (the message ids); Dutch in locales/nl. Keep them B1: short
sentences, everyday words, say what to do.
"""
from __future__ import annotations

from regie.web.i18n import N_

MESSAGES: dict[str, str] = {
    "email-required": N_("Fill in your e-mail address."),
    "email-invalid": N_("This is not a valid e-mail address. Check it for typing errors."),
    "email-taken": N_("There is already an account with this e-mail address. Log in instead."),
    "password-required": N_("Fill in your password."),
    "password-too-short": N_("Your password is too short. Use at least 12 characters."),
    "password-too-long": N_("Your password is too long. Use at most 1024 characters."),
    "password-too-common": N_("Many people use this password, so it is easy to guess. Choose another one."),
    "password-too-simple": N_("This password is too simple. Use more different characters."),
    "password-contains-email": N_("Do not use your e-mail address in your password."),
    "password-same-as-old": N_("Your new password must be different from your current password."),
    "passwords-differ": N_("The two passwords are not the same. Type them again."),
    "current-password-wrong": N_("Your current password is not right."),
    "invalid-credentials": N_("The e-mail address or password is not right."),
    "code-required": N_("Fill in the code."),
    "totp-code-wrong": N_("This code is not right. Use the newest code from your app."),
    "invalid-second-factor": N_("This code is not right. Try again."),
    "recovery-code-wrong": N_("This recovery code is not right, or you already used it."),
    "throttled": N_("Too many wrong attempts. Wait a moment and try again."),
    "locked": N_("Too many wrong attempts. For your safety, logging in is blocked until {time}."),
    "token-name-required": N_("Give the token a name, so you know later what it is for."),
    "token-name-too-long": N_("The name is too long. Use at most 100 characters."),
    "last-factor": N_("You cannot remove your last way to log in. Add another one first."),
    "passkey-registration-failed": N_("Your passkey could not be added. Try again."),
    "session-expired": N_("This page was open for too long. Try again."),
}


def message(code: str) -> str:
    return MESSAGES.get(code, code)
