"""``Bundle.link[next]`` paging and ``Binary`` reads in the engine, over HTTP (an httpx
transport playing a provider that pages; the sandbox answers every search in one page).

A search's pages are followed in order and each page is ingested on its own; a
DocumentReference on a later page gets its document read; a next link to a host not on
the Whitelist is a failed receipt line and is never contacted; a next link that points
back to a page already read ends the chain instead of looping."""
from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import orjson

from regie.collect.engine import ProviderCollector, ServicePlan
from regie.collect.slots import ProviderSlots
from regie.medmij.fetch import AccessToken, FetchPolicy
from regie.medmij.services import Query
from regie.store.ingest import FileOutcome

BASE = "http://127.0.0.1/fhir/48"


def _bundle(entries: list[dict], following: str | None) -> bytes:
    links = [{"relation": "self", "url": "x"}] + ([{"relation": "next", "url": following}] if following else [])
    return orjson.dumps({"resourceType": "Bundle", "type": "searchset", "link": links,
                         "entry": [{"resource": r} for r in entries]})


def _provider(pages: dict[str, bytes]):
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        asked.append(url.removeprefix(BASE + "/"))
        assert request.headers["Authorization"] == "Bearer secret"
        body = pages.get(url.removeprefix(BASE + "/"))
        if body is None:
            return httpx.Response(404)
        return httpx.Response(200, content=body, headers={"Content-Type": "application/fhir+json"})

    return handle, asked


def _run(pages: dict[str, bytes], first: str) -> tuple[list[str], list, list[str]]:
    handle, asked = _provider(pages)
    stored: list[str] = []

    def ingest(body: bytes, name: str, plan: ServicePlan) -> FileOutcome:
        stored.append(name.split(" ", 1)[1])
        count = len(orjson.loads(body).get("entry") or []) or 1
        return FileOutcome(name, resources=count, new=count, by_category=Counter({"documents": count}))

    async def main():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
            collector = ProviderCollector(
                http, AccessToken("secret"), policy=FetchPolicy(allow_insecure_loopback=True, attempts=1),
                allowed_host=lambda url: httpx.URL(url).host == "127.0.0.1", correlation_id="c",
                ingest=ingest, new_reference=lambda: "RGE-TEST-0001", slots=ProviderSlots(4))
            query = Query("GET", first, (), "search")
            plan = ServicePlan("48", "Documenten", "STU3", BASE, (query,))
            return await collector.run([plan])

    [outcome] = asyncio.run(main())
    return asked, outcome.requests, stored


def test_every_page_is_followed_stored_and_its_documents_read() -> None:
    document = {"resourceType": "DocumentReference", "id": "d1",
                "content": [{"attachment": {"url": "Binary/b1", "contentType": "application/pdf"}}]}
    pages = {
        "DocumentReference": _bundle([{"resourceType": "DocumentReference", "id": "d0", "content": []}],
                                     f"{BASE}/DocumentReference?page=2"),
        "DocumentReference?page=2": _bundle([document], f"{BASE}/DocumentReference?page=3"),
        "DocumentReference?page=3": _bundle([{"resourceType": "DocumentReference", "id": "d2"}], None),
        "Binary/b1": orjson.dumps({"resourceType": "Binary", "id": "b1", "contentType": "application/pdf",
                                   "content": "JVBERi0="}),
    }
    asked, lines, stored = _run(pages, "DocumentReference")
    assert [a for a in asked if a.startswith("DocumentReference")] == [
        "DocumentReference", "DocumentReference?page=2", "DocumentReference?page=3"]
    assert asked.count("Binary/b1") == 1
    assert asked.index("Binary/b1") > asked.index("DocumentReference?page=2")  # found on page 2
    assert sorted(stored) == sorted(asked)  # every response ingested on its own
    assert all(line.ok for line in lines) and len(lines) == 4


def test_a_next_link_off_the_whitelist_is_a_failed_line_and_never_contacted() -> None:
    pages = {"DocumentReference": _bundle([], "https://elders.example/fhir/DocumentReference?page=2")}
    asked, lines, stored = _run(pages, "DocumentReference")
    assert asked == ["DocumentReference"] and stored == ["DocumentReference"]
    [first, refused] = lines
    assert first.ok and not refused.ok and refused.error == "not-allowed" and refused.reference


def test_a_next_link_back_to_a_page_already_read_ends_the_chain() -> None:
    pages = {"DocumentReference": _bundle([], f"{BASE}/DocumentReference?page=2"),
             "DocumentReference?page=2": _bundle([], f"{BASE}/DocumentReference")}
    asked, lines, _stored = _run(pages, "DocumentReference")
    assert asked == ["DocumentReference", "DocumentReference?page=2"]
    assert all(line.ok for line in lines)
