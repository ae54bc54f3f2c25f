"""Rendering helpers: texts translated when a template is compiled, one row per item, dates."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from markupsafe import Markup

from regie.web.i18n import LANGUAGES, translations
from regie.web.present import ItemLine, Presenter, item_url
from regie.web.templating import environment, for_language


def _runtime(message: str) -> str:
    return f"runtime:{message}"


def test_a_literal_text_is_translated_when_the_template_is_compiled() -> None:
    source = '{{ _("Overview") }}|{{ _("from") }} {{ _(\'Overview\') }}'
    assert for_language("nl").from_string(source).render(_=_runtime) == "Overzicht|van Overzicht"
    assert for_language("en").from_string(source).render(_=_runtime) == "Overview|from Overview"
    # The environment without a language leaves every call to render time.
    assert environment.from_string('{{ _("Overview") }}').render(_=_runtime) == "runtime:Overview"


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ _(word) }}", "runtime:Overview"),  # a variable: translated at render time
    ('{{ _("Over" ~ "view") }}', "runtime:Overview"),  # an expression
    ('{{ _("Overview", ) }}', "runtime:Overview"),  # more than the literal between the brackets
    ('{{ o._("Overview") }}', "runtime:Overview"),  # an attribute named _
    ('{{ _("Overview")|upper }}', "OVERZICHT"),
    ('{{ _("born {date}").format(date="1 mei 2000") }}', "geboren 1 mei 2000"),
])
def test_only_a_bare_call_with_one_literal_is_replaced(source: str, expected: str) -> None:
    class Holder:
        _ = staticmethod(_runtime)

    rendered = for_language("nl").from_string(source).render(_=_runtime, word="Overview", o=Holder())
    assert rendered == expected


def test_every_template_compiles_in_every_language() -> None:
    for language in LANGUAGES:
        env = for_language(language)
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)


def test_every_passkey_button_starts_disabled_until_its_script_listens() -> None:
    """static/passkeys-*.js enables the button once it handles clicks; an enabled button before
    that swallows a click made while the script loads (seen in a browser journey)."""
    env = for_language("nl")
    buttons = []
    for name in env.list_templates(extensions=["html"]):
        source = env.loader.get_source(env, name)[0]
        buttons += [(name, tag) for tag in re.findall(r"<button[^>]*data-passkey=[^>]*>", source)]
    assert len(buttons) >= 4
    for name, tag in buttons:
        assert re.search(r"\sdisabled\s", tag), f"{name}: {tag}"


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("2024", "nl", "2024"),
    ("2024-03", "nl", "maart 2024"),
    ("2024-03", "en", "March 2024"),
    ("2024-03-05", "nl", "5 mrt 2024"),
    ("2024-03-05", "en", "5 Mar 2024"),
    ("2024-03-05T10:41:00+01:00", "nl", "5 mrt 2024 10:41"),
    ("2024-03-05T00:00:00+01:00", "nl", "5 mrt 2024"),
    ("not a date", "nl", "not a date"),
    ("", "nl", ""),
    (None, "nl", ""),
])
def test_dates_in_words(text: str | None, language: str, expected: str) -> None:
    p = Presenter(language, translations(language).gettext)
    assert p.date(text) == expected
    assert p.date(text) == expected  # the second time from the cache


ITEMS = [
    {"id": "a" * 32, "category": "results", "resource_type": "Observation", "title": "Glucose", "date": "2024-03-05T08:05:00+01:00",
     "status": "final", "sources": ["Lab", "GP"], "value": {"type": "quantity", "value": "7.9", "unit": "mmol/L"},
     "reference_ranges": [{"low": {"value": "4.0", "unit": "mmol/L"}, "high": {"value": "7.8", "unit": "mmol/L"}}],
     "codes": [{"system": "http://loinc.org", "code": "15074-8"}],
     "links": [{"relation": "performer", "reference": "Patient/1"}]},
    {"id": "b" * 32, "category": "journal", "resource_type": "Observation", "title": None, "kind": "Observation/journal-S",
     "date": "2023-11", "end": "2024-01-02", "status": "preliminary", "attention": True, "active": False, "sources": []},
    {"id": "c" * 32, "category": "documents", "resource_type": "DocumentReference", "title": "Letter", "active": True},
]


@pytest.mark.parametrize("item", ITEMS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_item_line_holds_what_the_single_methods_give(item: dict, language: str) -> None:
    p = Presenter(language, translations(language).gettext)
    line = p.line(item)
    assert isinstance(line, ItemLine)
    status = item.get("status")
    assert line == ItemLine(
        url=item_url(item), title=item.get("title", ""), day=p.iso_day(item.get("date")), date=p.date(item.get("date")),
        end_day=p.iso_day(item.get("end")), end=p.date(item.get("end")), value=p.summary_value(item), flag=p.flag(item),
        category=p.category(item["category"]), kind=p.kind(item), letter=p.journal_letter(item), term=p.first_term(item),
        sources=", ".join(item.get("sources", ())), attention=item.get("attention"), active=item.get("active"),
        status=p.status(status) if status not in (None, "active", "final", "current") else "",
        self_measured=p.self_measured(item), range=p.range_text(item.get("reference_ranges")), trend=p.trend_code(item))


# The rows as the templates wrote them before Presenter.item_rows and Presenter.result_rows
# (_record.html's item_list loop, record_category.html's results table): the methods must
# give the same markup, white space included.
_ITEM_LIST_ROWS = """{% set from_word = _("from") %}
{% for item in items %}
{% set line = p.line(item) %}
<li class="item">
  <p class="item-title"><a href="{{ line.url }}">{{ line.title or _("(no title)") }}</a>
    {% if line.value %} <span class="value">{{ line.value }}</span>{% endif %}
    {%+ if line.flag %}<span class="flag flag-{{ line.flag[1] }}">{{ line.flag[0] }}</span>{% endif %}</p>
  <p class="meta">
    {% if line.date %}<time datetime="{{ line.day }}">{{ line.date }}</time>{% if line.end %} – <time datetime="{{ line.end_day }}">{{ line.end }}</time>{% endif %}{% else %}{{ _("no date") }}{% endif %}
    {% if show_category %} · {{ line.category }}{% endif %}
    {% if line.kind %} · {{ line.kind }}{% if line.letter %} {{ line.letter }}{% endif %}{% endif %}
    · {{ from_word }} {{ line.sources }}
    {%+ if line.attention %}<span class="badge badge-attention">{{ _("Attention flag") }}</span>{% endif %}
{% if line.active is true %}<span class="badge badge-current">{{ _("current") }}</span>{% elif line.active is false %}<span class="badge">{{ _("past") }}</span>{% endif %}
{% if line.status %}<span class="badge">{{ line.status }}</span>{% endif +%}
  </p>
  {% if line.term %}<p class="term">{{ line.term }}</p>{% endif %}
