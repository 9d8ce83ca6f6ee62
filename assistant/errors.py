"""The assistant's errors. Every message is written for the person who will read it.

    AssistantError
    ├── IngestError                 a source could not be ingested; the index is left as it was
    │   ├── SourceNotFoundError     missing file or folder
    │   ├── EmptyDocumentError      nothing but whitespace / no article text
    │   ├── UndecodableDocumentError  binary or non-UTF-8 file
    │   ├── SourceUnreachableError  URL that cannot be fetched
    │   └── DocumentTooLargeError   over the size limit
    ├── IndexProblemError           the index cannot be used
    │   ├── IndexNotFoundError      nothing ingested yet (or no index in this data directory)
    │   ├── EmbedderMismatchError   index built with another embedding model
    │   ├── IndexUnavailableError   Chroma server down or unreachable
    │   └── IndexAccessDeniedError  the Chroma server (its proxy) refused the credentials
    ├── UnknownDocumentError        `remove` was given an id the index does not hold; nothing changed
    ├── ConfigurationError          a setting is invalid (unknown embedder, bad LLM spec, a bad value)
    └── InvalidArgumentError        a call's argument cannot be used (k ≤ 0, a question that is not text)
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: catch this at the edge of a shell (CLI, Slack) to show a friendly message."""


class IngestError(AssistantError):
    pass


class SourceNotFoundError(IngestError):
    pass


class EmptyDocumentError(IngestError):
    pass


class UndecodableDocumentError(IngestError):
    pass


class UnsupportedDocumentError(UndecodableDocumentError):
    """A PDF, Word or RTF file (by its name or its first bytes): the message says how to convert it."""


class SourceUnreachableError(IngestError):
    pass


class DocumentTooLargeError(IngestError):
    pass


class IndexProblemError(AssistantError):
    pass


class IndexNotFoundError(IndexProblemError):
    pass


class EmbedderMismatchError(IndexProblemError):
    pass


class IndexUnavailableError(IndexProblemError):
    pass


class IndexStorageError(IndexProblemError):
    """The embedded index's folder is on a full disk or is read-only; the message says which and the fix."""


class IndexAccessDeniedError(IndexProblemError):
    """HTTP 401/403 from the Chroma server: a missing or wrong ASSISTANT_CHROMA_TOKEN, not an outage."""


class UnknownDocumentError(AssistantError):
    pass


class ConfigurationError(AssistantError):
    pass


class InvalidArgumentError(AssistantError):
    pass


def setting_problems(error) -> list[str]:
    """A pydantic ValidationError about settings: one line per bad value, naming its variable."""
    return [f"ASSISTANT_{'_'.join(str(part) for part in item['loc']).upper()}: {item['msg']}" for item in error.errors()]


def settings_error(error) -> ConfigurationError:
    return ConfigurationError("; ".join(setting_problems(error)))


IndexProblem = IndexProblemError
"""The earlier name, kept so code written against it keeps working."""
