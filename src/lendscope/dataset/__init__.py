"""The cited dataset: schema, loading, validation and the DuckDB store."""

from lendscope.dataset.load import DatasetError, Problem, TableFile, bundled_files, read_file
from lendscope.dataset.validate import check_files, validate

__all__ = [
    "DatasetError",
    "Problem",
    "TableFile",
    "bundled_files",
    "check_files",
    "read_file",
    "validate",
]
