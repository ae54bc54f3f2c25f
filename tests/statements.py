"""The SQL statements a block of code runs, on every engine (for tests that check what is sent:
the user_id rule of docs/scale.md, statement counts)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event


@contextmanager
def captured_statements() -> Iterator[list[str]]:
    """Yields the list the statements run inside the block are added to, as sent."""
    statements: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
