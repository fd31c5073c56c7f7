"""CLI commands beyond the core ones, one module per command group.

Each module defines ``register(app: typer.Typer) -> None``; ``cli.py`` registers every module
found here, so adding a command never edits a shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def register_all(app: typer.Typer) -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{module.name}").register(app)
