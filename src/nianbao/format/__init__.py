"""Format definitions: the declarative description of a report kind and its editions."""

from nianbao.format.load import (
    available_formats,
    format_for_year,
    load_format,
    load_path,
    resolve_format,
    templates_dir,
)
from nianbao.format.model import Cell, Format, Part, RuleInstance, Table, defined_name

__all__ = [
    "Cell",
    "Format",
    "Part",
    "RuleInstance",
    "Table",
    "available_formats",
    "defined_name",
    "format_for_year",
    "load_format",
    "load_path",
    "resolve_format",
    "templates_dir",
]
