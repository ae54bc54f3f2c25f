"""Hardened XML parsing of downloaded lists.

The lists come from the network, so the parser trusts nothing: no DTD at all (a
DOCTYPE is refused outright, which also rules out entity tricks such as "billion
laughs" and external entities), no network access, a size limit, and the expected
root element in the expected namespace.
"""

from __future__ import annotations

from lxml import etree

from .errors import ListParseError, Problem
from .kinds import ListKind

# The production ZAL is the largest list; a few MiB today. 16 MiB leaves ample room
# while bounding memory for a hostile or broken download.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not safe to share across threads.
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
    )


def _line_of(data: bytes, index: int) -> int:
    return data.count(b"\n", 0, index) + 1


def parse_list_xml(
    data: bytes, kind: ListKind, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> etree._ElementTree:
    """Parse *data* as the XML of list *kind*, or raise ListParseError."""
    name = kind.root
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("list data must be bytes, exactly as downloaded")
    if len(data) > max_bytes:
        raise ListParseError(
            name, [Problem(f"document is {len(data)} bytes, the limit is {max_bytes}")]
        )
    if not data.strip():
        raise ListParseError(name, [Problem("document is empty")])

    # Fail fast, before libxml2 reads any declarations. The check after parsing
    # below also covers encodings where these bytes do not appear literally.
    for marker in (b"<!DOCTYPE", b"<!ENTITY"):
        index = data.find(marker)
        if index >= 0:
            raise ListParseError(
                name,
                [Problem(f"{marker[2:].decode()} declarations are not allowed",
                         line=_line_of(data, index))],
            )

    try:
        root = etree.fromstring(bytes(data), _parser())
    except etree.XMLSyntaxError as exc:
        raise ListParseError(
            name, [Problem(f"not well-formed XML: {exc.msg}", line=exc.lineno)]
        ) from None

    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ListParseError(name, [Problem("DOCTYPE declarations are not allowed", line=1)])
    for node in root.iter(etree.Entity):
        raise ListParseError(
            name, [Problem(f"entity reference {node.text} is not allowed", line=node.sourceline)]
        )

    if root.tag != kind.qualified_root:
        raise ListParseError(
            name,
            [Problem(
                f"root element is {root.tag!r}, expected {kind.qualified_root!r}",
                line=root.sourceline,
                path="/",
            )],
        )
    return tree
