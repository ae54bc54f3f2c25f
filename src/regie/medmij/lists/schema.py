"""Validation of a parsed list against Regie's own XSDs (``schemas/``).

Two profiles: ``MEDMIJ`` applies the Afsprakenstelsel rules; ``LOOPBACK`` is for the
local sandbox only and additionally allows ``http://*.localhost[:<port>]`` endpoint URIs
and ``https://*.localhost:<port>`` front-channel URIs in the ZAL (see
docs/medmij-lists.md, "Deviations").
"""

from __future__ import annotations

from enum import Enum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from .errors import ListSchemaError, Problem
from .kinds import ListKind

if TYPE_CHECKING:
    import xmlschema

# Report at most this many findings; a broken list can have thousands.
MAX_PROBLEMS = 20


class SchemaProfile(Enum):
    MEDMIJ = "medmij"
    LOOPBACK = "loopback"


def schema_dir() -> Path:
    return Path(str(resources.files(__package__) / "schemas"))


def schema_path(kind: ListKind, profile: SchemaProfile = SchemaProfile.MEDMIJ) -> Path:
    name = kind.schema_file
    if profile is SchemaProfile.LOOPBACK and kind is ListKind.ZAL:
        name = name.replace(".xsd", "_loopback.xsd")
    return schema_dir() / name


@cache
def load_schema(
    kind: ListKind, profile: SchemaProfile = SchemaProfile.MEDMIJ
) -> xmlschema.XMLSchema10:
    """Load (once) the XSD for *kind*; it may only include files beside it."""
    import xmlschema  # here: a quarter second to import, needed only when a list is checked

    path = schema_path(kind, profile)
    return xmlschema.XMLSchema10(
        str(path), base_url=str(path.parent), allow="sandbox", defuse="always"
    )


def validate_tree(
    tree: etree._ElementTree,
    kind: ListKind,
    profile: SchemaProfile = SchemaProfile.MEDMIJ,
) -> None:
    """Raise ListSchemaError listing what in *tree* breaks the list's XSD."""
    problems: list[Problem] = []
    for error in load_schema(kind, profile).iter_errors(tree, use_location_hints=False):
        problems.append(
            Problem(
                reason=error.reason or error.message,
                line=getattr(error, "sourceline", None),
                path=error.path,
            )
        )
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise ListSchemaError(kind.root, problems)
