"""Answers questions about a news article and cites the exact source sentences.

    from assistant import Assistant
    bot = Assistant.load()
    bot.ask("Who did the minister meet?")

Importing this package is cheap: the embedder, Chroma and LangChain load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

from assistant.errors import (
    AssistantError,
    ConfigurationError,
    DocumentTooLargeError,
    EmbedderMismatchError,
    EmptyDocumentError,
    IndexAccessDeniedError,
    IndexNotFoundError,
    IndexProblemError,
    IndexStorageError,
    IndexUnavailableError,
    IngestError,
    InvalidArgumentError,
    SourceNotFoundError,
    SourceUnreachableError,
    UndecodableDocumentError,
    UnknownDocumentError,
    UnsupportedDocumentError,
)

__all__ = [
    "Answer",
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigurationError",
    "DocumentTooLargeError",
    "EmbedderMismatchError",
    "EmptyDocumentError",
    "Hit",
    "IndexAccessDeniedError",
    "IndexNotFoundError",
    "IndexProblemError",
    "IndexStorageError",
    "IndexUnavailableError",
    "IngestError",
    "InvalidArgumentError",
    "Settings",
    "SourceNotFoundError",
    "SourceUnreachableError",
    "Turn",
    "UndecodableDocumentError",
    "UnknownDocumentError",
    "UnsupportedDocumentError",
    "__version__",
]

if TYPE_CHECKING:
    from assistant.core import Assistant
    from assistant.settings import Settings
    from assistant.types import Answer, Citation, Hit, Turn


def __getattr__(name: str):
    # Lazy so `import assistant` (and `assistant --help`) stays fast.
    if name == "Assistant":
        from assistant.core import Assistant

        return Assistant
    if name == "Settings":
        from assistant.settings import Settings

        return Settings
    if name in ("Answer", "Citation", "Hit", "Turn"):
        from assistant import types

        return getattr(types, name)
    raise AttributeError(name)
