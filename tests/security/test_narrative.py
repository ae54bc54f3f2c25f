"""The narrative allow-list (regie.fhir.narrative, nh3): hostile markup out, layout in.

The browser proof is tests/browser/test_xss.py; these check the sanitiser itself against the usual
payloads, that what import stores is already clean, and that display sanitises again (an item
stored by an older version or read from another Regie's archive may carry anything).
"""
from __future__ import annotations

import pytest

from regie.fhir.narrative import narrative_html, sanitise
from regie.fhir.normalise import normalise
from regie.fhir.version import FhirVersion
from regie.record import item_from_dict, item_to_dict
from regie.web.narrative import narrative_markup

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<img src="https://kwaad.example/p.png">',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<a href="javascript:alert(1)">klik</a>',
    '<a href=" JaVaScRiPt:alert(1)">klik</a>',
    '<a href="data:text/html,<script>alert(1)</script>">klik</a>',
    '<a href="/account/delete">klik</a>',
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">tekst</p>',
    "<style>body{display:none}</style>",
    '<iframe src="https://kwaad.example"></iframe>',
    '<form action="https://kwaad.example"><input name="x"></form>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<base href="https://kwaad.example/">',
    '<meta http-equiv="refresh" content="0;url=https://kwaad.example">',
    "<!--<script>alert(1)</script>-->",
    '<div id="main" class="x" data-x="1">tekst</div>',
]
FORBIDDEN = ("<script", "onerror", "onclick", "onload", "javascript:", "data:", "<img", "<svg", "<style",
             "style=", "<iframe", "<form", "<input", "<object", "<embed", "<base", "<meta", "<math",
             "href=\"/", "id=", "class=", "kwaad.example/p", "<!--")


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markup_is_removed(payload: str) -> None:
    clean = sanitise(f'<div xmlns="http://www.w3.org/1999/xhtml">{payload}</div>').lower()
    assert not [word for word in FORBIDDEN if word in clean], clean


def test_layout_survives() -> None:
    markup = ('<div xmlns="http://www.w3.org/1999/xhtml"><p>Uitslag <b>vet</b> <i>schuin</i></p>'
              '<table><caption>Lab</caption><thead><tr><th scope="col">Bepaling</th></tr></thead>'
              '<tbody><tr><td colspan="2">Glucose</td></tr></tbody></table>'
              '<ul><li>een</li></ul><ol><li>twee</li></ol><a href="https://www.thuisarts.nl">Thuisarts</a></div>')
    clean = sanitise(markup)
    for kept in ("<p>", "<b>vet</b>", "<i>schuin</i>", "<caption>Lab</caption>", '<th scope="col">',
                 '<td colspan="2">Glucose</td>', "<ul><li>een</li></ul>", "<ol><li>twee</li></ol>",
                 'href="https://www.thuisarts.nl"', 'rel="noopener noreferrer nofollow"'):
        assert kept in clean, (kept, clean)


def test_import_stores_sanitised_markup_and_the_plain_text() -> None:
    resource = {"resourceType": "Flag", "id": "f", "status": "active", "code": {"text": "Vlag"},
                "text": {"status": "generated",
                         "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">Let op</p>'
                                '<script>alert(1)</script><table><tr><td>A</td></tr></table></div>'}}
    (item,) = normalise(resource, FhirVersion.R4)
    assert item.narrative is not None and item.narrative.startswith("Let op")  # plain text, escaped on display
    assert item.narrative_html == "<div><p>Let op</p><table><tbody><tr><td>A</td></tr></tbody></table></div>"
    assert item_from_dict(item_to_dict(item)) == item
    assert narrative_html({"text": {"div": "<script>x</script>"}}) is None


def test_display_sanitises_again() -> None:
    stored = {"narrative": "oud", "narrative_html": '<p>ok</p><img src=x onerror="alert(1)"><script>x</script>'}
    assert str(narrative_markup(stored)) == "<p>ok</p>"
    assert narrative_markup({"narrative": "alleen tekst"}) is None
