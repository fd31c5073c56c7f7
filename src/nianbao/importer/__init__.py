"""Read published annual reports (.docx, .html, plain text) back into a Submission."""

from nianbao.importer.importer import ImportResult, WorkbookResult, import_items, import_report, read_items, to_workbook

__all__ = ["ImportResult", "WorkbookResult", "import_items", "import_report", "read_items", "to_workbook"]
