"""Accepting a transaction or batch Bundle from a PGO (Delen)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

__all__ = ["apply_bundle"]


def _rewrite(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "reference" and isinstance(v, str) and v in mapping:
                out[k] = mapping[v]
            else:
                out[k] = _rewrite(v, mapping)
        return out
    if isinstance(value, list):
        return [_rewrite(v, mapping) for v in value]
    return value


def apply_bundle(bundle: dict[str, Any], new_id: Callable[[], str]
                 ) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """Check and apply a transaction/batch Bundle.

    Returns the response Bundle, the resources to keep (ids assigned, ``urn:uuid``
    references rewritten), and warnings about what the qualification scripts would
    reject (missing ``meta.profile``, POST entries with an id, PUT entries without one).
    Raises ValueError when the Bundle cannot be processed at all.
    """
    if bundle.get("resourceType") != "Bundle":
        raise ValueError("POST a Bundle to the service base")
    btype = bundle.get("type")
    if btype not in ("transaction", "batch"):
        raise ValueError(f"the Bundle type must be transaction or batch, not {btype!r}")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list) or not entries:
        raise ValueError("the Bundle has no entries")
    warnings: list[str] = []
    mapping: dict[str, str] = {}
    planned: list[tuple[dict[str, Any], str, str]] = []  # (resource, method, Type/id)
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        req = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise ValueError(f"entry {i} has no resource")
        if not isinstance(req, dict) or req.get("method") not in ("POST", "PUT"):
            raise ValueError(f"entry {i}: request.method must be POST or PUT")
        rtype = res["resourceType"]
        full_url = entry.get("fullUrl")
        if rtype != "Binary" and not (res.get("meta") or {}).get("profile"):
            warnings.append(f"entry {i} ({rtype}) declares no meta.profile")
        if req["method"] == "POST":
            if res.get("id"):
                warnings.append(f"entry {i} ({rtype}) is a POST but carries an id")
            if full_url and not str(full_url).startswith(("urn:uuid:", "urn:oid:")):
                warnings.append(f"entry {i} ({rtype}) is a POST with a fullUrl that is not "
                                "a urn:uuid or urn:oid")
            rid = new_id()
        else:
            rid = res.get("id") or str(req.get("url", "")).rsplit("/", 1)[-1]
            if not res.get("id") or not full_url:
                warnings.append(f"entry {i} ({rtype}) is a PUT without fullUrl and id")
            if not rid:
                raise ValueError(f"entry {i}: a PUT needs an id")
        ref = f"{rtype}/{rid}"
        if full_url:
            mapping[str(full_url)] = ref
        planned.append((res, req["method"], ref))
    kept: list[dict[str, Any]] = []
    response_entries = []
    for res, method, ref in planned:
        stored = _rewrite(copy.deepcopy(res), mapping)
        stored["id"] = ref.split("/", 1)[1]
        kept.append(stored)
        response_entries.append({"response": {
            "status": "201 Created" if method == "POST" else "200 OK",
            "location": f"{ref}/_history/1"}})
    response = {"resourceType": "Bundle", "type": f"{btype}-response",
                "entry": response_entries}
    return response, kept, warnings
