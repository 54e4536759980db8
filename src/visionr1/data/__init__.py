"""Data: the record type, its readers and writers, image safety, and the synthetic task generators."""

from visionr1.data.io import (
    Conversation,
    LoadResult,
    read_jsonl,
    read_parquet,
    read_records,
    read_sharegpt,
    write_jsonl,
    write_parquet,
    write_sharegpt,
)
from visionr1.data.record import ANSWER_TYPES, Record

__all__ = [
    "ANSWER_TYPES",
    "Conversation",
    "LoadResult",
    "Record",
    "read_jsonl",
    "read_parquet",
    "read_records",
    "read_sharegpt",
    "write_jsonl",
    "write_parquet",
    "write_sharegpt",
]
