"""nianbao: 政府信息公开工作年度报告 — templates, validation, compilation and collection."""

__version__ = "0.1.0"
