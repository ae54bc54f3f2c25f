"""Delegation in Chromium: invite → accept → scoped view → revoke, and a parent managing a
child's record. Every page passes axe (WCAG 2.1 AA) at desktop and phone width.

SQLite only: tests/delegation runs the same steps on both databases. Without a mail server
the invitation link is shown to the owner, who passes it on (docs/delegation.md).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.access.world import ALLERGY, DIAGNOSIS, seed_record, years_ago
from tests.browser.conftest import LiveServer
from tests.browser.pages import check_page
from tests.browser.pages import register_with_totp as _register

# Browser pages are checked on SQLite; tests/delegation covers PostgreSQL.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _user(live_server: LiveServer, email: str):
    context = live_server.context
    with context.db.session() as session:
        return context.accounts.by_email(session, email)


def test_invite_accept_scoped_view_revoke(chromium, page: Page, live_server: LiveServer, output_dir: Path,
                                          database_url: str) -> None:
    base = live_server.base_url
    owner_context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    owner = owner_context.new_page()
    _register(owner, live_server, "patient@voorbeeld.nl")
    seed_record(live_server.context, _user(live_server, "patient@voorbeeld.nl"))

    owner.goto(base + "/helping")
    check_page(owner, output_dir, "helping-own")
    owner.get_by_role("link", name="Toegang tot mijn dossier").click()
    owner.get_by_role("link", name="Iemand uitnodigen om te helpen").click()
    owner.get_by_label("E-mailadres").fill("helper@voorbeeld.nl")
    owner.get_by_label("Naam (voor uzelf, niet verplicht)").fill("Buurvrouw Ans")
    owner.get_by_role("button", name="Uitnodiging sturen").click()
    expect(owner.locator(".alert-error")).to_be_visible()  # nothing chosen: a clear message
    check_page(owner, output_dir, "invite-form-error")
    owner.get_by_label("Allergieën en overgevoeligheden").check()
    owner.get_by_role("button", name="Uitnodiging sturen").click()
    link = owner.locator("[data-invite-link]").inner_text()
    check_page(owner, output_dir, "delegations-invited")

    # The helper: an own account with an own second factor, then accept.
    page.regie_expected_statuses.add(403)
    page.goto(link)
    expect(page.locator("main")).to_contain_text("patient@voorbeeld.nl")
    check_page(page, output_dir, "invitation-anonymous")
    _register(page, live_server, "helper@voorbeeld.nl")
    page.goto(link)
    check_page(page, output_dir, "invitation-signed-in")
    page.get_by_role("button", name="Uitnodiging aannemen").click()
    expect(page).to_have_url(re.compile(r"/helping$"))
    check_page(page, output_dir, "helping-chooser")
    page.get_by_role("button", name="Dit dossier openen").click()
    expect(page.locator("[data-acting-owner]")).to_have_text("patient@voorbeeld.nl")
    check_page(page, output_dir, "overview-as-helper")
    page.goto(base + "/record/allergies")
    expect(page.locator("main")).to_contain_text(ALLERGY)
    check_page(page, output_dir, "allergies-as-helper")
    page.goto(base + "/record/problems")
    expect(page.locator("h1")).to_have_text("Dit mag u niet")
    assert DIAGNOSIS not in page.content()
    check_page(page, output_dir, "refused-category")

    # The owner ends it; the helper's open session loses access at once.
    owner.goto(base + "/delegations")
    owner.get_by_role("button", name="Toegang stoppen").click()
    expect(owner.locator("main")).to_contain_text("toegang ingetrokken")
    check_page(owner, output_dir, "delegations-revoked")
    page.goto(base + "/record/allergies")
    expect(page.locator("h1")).to_have_text("Uw toegang is gestopt")
    check_page(page, output_dir, "access-ended")
    owner.goto(base + "/audit")
    expect(owner.locator("main")).to_contain_text("helper@voorbeeld.nl")
    check_page(owner, output_dir, "audit-names-helper")
    owner_context.close()


def test_a_parent_manages_a_childs_record(page: Page, live_server: LiveServer, output_dir: Path,
                                          database_url: str) -> None:
    base = live_server.base_url
    _register(page, live_server, "ouder@voorbeeld.nl")
    page.goto(base + "/helping")
    page.get_by_role("link", name="Een dossier maken voor mijn kind").click()
    page.get_by_label("Naam van uw kind").fill("Noor")
    page.get_by_role("button", name="Dossier maken").click()
    expect(page.locator(".alert-error")).to_be_visible()
    check_page(page, output_dir, "child-form-error")
    page.get_by_label("Geboortedatum").fill(years_ago(13).isoformat())
    page.get_by_role("button", name="Dossier maken").click()
    expect(page.locator(".wgbo")).to_contain_text("tussen 12 en 16")
    expect(page.locator("[data-acting-owner]")).to_have_text("Noor")
    check_page(page, output_dir, "child-delegations")

    context = live_server.context
    child_id = re.search(r'name="owner" value="([0-9a-f]{32})"',
                         page.request.get(base + "/helping").text()).group(1)
    with context.db.session() as session:
        child = context.accounts.user(session, child_id)
    seed_record(context, child)
    page.goto(base + "/")
    expect(page.locator("[data-acting-owner]")).to_have_text("Noor")
    check_page(page, output_dir, "child-overview")
    page.goto(base + "/delegations/invite?kind=parent")
    check_page(page, output_dir, "invite-other-parent")
    page.goto(base + "/helping")
    page.get_by_label("Mijn eigen dossier").check()
    page.get_by_role("button", name="Dit dossier openen").click()
    expect(page.locator(".acting")).to_contain_text("Dit is uw eigen dossier.")
    assert ALLERGY not in page.content()
