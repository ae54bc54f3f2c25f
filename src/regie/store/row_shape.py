"""Rows of plain driver SQL as the ORM would give them (regie.store.driver_sql).

A hot read that skips the ORM still wants the ORM's values (aware datetimes, booleans on
SQLite) and often its model instances, so the code after it cannot tell the difference.
:class:`RowShape` holds one model's columns for a SELECT list, their value conversions (taken
from the models, so a column added there is read here too), and makes detached instances.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import make_transient_to_detached


class RowShape:
    """One model's columns in a SELECT list (all of them, or ``columns`` by name, in that
    order), and how to make an instance of their values."""

    def __init__(self, model: type, dialect: Any, columns: Sequence[str] | None = None) -> None:
        self.model = model
        table = model.__table__
        attributes = {prop.columns[0].name: prop.key for prop in model.__mapper__.column_attrs}
        if columns is None:
            self.columns = [column for column in table.columns if column.name in attributes]
        else:
            self.columns = [table.c[name] for name in columns]
        self.keys = [attributes[column.name] for column in self.columns]
        self.select = ", ".join(f"{table.name}.{column.name}" for column in self.columns)
        self.processors: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in self.columns]
        self.width = len(self.columns)
        self._new_instance = model.__mapper__.class_manager.new_instance

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        return {key: (process(value) if process is not None else value)
                for key, process, value in zip(self.keys, self.processors, row)}

    def instance(self, values: dict[str, Any]) -> Any:
        # As the ORM's own loader does: the values go straight into the instance's dict (as
        # loaded, without the per-attribute change tracking of the constructor, about half the
        # cost of this whole step), then the instance is marked as loaded by a session that
        # has since closed. A column not read is not loaded: using it fails at once.
        obj = self._new_instance()
        obj.__dict__.update(values)
        make_transient_to_detached(obj)
        return obj