</li>
{% endfor %}
"""
_RESULT_ROWS = """    {% set trend_word = _("trend") %}
    {% for item in items %}
      {% set line = p.line(item) %}
      <tr>
        <td><time datetime="{{ line.day }}">{{ line.date }}</time></td>
        <td><a href="{{ line.url }}">{{ line.title }}</a>{% if line.self_measured %} <span class="badge">{{ _("measured yourself") }}</span>{% endif %}</td>
        <td>{{ line.value }} {% if line.flag %}<span class="flag flag-{{ line.flag[1] }}">{{ line.flag[0] }}</span>{% endif %}</td>
        <td>{{ line.range }}</td>
        <td>{% if line.trend %}<a href="/results/{{ line.trend }}">{{ trend_word }}<span class="visually-hidden"> {{ line.title }}</span></a>{% endif %}</td>
      </tr>
    {% endfor %}
"""
MORE_ITEMS = ITEMS + [
    {"id": "d" * 32, "category": "vital_signs", "resource_type": "Observation", "title": "Blood <pressure> & \"more\"",
     "kind": "Observation/blood-pressure", "date": "2024-06-01T00:00:00+02:00", "status": "amended",
     "sources": ["GP's <practice>"], "codes": [{"system": "http://loinc.org", "code": "85354-9"}],
     "components": [{"value": {"type": "quantity", "value": "120", "unit": "mm[Hg]"}},
                    {"value": {"type": "quantity", "value": "80", "unit": "mm[Hg]"}}]},
    {"id": "e" * 32, "category": "medication", "resource_type": "MedicationRequest", "title": "",
     "kind": "MedicationRequest/medication-agreement", "status": "stopped", "active": None, "attention": 0,
     "end": "2024", "sources": ["A", "B"], "interpretation": [{"code": "HH"}],
     "value": {"type": "quantity", "value": "5", "comparator": "<", "unit": "mg"}},
    {"id": "f" * 32, "category": "journal", "resource_type": "Observation", "kind": "Observation/journal-",
     "date": "not a date", "status": "a status of its own", "sources": None,
     "reference_ranges": [{"text": "below <5"}], "value": {"type": "coding", "display": "positive & clear"}},
    {"id": "1" * 32, "category": "problems", "resource_type": "Condition", "title": "Diabetes", "kind": "Condition",
     "date": "2019-04-02", "active": True, "attention": True,
     "codes": [{"system": "http://hl7.org/fhir/sid/icpc-1-nl", "code": "T90"}]},
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("show_category", [False, True])
def test_item_rows_are_the_rows_the_template_wrote(language: str, show_category: bool) -> None:
    p = Presenter(language, translations(language).gettext)
    env = for_language(language)
    expected = env.from_string(_ITEM_LIST_ROWS).render(p=p, items=MORE_ITEMS, show_category=show_category)
    assert p.item_rows(MORE_ITEMS, show_category) == expected
    assert p.item_rows([]) == ""
    assert '<a href="/record/items/' + "d" * 32 + '">Blood &lt;pressure&gt; &amp; &#34;more&#34;</a>' in expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_result_rows_are_the_rows_the_template_wrote(language: str) -> None:
    p = Presenter(language, translations(language).gettext)
    expected = for_language(language).from_string(_RESULT_ROWS).render(p=p, items=MORE_ITEMS)
    assert p.result_rows(MORE_ITEMS) == expected
    assert p.result_rows([]) == ""


def test_a_fragment_the_same_for_everyone_is_rendered_once_per_key() -> None:
    source = '{% call same_for_everyone("test-fragment", key) %}{{ count.append(1) or "" }}{{ _("Overview") }} {{ key }}{% endcall %}'
    count: list[int] = []
    for language, expected in (("nl", "Overzicht"), ("en", "Overview")):
        template = for_language(language).from_string(source)
        assert template.render(key=("a", language), count=count) == f"{expected} (&#39;a&#39;, &#39;{language}&#39;)"
        assert template.render(key=("a", language), count=count) == f"{expected} (&#39;a&#39;, &#39;{language}&#39;)"
    assert len(count) == 2  # once per key
    # A key that cannot be one (a list) is rendered every time.
    template = for_language("nl").from_string(source)
    assert template.render(key=["b"], count=count) == "Overzicht [&#39;b&#39;]"
    assert template.render(key=["b"], count=count) == "Overzicht [&#39;b&#39;]"
    assert len(count) == 4


# The badges of the item page and the trend page are the Presenter's (p.badges, p.flag_badge),
# the same rule as the list rows: a page written with badge markup of its own fails here.
def _page_values(language: str) -> dict:
    catalog = translations(language)
    return {"request": SimpleNamespace(url=SimpleNamespace(path="/x"), state=SimpleNamespace()),
            "_": catalog.gettext, "gettext": catalog.gettext, "lang": language, "csrf_token": "t", "signed_in": False,
            "ngettext": lambda singular, plural, n: catalog.ngettext(singular, plural, n) % {"num": n},
            "when": lambda moment: "", "version": "v", "p": Presenter(language, catalog.gettext), "menu": (),
            "glossary": ()}


BADGE_CASES = [dict(item, id=f"{n:032d}", attention=attention, active=active, status=status,
                    provenance={"source": "GP", "file": None, "arrived_at": "2024-01-01T00:00:00", "version": 1})
               for n, (item, attention, active, status) in enumerate(
                   (item, attention, active, status) for item in MORE_ITEMS for attention in (None, True)
                   for active in (None, True, False)
                   for status in (None, "final", "preliminary", "entered-in-error", "a <status> & 'its own'"))]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_item_page_shows_the_presenters_badges(language: str) -> None:
    values = _page_values(language)
    p = values["p"]
    template = for_language(language).get_template("record_item.html")
    seen = set()
    for item in BADGE_CASES:
        page = template.render(item=item, withdrawn=False, related=[], **values)
        meta = re.search(r"</h1>\n<p class=\"meta\">(.*?)</p>\n", page).group(1)
        assert meta == p.badges(item)
        # ... and the badges of the item's row in a list.
        row = re.search(r" · [^\n]*\n    (.*)\n  </p>", p.item_rows([item])).group(1)
        assert row == meta
        flag = p.flag(item)
        if item.get("value"):
            value = re.search(r'<dd><span class="value">[^<]*</span> (.*)\n', page).group(1)
            assert value == p.flag_badge(flag)
            assert (value != "") is bool(flag)
        seen.add(meta)
    words = {"nl": ("Attentiewaarde", "actueel", "voorbij", "voorlopig"),
             "en": ("Attention flag", "current", "past", "preliminary")}[language]
    assert (f'<span class="badge badge-attention">{words[0]}</span><span class="badge badge-current">{words[1]}</span>'
            f'<span class="badge">{words[3]}</span>') in seen
    assert f'<span class="badge">{words[2]}</span><span class="badge">a &lt;status&gt; &amp; &#39;its own&#39;</span>' in seen
    assert "" in seen


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_trend_page_shows_the_presenters_flag_badges(language: str) -> None:
    values = _page_values(language)
    p = values["p"]
    low = {"value": {"type": "quantity", "value": "1"}, "reference_ranges": [{"low": {"value": "2"}}]}
    flags = [p.flag(item) for item in [*MORE_ITEMS, low]] + [("A <Word> & 'more'", 'c"lass')]
    assert {f[1] for f in flags if f} == {"high", "low", 'c"lass'} and None in flags
    rows = [{"item": {"id": "a" * 32, "date": "2024-01-01", "sources": ["Lab"]}, "test": "Glucose",
             "value": {"type": "quantity", "value": "7.9", "unit": "xyz"}, "range": "", "flag": flag, "mine": False,
             "code": "c"} for flag in flags]
    page = for_language(language).get_template("results_trend.html").render(
        code="c", title="Glucose", chart=Markup("<svg></svg>"), rows=rows, series=[], ranges={}, units=[], others=[],
        compare=[], explanation=None, item_url=item_url, too_many_units=False, **values)
    shown = re.findall(r"<td>7[.,]9 xyz (.*)</td>\n", page)
    assert shown == [p.flag_badge(flag) for flag in flags]
    assert shown[-1] == '<span class="flag flag-c&#34;lass">A &lt;Word&gt; &amp; &#39;more&#39;</span>'
    # ... the same badge as the rows of the results table.
    for item in MORE_ITEMS:
        assert f" {p.flag_badge(p.flag(item))}</td>\n        <td>" in p.result_rows([item])
