"""A FHIR Questionnaire (STU3, and the R4 spellings where they differ) as a form.

:func:`parse` turns the Questionnaire into :class:`Item` trees. The user's answers are kept
as the raw strings the form posted (``linkId -> [text, ...]``): that is the draft, and it
survives any mistake. :func:`evaluate` checks them against the items (types, required,
limits, the options offered) and evaluates ``enableWhen`` on the server, so the form works
without JavaScript; answers to questions that are switched off are dropped, never sent.
:func:`response_items` builds the QuestionnaireResponse items from checked answers.

Supported item types: group, display, boolean, decimal, integer, date, dateTime, time,
string, text, url, choice, open-choice, quantity. Others (attachment, reference) are
shown as "cannot be answered here" and never block sending unless required.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from regie.web.i18n import N_

EXT = "http://hl7.org/fhir/StructureDefinition/"
UNIT_EXT = EXT + "questionnaire-unit"
MIN_VALUE_EXT = EXT + "minValue"
MAX_VALUE_EXT = EXT + "maxValue"
MAX_DECIMALS_EXT = EXT + "maxDecimalPlaces"
ITEM_CONTROL_EXT = EXT + "questionnaire-itemControl"
SUPPORTED = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string",
             "text", "url", "choice", "open-choice", "quantity"}
MAX_TEXT = 4000
OTHER = "__other__"  # the form value of "something else" in an open-choice


@dataclass(frozen=True)
class Option:
    key: str  # what the form posts: the option's index
    label: str
    value: dict[str, Any]  # {"valueCoding": {...}} / {"valueString": ...} / ...


@dataclass(frozen=True)
class Condition:
    question: str
    operator: str  # "exists" or "=" / "!=" / ">" / "<" / ">=" / "<="
    answer: Any  # for "exists": True/False; else {"valueX": ...}


@dataclass
class Item:
    link_id: str
    type: str
    text: str = ""
    prefix: str = ""
    required: bool = False
    repeats: bool = False
    read_only: bool = False
    max_length: int | None = None
    unit: dict[str, Any] | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    max_decimals: int | None = None
    options: list[Option] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    behavior: str = "any"
    items: list[Item] = field(default_factory=list)
    control: str = ""

    @property
    def answerable(self) -> bool:
        return self.type not in ("group", "display") and self.type in SUPPORTED and not self.read_only

    @property
    def form_name(self) -> str:
        return f"q-{self.link_id}"

    @property
    def input_id(self) -> str:
        return "q-" + re.sub(r"[^A-Za-z0-9_-]", "_", self.link_id)


def _ext(element: dict[str, Any], url: str) -> Any:
    for ext in element.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            for key, value in ext.items():
                if key.startswith("value"):
                    return value
    return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    return None


def _option_label(value: dict[str, Any]) -> str:
    for key, v in value.items():
        if key == "valueCoding" and isinstance(v, dict):
            return str(v.get("display") or v.get("code") or "")
        if key.startswith("value"):
            return str(v)
    return ""


def _condition(raw: dict[str, Any]) -> Condition | None:
    question = raw.get("question")
    if not isinstance(question, str):
        return None
    if "hasAnswer" in raw:  # STU3
        return Condition(question, "exists", bool(raw["hasAnswer"]))
    operator = raw.get("operator", "=")
    for key, value in raw.items():
        if key.startswith("answer"):
            if operator == "exists":
                return Condition(question, "exists", bool(value))
            return Condition(question, operator, {"value" + key[len("answer"):]: value})
    return None


def _item(raw: dict[str, Any]) -> Item:
    item = Item(link_id=str(raw.get("linkId", "")), type=str(raw.get("type", "")), text=str(raw.get("text") or ""),
                prefix=str(raw.get("prefix") or ""), required=bool(raw.get("required")),
                repeats=bool(raw.get("repeats")), read_only=bool(raw.get("readOnly")))
    if isinstance(raw.get("maxLength"), int):
        item.max_length = raw["maxLength"]
    unit = _ext(raw, UNIT_EXT)
    item.unit = unit if isinstance(unit, dict) else None
    item.min_value = _number(_ext(raw, MIN_VALUE_EXT))
    item.max_value = _number(_ext(raw, MAX_VALUE_EXT))
    decimals = _ext(raw, MAX_DECIMALS_EXT)
    item.max_decimals = decimals if isinstance(decimals, int) else None
    control = _ext(raw, ITEM_CONTROL_EXT)
    if isinstance(control, dict):
        item.control = str(((control.get("coding") or [{}])[0]).get("code") or "")
    for index, opt in enumerate(raw.get("option") or raw.get("answerOption") or []):
        value = {k: v for k, v in opt.items() if k.startswith("value")} if isinstance(opt, dict) else {}
        if value:
            item.options.append(Option(str(index), _option_label(value), value))
    for cond in raw.get("enableWhen") or []:
        parsed = _condition(cond) if isinstance(cond, dict) else None
        if parsed:
            item.conditions.append(parsed)
    item.behavior = "all" if raw.get("enableBehavior") == "all" else "any"
    item.items = [_item(child) for child in raw.get("item") or [] if isinstance(child, dict)]
    return item


def parse(questionnaire: dict[str, Any]) -> list[Item]:
    return [_item(raw) for raw in questionnaire.get("item") or [] if isinstance(raw, dict)]


def walk(items: list[Item]):
    for item in items:
        yield item
        yield from walk(item.items)


# --- checking answers -----------------------------------------------------------------
Raw = dict[str, list[str]]


@dataclass
class Checked:
    """Typed answers (``linkId -> [{"valueX": ...}]``), errors per linkId (msgids with
    values), which items are switched on, and the raw draft."""

    values: dict[str, list[dict[str, Any]]]
    errors: dict[str, tuple[str, dict[str, Any]]]
    enabled: dict[str, bool]
    raw: Raw


def from_form(items: list[Item], form) -> Raw:
    """The raw answers in a posted form (a Starlette FormData or a dict of lists)."""
    raw: Raw = {}
    for item in walk(items):
        if not item.answerable:
            continue
        getter = form.getlist if hasattr(form, "getlist") else (lambda k: form.get(k, []))
        values = [str(v).strip()[:MAX_TEXT] for v in getter(item.form_name) if str(v).strip()]
        if item.type == "quantity" and values:
            values = values[:1]
        if item.type == "open-choice":
            other = [str(v).strip()[:MAX_TEXT] for v in getter(item.form_name + "-other") if str(v).strip()]
            values = [v for v in values if v != OTHER] + (["text:" + other[0]] if other and OTHER in
                                                            [str(x) for x in getter(item.form_name)] else [])
        if item.type == "string" and item.repeats and len(values) == 1:
            values = [line.strip() for line in values[0].splitlines() if line.strip()]
        if values:
            raw[item.link_id] = values[:50]
    return raw


def _typed(item: Item, text: str) -> tuple[dict[str, Any] | None, tuple[str, dict[str, Any]] | None]:
    """One raw answer as a FHIR answer value, or an error."""
    t = item.type
    if t == "boolean":
        if text in ("true", "false"):
            return {"valueBoolean": text == "true"}, None
        return None, (N_("Choose yes or no."), {})
    if t in ("integer", "decimal", "quantity"):
        number = text.replace(",", ".")
        try:
            value = Decimal(number)
        except InvalidOperation:
            return None, (N_("Fill in a number, such as 12 or 7.5."), {})
        if not value.is_finite():
            return None, (N_("Fill in a number, such as 12 or 7.5."), {})
        if t == "integer" and value != value.to_integral_value():
            return None, (N_("Fill in a whole number, without a comma."), {})
        if item.max_decimals is not None and -value.as_tuple().exponent > item.max_decimals:  # type: ignore[operator]
            return None, (N_("Use at most {n} digits after the comma."), {"n": item.max_decimals})
        if item.min_value is not None and value < item.min_value:
            return None, (N_("The lowest possible answer is {n}."), {"n": item.min_value})
        if item.max_value is not None and value > item.max_value:
            return None, (N_("The highest possible answer is {n}."), {"n": item.max_value})
        if t == "integer":
            return {"valueInteger": int(value)}, None
        if t == "decimal":
            return {"valueDecimal": float(value)}, None
        quantity: dict[str, Any] = {"value": float(value)}
        if item.unit:
            quantity.update({k: v for k, v in (("unit", item.unit.get("display") or item.unit.get("code")),
                                                ("system", item.unit.get("system")),
                                                ("code", item.unit.get("code"))) if v})
        return {"valueQuantity": quantity}, None
    if t == "date":
        try:
            return {"valueDate": date.fromisoformat(text).isoformat()}, None
        except ValueError:
            return None, (N_("Use a date such as 2026-01-31."), {})
    if t == "dateTime":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None, (N_("Use a date and time such as 2026-01-31 14:30."), {})
        if moment.tzinfo is None:  # what a datetime-local field posts: Dutch time
            moment = moment.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
        return {"valueDateTime": moment.isoformat(timespec="seconds")}, None
    if t == "time":
        try:
            return {"valueTime": time.fromisoformat(text).isoformat(timespec="seconds")}, None
        except ValueError:
            return None, (N_("Use a time such as 08:30."), {})
    if t in ("string", "text", "url"):
        if item.max_length is not None and len(text) > item.max_length:
            return None, (N_("Use at most {n} characters."), {"n": item.max_length})
        if t == "string" and "\n" in text:
            return None, (N_("Use one line."), {})
        if t == "url":
            if not re.match(r"^https?://\S+$", text):
                return None, (N_("Fill in a web address that starts with https://."), {})
            return {"valueUri": text}, None
        return {"valueString": text}, None
    if t in ("choice", "open-choice"):
        if t == "open-choice" and text.startswith("text:"):
            return {"valueString": text[5:]}, None
        for option in item.options:
            if option.key == text:
                return dict(option.value), None
        return None, (N_("Choose one of the answers."), {})
    return None, (N_("This question cannot be answered in Regie."), {})


def _equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    (ka, va), = a.items() if len(a) == 1 else ((None, None),)
    (kb, vb), = b.items() if len(b) == 1 else ((None, None),)
    if ka == "valueCoding" and kb == "valueCoding":
        same_code = va.get("code") == vb.get("code")
        systems = va.get("system"), vb.get("system")
        return same_code and (None in systems or systems[0] == systems[1])
    if ka == "valueQuantity" or kb == "valueQuantity":
        va = va.get("value") if isinstance(va, dict) else va
        vb = vb.get("value") if isinstance(vb, dict) else vb
    na, nb = _number(va), _number(vb)
    if na is not None and nb is not None and not isinstance(va, bool) and not isinstance(vb, bool):
        return na == nb
    return va == vb


def _compare(a: dict[str, Any], b: dict[str, Any], operator: str) -> bool:
    if operator == "=":
        return _equal(a, b)
    if operator == "!=":
        return not _equal(a, b)
    va, vb = next(iter(a.values())), next(iter(b.values()))
    if isinstance(va, dict):
        va = va.get("value")
    if isinstance(vb, dict):
        vb = vb.get("value")
    na, nb = _number(va), _number(vb)
    left, right = (na, nb) if na is not None and nb is not None else (str(va), str(vb))
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}.get(operator, False)


def _holds(condition: Condition, values: dict[str, list[dict[str, Any]]]) -> bool:
    answers = values.get(condition.question) or []
    if condition.operator == "exists":
        return bool(answers) == bool(condition.answer)
    return any(_compare(answer, condition.answer, condition.operator) for answer in answers)


def evaluate(items: list[Item], raw: Raw, *, complete: bool) -> Checked:
    """Check *raw* against *items* in document order (a condition refers to an earlier
    question, whose answer is known by then); *complete*: required questions count."""
    checked = Checked({}, {}, {}, raw)

    def visit(nodes: list[Item], parent_on: bool) -> None:
        for item in nodes:
            on = parent_on
            if on and item.conditions:
                results = [_holds(c, checked.values) for c in item.conditions]
                on = all(results) if item.behavior == "all" else any(results)
            checked.enabled[item.link_id] = on
            if on and item.answerable:
                typed = []
                for text in raw.get(item.link_id, [])[: None if item.repeats else 1]:
                    value, error = _typed(item, text)
                    if error:
                        checked.errors[item.link_id] = error
                    elif value is not None:
                        typed.append(value)
                if len(raw.get(item.link_id, [])) > 1 and not item.repeats:
                    checked.errors.setdefault(item.link_id, (N_("Give one answer."), {}))
                if typed and item.link_id not in checked.errors:
                    checked.values[item.link_id] = typed
                elif complete and item.required and item.link_id not in checked.errors:
                    checked.errors[item.link_id] = (N_("This question needs an answer."), {})
            elif on and complete and item.required and item.type not in SUPPORTED:
                checked.errors[item.link_id] = (N_("This question cannot be answered in Regie."), {})
            visit(item.items, on)

    visit(items, True)
    return checked


def response_items(items: list[Item], checked: Checked) -> list[dict[str, Any]]:
    """QuestionnaireResponse items for everything answered and switched on; groups with
    no answers inside are left out (FHIR forbids empty items)."""
    out: list[dict[str, Any]] = []
    for item in items:
        if not checked.enabled.get(item.link_id, False) or item.type == "display":
            continue
        children = response_items(item.items, checked)
        entry: dict[str, Any] = {"linkId": item.link_id}
        if item.text:
            entry["text"] = item.text
        answers = checked.values.get(item.link_id) if item.answerable else None
        if answers:
            entry["answer"] = [dict(a) for a in answers]
            if children:  # STU3: questions nested under a question hang under its answer
                entry["answer"][0]["item"] = children
        elif children:
            entry["item"] = children
        else:
            continue
        out.append(entry)
    return out


def display_answer(value: dict[str, Any], gettext=lambda s: s, number=str) -> str:
    """An answer as a person reads it (for the preview); *number* formats numbers."""
    for key, v in value.items():
        if key == "valueCoding":
            return str(v.get("display") or v.get("code"))
        if key == "valueQuantity":
            return f"{number(v.get('value'))} {v.get('unit', '')}".strip()
        if key in ("valueDecimal", "valueInteger"):
            return number(v)
        if key == "valueBoolean":
            return gettext(N_("Yes") if v else N_("No"))
        if key.startswith("value"):
            return str(v)
    return ""
