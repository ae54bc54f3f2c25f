"""Serialise a SandboxConfig into the four list documents (UTF-8, pretty-printed,
default namespace without prefix, as the Afsprakenstelsel's file rules ask)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree

from regie.medmij.lists.kinds import ListKind

from .config import SandboxConfig

Builder = Callable[[SandboxConfig, datetime, int], bytes]


def _timestamp(moment: datetime) -> str:
    # Second precision with an explicit offset: at least 20 characters, as required.
    if moment.tzinfo is None:
        raise ValueError("Tijdstempel must be timezone-aware")
    return moment.replace(microsecond=0).isoformat()


class _Doc:
    def __init__(self, kind: ListKind, moment: datetime, volgnummer: int) -> None:
        self.ns = kind.namespace
        self.root = etree.Element(self.q(kind.root), nsmap={None: self.ns})
        self.add(self.root, "Tijdstempel", _timestamp(moment))
        self.add(self.root, "Volgnummer", str(volgnummer))

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def add(self, parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        child = etree.SubElement(parent, self.q(name))
        if text is not None:
            child.text = text
        return child

    def bytes(self) -> bytes:
        # Declaration written by hand: lxml would use single quotes.
        body = etree.tostring(self.root, encoding="UTF-8", pretty_print=True)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def build_zal(config: SandboxConfig, moment: datetime, volgnummer: int) -> bytes:
    doc = _Doc(ListKind.ZAL, moment, volgnummer)
    providers = doc.add(doc.root, "Zorgaanbieders")
    for provider in config.providers:
        za = doc.add(providers, "Zorgaanbieder")
        doc.add(za, "Zorgaanbiedernaam", provider.zorgaanbiedernaam)
        services = doc.add(za, "Gegevensdiensten")
        for service in provider.services:
            gd = doc.add(services, "Gegevensdienst")
            doc.add(gd, "GegevensdienstId", service.gegevensdienst_id)
            auth = doc.add(gd, "AuthorizationEndpoint")
            doc.add(auth, "AuthorizationEndpointuri", service.authorization_endpoint_uri)
            token = doc.add(gd, "TokenEndpoint")
            doc.add(token, "TokenEndpointuri", service.token_endpoint_uri)
            roles = doc.add(gd, "Systeemrollen")
            for code, uri in service.systeemrollen:
                role = doc.add(roles, "Systeemrol")
                doc.add(role, "Systeemrolcode", code)
                resource = doc.add(role, "ResourceEndpoint")
                doc.add(resource, "ResourceEndpointuri", uri)
    return doc.bytes()


def build_ocl(config: SandboxConfig, moment: datetime, volgnummer: int) -> bytes:
    doc = _Doc(ListKind.OCL, moment, volgnummer)
    clients = doc.add(doc.root, "OAuthclients")
    for client in config.clients:
        entry = doc.add(clients, "OAuthclient")
        doc.add(entry, "Hostname", client.hostname)
        doc.add(entry, "OAuthclientOrganisatienaam", client.organisatienaam)
    return doc.bytes()


def build_whitelist(config: SandboxConfig, moment: datetime, volgnummer: int) -> bytes:
    doc = _Doc(ListKind.WHITELIST, moment, volgnummer)
    nodes = doc.add(doc.root, "MedMijNodes")
    for hostname in config.whitelist_hostnames():
        doc.add(doc.add(nodes, "MedMijNode"), "Hostname", hostname)
    return doc.bytes()


def build_gnl(config: SandboxConfig, moment: datetime, volgnummer: int) -> bytes:
    doc = _Doc(ListKind.GNL, moment, volgnummer)
    services = doc.add(doc.root, "Gegevensdiensten")
    for gid, name in config.gegevensdiensten:
        entry = doc.add(services, "Gegevensdienst")
        doc.add(entry, "GegevensdienstId", gid)
        doc.add(entry, "Weergavenaam", name)
    return doc.bytes()


BUILDERS: dict[ListKind, Builder] = {
    ListKind.ZAL: build_zal,
    ListKind.OCL: build_ocl,
    ListKind.WHITELIST: build_whitelist,
    ListKind.GNL: build_gnl,
}


def build_list(kind: ListKind, config: SandboxConfig, moment: datetime, volgnummer: int) -> bytes:
    return BUILDERS[kind](config, moment, volgnummer)
