"""Exception types for the MedMij lists.

Every error names the list it concerns, so a log line or a user message can say
*which* of the four lists was refused, and where in it, and why.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding in a list: where (element path and/or line) and why."""

    reason: str
    line: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class ListError(Exception):
    """Base class: something is wrong with a MedMij list."""

    def __init__(self, list_name: str, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.list_name = list_name
        self.problems: tuple[Problem, ...] = tuple(problems)
        first = str(self.problems[0]) if self.problems else "unknown problem"
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{list_name}: {first}{more}")

    @property
    def reason(self) -> str:
        return self.problems[0].reason if self.problems else ""

    @property
    def line(self) -> int | None:
        return self.problems[0].line if self.problems else None


class ListParseError(ListError):
    """Not acceptable XML: too large, not well-formed, DOCTYPE/entities, wrong root."""


class ListSchemaError(ListError):
    """Well-formed XML that does not satisfy the list's XSD."""


class ListSignatureError(ListError):
    """The detached signature is missing, malformed, or does not verify."""


class ListVersionError(ListError):
    """The new list has a lower Volgnummer than the one held (possible rollback)."""


class TrustAnchorError(ValueError):
    """The configured trust anchor (public key PEM) is unusable."""
