"""Texts of delegation (machtigen), in English as message ids; Dutch in locales/nl (B1)."""
from __future__ import annotations

from regie.access.ages import AgeBand
from regie.web.i18n import N_

ERRORS: dict[str, str] = {
    "invite-self": N_("You cannot invite yourself. Fill in the e-mail address of the person who will help."),
    "until-past": N_("The end date has already passed. Choose a date in the future, or leave it empty."),
    "until-invalid": N_("This is not a valid date. Use the date picker, or leave it empty."),
    "invite-unknown": N_("This link does not work (any more). It may have been used already or withdrawn. "
                         "Ask for a new invitation."),
    "invite-expired": N_("This invitation has expired. Ask for a new one."),
    "invite-own": N_("This invitation is for your own record. Someone else must accept it."),
    "invite-other-address": N_("This invitation was sent to another e-mail address. Log in with the account "
                               "of that address, or ask for an invitation to your own address."),
    "parent-scope": N_("A parent always sees the whole record of a child. You cannot limit this."),
    "not-16": N_("Only a child of 16 or older can decide this."),
    "not-parent": N_("This is not a parent of this record."),
    "unknown": N_("This access does not exist (any more)."),
    "child-name": N_("Fill in the name of your child."),
    "child-age": N_("Fill in the birth date of a child under 18."),
    "child-birth-invalid": N_("This is not a valid date. Use the date picker."),
    "not-child": N_("This is not the record of a child."),
    "already-claimed": N_("Your child already has an own login for this record."),
    "child-too-young": N_("A child gets an own login from the age of 12."),
    "nothing-chosen": N_("Choose at least one thing this person may see or do."),
    "email-required": N_("Fill in an e-mail address."),
    "mail-failed": N_("The e-mail could not be sent. Give the link below to the person yourself."),
}

STATES: dict[str, str] = {
    "invited": N_("invited, not accepted yet"),
    "active": N_("has access"),
    "expired": N_("access has ended (end date passed)"),
    "revoked": N_("access withdrawn"),
    "invitation-expired": N_("invitation expired"),
}

KINDS: dict[str, str] = {"caregiver": N_("caregiver"), "parent": N_("parent")}

#: The WGBO rules per age band, in plain words (docs/delegation.md).
BANDS: dict[AgeBand, str] = {
    AgeBand.UNDER_12: N_("Your child is younger than 12. By law, the parents decide about the health data "
                         "of their child. You manage this record. Both parents can have access."),
    AgeBand.FROM_12: N_("Your child is between 12 and 16. By law, your child now also has a say. "
                        "You still manage this record, but your child can get an own login. "
                        "Then your child can see the record and who has access to it."),
    AgeBand.FROM_16: N_("Your child is 16 or older. By law, your child now decides alone about their "
                        "health data. Your child takes over this record with an own login, and decides "
                        "whether you keep access."),
}

#: The same rules, told to the child.
CHILD_BANDS: dict[AgeBand, str] = {
    AgeBand.FROM_12: N_("You are between 12 and 16. Your parents still manage your record. You can see "
                        "everything in it, and who has access. When you are 16, you decide yourself."),
    AgeBand.FROM_16: N_("You are 16 or older. You now decide who may see your health data. Choose for each "
                        "parent whether they keep access."),
}

INVITE_SUBJECT = N_("You are invited to help in Regie")
INVITE_BODY = N_("Hello,\n\n{inviter} invites you to help with a health record in Regie.\n\n"
                 "Open this link to accept. You need your own Regie account, with a second factor. "
                 "The link works once, until {until}:\n\n{link}\n\n"
                 "Did you not expect this e-mail? Then you do not need to do anything.")
CLAIM_SUBJECT = N_("Your own login for Regie")
CLAIM_BODY = N_("Hello,\n\nYour parent invites you to make your own login for your health record in Regie.\n\n"
                "Open this link. It works once, until {until}:\n\n{link}\n\n"
                "Did you not expect this e-mail? Then you do not need to do anything.")

#: Lines of the owner's audit log written by delegation steps.
AUDIT_ACTIONS: dict[str, str] = {
    "delegation-invited": N_("invited someone to help"),
    "delegation-accepted": N_("accepted an invitation to help"),
    "delegation-changed": N_("changed what a helper may do"),
    "delegation-revoked": N_("ended someone's access"),
    "parent-kept": N_("let a parent keep access"),
    "child-created": N_("made this record for a child"),
    "child-login-invited": N_("invited the child to an own login"),
    "record-claimed": N_("took over the record with an own login"),
}
