"""Ingest articles (.txt, .md, .html, URLs) into the assistant's Chroma sentence index, list what it
holds, and take documents out again."""

from ingest.lifecycle import DocumentInfo, RemoveReport, documents, remove, reset
from ingest.pipeline import IngestReport, Progress, ingest

__all__ = ["DocumentInfo", "IngestReport", "Progress", "RemoveReport", "documents", "ingest", "remove", "reset"]
