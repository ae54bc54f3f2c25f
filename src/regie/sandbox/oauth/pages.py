"""HTML pages of the sandbox: DigiD simulator, consent, access log, errors, overview.

Plain, accessible HTML: lang="nl", a label on every input, Dutch at B1 level, no script.
Every value is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

from regie.sandbox.config import Person, Provider, SandboxConfig

from .state import LogEntry

__all__ = [
    "CSS",
    "EVENT_LABELS",
    "access_log_page",
    "consent_page",
    "digid_page",
    "error_page",
    "overview_page",
]

_NL = ZoneInfo("Europe/Amsterdam")

CSS = """\
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; background: #fff; }
.sandbox { background: #fff3cd; border: 1px solid #8a6d00; padding: .5rem 1rem; }
fieldset { border: 1px solid #767676; margin: 1rem 0; padding: .5rem 1rem; }
label { display: block; margin: .25rem 0; padding: .25rem 0; }
input[type=radio] { width: 1.25rem; height: 1.25rem; margin: 0 .5rem 0 0; vertical-align: -.2rem; }
input[type=text] { font-size: 1rem; padding: .3rem; }
button { font-family: inherit; font-size: 1rem; padding: .5rem 1rem; margin: .5rem .5rem .5rem 0; cursor: pointer; }
button.primary { background: #154273; color: #fff; border: 2px solid #154273; }
button.secondary { background: #fff; color: #154273; border: 2px solid #154273; }
table { border-collapse: collapse; width: 100%; }
.table-wrap { overflow-x: auto; max-width: 100%; }
td { overflow-wrap: anywhere; }
th, td { text-align: left; border-bottom: 1px solid #ccc; padding: .3rem .5rem; vertical-align: top; }
.error { color: #a00; font-weight: bold; }
:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
"""

EVENT_LABELS = {
    "authorize": "Toestemmingsvraag ontvangen",
    "authorize_refused": "Toestemmingsvraag geweigerd",
    "digid_login": "Ingelogd met DigiD",
    "digid_reused": "DigiD-sessie hergebruikt",
    "consent_given": "Toestemming gegeven",
    "consent_refused": "Toestemming geweigerd",
    "token_issued": "Token uitgegeven",
    "token_refreshed": "Token vernieuwd",
    "token_refused": "Token geweigerd",
    "token_fault": "Storing op tokenadres (test)",
    "token_revoked": "Toestemming ingetrokken",
    "code_replayed": "Code opnieuw gebruikt: tokens ingetrokken",
    "fhir": "Gegevens opgehaald",
}


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} – MedMij-sandbox</title>\n"
        '<link rel="stylesheet" href="/_sandbox/sandbox.css">\n'
        "</head>\n<body>\n"
        '<p class="sandbox" role="note">Dit is een testomgeving (sandbox). '
        "Er worden geen echte gegevens gebruikt.</p>\n"
        f"<main>\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(_NL).strftime("%d-%m-%Y %H:%M:%S")


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def error_page(title: str, message: str) -> str:
    return _page(title, f'<p class="error" role="alert">{escape(message)}</p>')


def digid_page(
    flow_id: str,
    provider: Provider,
    persons: Sequence[Person],
    *,
    error: str | None = None,
) -> str:
    options = "\n".join(
        f'<label><input type="radio" name="bsn" value="{escape(p.bsn)}"'
        f"{' checked' if i == 0 else ''}> "
        f"{escape(p.name)} (geboren {p.birth_date.strftime('%d-%m-%Y')}, "
        f"BSN {escape(p.bsn)})</label>"
        for i, p in enumerate(persons)
    )
    alert = f'<p class="error" role="alert">{escape(error)}</p>\n' if error else ""
    body = (
        f"{alert}"
        f"<p>{escape(provider.display_name)} wil weten wie u bent. "
        "Kies een testpersoon om in te loggen. Dit lijkt op DigiD, maar het is een "
        "nabootsing: u hoeft geen wachtwoord te geven.</p>\n"
        '<form method="post" action="/digid/login">\n'
        f"{_hidden('flow', flow_id)}\n"
        "<fieldset>\n<legend>Testpersoon</legend>\n"
        f"{options}\n</fieldset>\n"
        '<button type="submit" class="primary" name="action" value="login">Inloggen</button>\n'
        '<button type="submit" class="secondary" name="action" value="cancel">Annuleren</button>\n'
        "</form>\n"
        "<p>Na het inloggen blijft u 15 minuten ingelogd, ook bij andere zorgaanbieders.</p>"
    )
    return _page("Inloggen met DigiD (nabootsing)", body)


def consent_page(
    flow_id: str,
    provider: Provider,
    organisation: str,
    services: Iterable[str],
    person: Person,
    *,
    sending: bool,
    long_lived_until: datetime | None,
) -> str:
    items = "\n".join(f"<li>{escape(name)}</li>" for name in services)
    if sending:
        what = (
            f"<p><strong>{escape(organisation)}</strong> wil gegevens naar "
            f"{escape(provider.display_name)} sturen:</p>"
        )
    else:
        what = (
            f"<p><strong>{escape(organisation)}</strong> wil deze gegevens over u ophalen bij "
            f"{escape(provider.display_name)}:</p>"
        )
    duration = (
        "<p>U geeft toestemming tot "
        f"{long_lived_until.astimezone(_NL).strftime('%d-%m-%Y')}. "
        "U kunt de toestemming altijd weer intrekken in uw PGO.</p>"
        if long_lived_until
        else "<p>U geeft eenmalig toestemming.</p>"
    )
    body = (
        f"<p>U bent ingelogd als {escape(person.name)}.</p>\n"
        f"{what}\n<ul>\n{items}\n</ul>\n{duration}\n"
        f'<form method="post" action="/{escape(provider.naam)}/oauth/consent">\n'
        f"{_hidden('flow', flow_id)}\n"
        '<button type="submit" class="primary" name="consent" value="yes">Ja, ik geef toestemming'
        "</button>\n"
        '<button type="submit" class="secondary" name="consent" value="no">Nee, liever niet'
        "</button>\n</form>"
    )
    return _page("Toestemming geven", body)


def access_log_page(config: SandboxConfig, provider: Provider, entries: Sequence[LogEntry]) -> str:
    rows = []
    for e in reversed(entries):
        client = config.client(e.client_id) if e.client_id else None
        person = config.person(e.bsn) if e.bsn else None
        services = ", ".join(
            f"{config.service_name(sid)} ({sid})" for sid in e.service_ids
        )
        rows.append(
            "<tr>"
            f"<td>{escape(_when(e.at))}</td>"
            f"<td>{escape(EVENT_LABELS.get(e.event, e.event))}</td>"
            f"<td>{escape(client.organisatienaam if client else (e.client_id or ''))}</td>"
            f"<td>{escape(person.name + ' (' + person.bsn + ')' if person else (e.bsn or ''))}</td>"
            f"<td>{escape(services)}</td>"
            f"<td>{escape(e.detail)}</td>"
            f"<td>{escape(e.request_id or '')}<br>{escape(e.correlation_id or '')}</td>"
            "</tr>"
        )
    table = (
        '<div class="table-wrap" role="region" aria-label="Toegangslog" tabindex="0">\n'
        "<table>\n<caption>Nieuwste bovenaan</caption>\n<thead><tr>"
        '<th scope="col">Tijd</th><th scope="col">Wat</th><th scope="col">PGO</th>'
        '<th scope="col">Persoon</th><th scope="col">Gegevensdienst</th>'
        '<th scope="col">Details</th><th scope="col">Request-ID / Correlation-ID</th>'
        "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</div>"
        if rows
        else "<p>Er is nog niets gebeurd.</p>"
    )
    body = (
        f"<p>Welke PGO heeft welke gegevens opgehaald, voor wie en wanneer, bij "
        f"{escape(provider.display_name)} ({escape(provider.zorgaanbiedernaam)}).</p>\n{table}"
    )
    return _page(f"Toegangslog {provider.display_name}", body)


def overview_page(config: SandboxConfig) -> str:
    providers = "\n".join(
        f"<li>{escape(p.display_name)} ({escape(p.zorgaanbiedernaam)}): "
        + ", ".join(escape(f"{config.service_name(s)} ({s})") for s in p.service_ids)
        + f' – <a href="/{escape(p.naam)}/log">toegangslog</a></li>'
        for p in config.providers
    )
    persons = "\n".join(
        f"<tr><td>{escape(p.name)}</td><td>{escape(p.bsn)}</td>"
        f"<td>{p.birth_date.strftime('%d-%m-%Y')}</td></tr>"
        for p in config.persons
    )
    clients = "\n".join(
        f"<li>{escape(c.organisatienaam)} ({escape(c.hostname)})"
        f"{'' if c.on_ocl else ' – niet op de OCL (alleen sandbox)'}</li>"
        for c in config.clients
    )
    body = (
        "<p>Deze sandbox doet zich voor als het MedMij-netwerk: de lijsten van de "
        "Stelselnode, zorgaanbieders met DigiD-inlog en toestemming, en hun FHIR-servers.</p>\n"
        '<h2>Lijsten</h2>\n<ul>\n'
        '<li><a href="/MedMij_Zorgaanbiederslijst.xml">Zorgaanbiederslijst</a></li>\n'
        '<li><a href="/MedMij_OAuthclientlist.xml">OAuth-clientlijst</a></li>\n'
        '<li><a href="/MedMij_Whitelist.xml">Whitelist</a></li>\n'
        '<li><a href="/MedMij_Gegevensdienstnamenlijst.xml">Gegevensdienstnamenlijst</a></li>\n'
        "</ul>\n"
        f"<h2>Zorgaanbieders</h2>\n<ul>\n{providers}\n</ul>\n"
        f"<h2>PGO's (OAuth-clients)</h2>\n<ul>\n{clients}\n</ul>\n"
        "<h2>Testpersonen</h2>\n<table>\n<thead><tr><th scope=\"col\">Naam</th>"
        '<th scope="col">BSN</th><th scope="col">Geboortedatum</th></tr></thead>\n'
        f"<tbody>\n{persons}\n</tbody>\n</table>"
    )
    return _page("MedMij-sandbox", body)


def now_utc() -> datetime:
    return datetime.now(UTC)
