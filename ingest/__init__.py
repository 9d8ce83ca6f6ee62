"""Ingest articles (.txt, .md, .html, URLs) into the assistant's Chroma sentence index."""

from ingest.pipeline import IngestReport, Progress, ingest

__all__ = ["IngestReport", "Progress", "ingest"]
