"""The fixed sheets of every nianbao workbook and how a reference is named in it.

The template writes them; the reader, drift detection and the report find them by these names.
They live here, below all of those, so reading a returned file never imports the writer.
"""

from __future__ import annotations

from nianbao.expr import Ref
from nianbao.format.model import defined_name

INSTRUCTIONS_SHEET = "填报说明"
NARRATIVE_SHEET = "正文"
CHECK_SHEET = "检查"
META_SHEET = "_meta"


def ref_name(ref: Ref) -> str:
    """The defined name a rule's reference is written with in formulas."""
    return defined_name(ref.key)
