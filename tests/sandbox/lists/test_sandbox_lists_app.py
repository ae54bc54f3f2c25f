"""The sandbox Stelselnode ASGI app: serving, signatures, fault switches."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

import httpx
import pytest

from regie.medmij.lists import (
    ListKind,
    ListSignatureError,
    ListVersionError,
    Replacement,
    TrustAnchor,
    decide_replacement,
    load_signed_list,
)
from regie.sandbox.lists import ListPublisher, create_lists_app, default_config, trust_anchor_path


def get(app, *paths: str) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stelselnode.test") as c:
            return [await c.get(p) for p in paths]

    return asyncio.run(run())


@pytest.fixture
def publisher(tmp_path):
    return ListPublisher(default_config(), tmp_path)


@pytest.fixture
def anchor(publisher, tmp_path):
    # Regie is configured with the PEM file the sandbox wrote, not with the object.
    return TrustAnchor.from_file(trust_anchor_path(tmp_path))


def download(app, kind: ListKind, anchor: TrustAnchor):
    xml, sig = get(app, f"/{kind.filename}?api=2", f"/{kind.signature_filename}")
    return load_signed_list(xml.content, sig.content, kind, anchor)


@pytest.mark.parametrize("kind", list(ListKind), ids=lambda k: k.name)
def test_serves_list_and_signature(publisher, anchor, kind):
    app = create_lists_app(publisher)
    plain, with_api, sig = get(
        app, f"/{kind.filename}", f"/{kind.filename}?api=2", f"/{kind.signature_filename}"
    )
    assert plain.status_code == with_api.status_code == sig.status_code == 200
    assert plain.headers["content-type"].startswith("application/xml")
    assert sig.headers["content-type"].startswith("application/jose")
    assert plain.content == with_api.content
    assert load_signed_list(plain.content, sig.content, kind, anchor).header.volgnummer == 1


def test_unknown_path_is_404(publisher):
    (response,) = get(create_lists_app(publisher), "/MedMij_Catalogus.xml")
    assert response.status_code == 404


def test_fault_bad_signature(publisher, anchor):
    app = create_lists_app(publisher)
    publisher.faults.bad_signature.add(ListKind.WHITELIST)
    with pytest.raises(ListSignatureError, match="does not verify"):
        download(app, ListKind.WHITELIST, anchor)
    download(app, ListKind.OCL, anchor)  # the others are unaffected
    publisher.faults.clear()
    download(app, ListKind.WHITELIST, anchor)


def test_fault_lower_volgnummer(publisher, anchor):
    app = create_lists_app(publisher)
    publisher.publish(ListKind.GNL)
    held = download(app, ListKind.GNL, anchor)
    assert held.header.volgnummer == 2
    publisher.faults.lower_volgnummer.add(ListKind.GNL)
    rolled_back = download(app, ListKind.GNL, anchor)  # validly signed ...
    assert rolled_back.header.volgnummer == 1
    with pytest.raises(ListVersionError):  # ... but refused as a rollback
        decide_replacement(held, rolled_back, list_name="Gegevensdienstnamenlijst")


def test_fault_lower_volgnummer_serves_one_list_for_both_requests(tmp_path):
    """The rolled-back list and its signature match even when a second passes between them."""
    ticks = iter(range(1_000))
    publisher = ListPublisher(default_config(), tmp_path,
                              clock=lambda: datetime(2026, 3, 1, 9, 0, next(ticks) % 60, tzinfo=UTC))
    publisher.publish(ListKind.OCL)
    publisher.faults.lower_volgnummer.add(ListKind.OCL)
    first, second = publisher.current(ListKind.OCL), publisher.current(ListKind.OCL)
    assert first == second and first.volgnummer == 1
    anchor = TrustAnchor.from_file(trust_anchor_path(tmp_path))
    assert load_signed_list(first.xml, second.signature, ListKind.OCL, anchor).header.volgnummer == 1


def test_fault_provider_disappears(publisher, anchor):
    app = create_lists_app(publisher)
    before = download(app, ListKind.ZAL, anchor)
    publisher.hide_provider("ggzdekust@medmij")
    after = download(app, ListKind.ZAL, anchor)
    assert before.zorgaanbieder("ggzdekust@medmij") is not None
    assert after.zorgaanbieder("ggzdekust@medmij") is None
    assert decide_replacement(before, after) is Replacement.REPLACE
    publisher.restore_provider("ggzdekust@medmij")
    assert download(app, ListKind.ZAL, anchor).zorgaanbieder("ggzdekust@medmij") is not None


def test_equal_volgnummer_means_unchanged(publisher, anchor):
    app = create_lists_app(publisher)
    first = download(app, ListKind.OCL, anchor)
    second = download(app, ListKind.OCL, anchor)
    assert decide_replacement(first, second) is Replacement.UNCHANGED


def test_sandbox_never_imports_web_or_store():
    code = (
        "import sys, regie.sandbox.lists\n"
        "bad = [m for m in sys.modules if m.startswith(('regie.web', 'regie.store'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
