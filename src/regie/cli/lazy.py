"""A typer group whose commands are imported only when used.

Each `regie` command lives in its own module with its own imports (the web app, the
sandbox, PDF and XML libraries ...). Importing them all for every command cost seconds of
CPU per process; `regie worker` needs none of the web pages. The group knows each command
by name and "module:attribute" and imports the module when click asks for the command
(to run it, or to list it under --help).
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar

import click
import typer
from typer.core import TyperGroup


def load_command(name: str, target: str) -> click.Command:
    """The click command for *target*: a typer app (a group) or a command function."""
    from regie.cli._common import fail_on_regie_error

    module_name, _, attribute = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attribute)
    # Built through a throwaway typer app, as app.add_typer/app.command would have built it.
    holder = typer.Typer(add_completion=False)
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name)
    else:
        holder.command(name)(fail_on_regie_error(obj))
    return typer.main.get_group(holder).commands[name]


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands: every name is known at once, a command is built when looked up."""

    def __init__(self, targets: Mapping[str, str], loaded: Mapping[str, click.Command]) -> None:
        self._targets = dict(targets)
        self._loaded: dict[str, click.Command] = dict(loaded)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in self._targets:
                raise KeyError(name)
            self._loaded[name] = load_command(name, self._targets[name])
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._targets.pop(name, None)
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._targets
        yield from (name for name in self._loaded if name not in self._targets)

    def __len__(self) -> int:
        return len(self._targets.keys() | self._loaded.keys())


class LazyGroup(TyperGroup):
    """Set `targets` (command name -> "module:attribute", in --help order) in a subclass."""

    targets: ClassVar[dict[str, str]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.targets, self.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # the names only: listing must not import every command
