"""`Assistant`: the one object the REPL, the CLI, the Slack bot and the evals share."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path

from assistant.embeddings import make_embedder
from assistant.errors import InvalidArgumentError, settings_error
from assistant.query import Query
from assistant.retrieval import SentenceSearcher, as_langchain_retriever
from assistant.settings import Settings
from assistant.store import SentenceIndex
from assistant.types import Answer, Hit, Turn


class Assistant:
    """Answers questions about the ingested article(s), citing exact sentences.

    >>> bot = Assistant.load()
    >>> bot.retrieve("Siapa Duta Besar AS untuk Indonesia?", k=3)
    >>> bot.ask("Who did the minister meet?")
    """

    def __init__(self, settings: Settings, index: SentenceIndex, searcher: SentenceSearcher) -> None:
        self.settings = settings
        self.index = index
        self.searcher = searcher
        self._answerer = None

    @classmethod
    def load(cls, settings: Settings | None = None, **overrides) -> Assistant:
        """Open the index `assistant ingest` built. Settings come from the environment / `.env`
        unless given; keyword overrides (e.g. `data_dir=...`, `retrieval="dense"`) win over both."""
        from pydantic import ValidationError

        try:
            settings = (settings or Settings()).with_overrides(**overrides) if overrides else (settings or Settings())
        except ValidationError as error:  # every library error is an AssistantError (docs/usage.md)
            raise settings_error(error) from None
        embedder = make_embedder(settings.embedding, num_threads=settings.embedding_threads)
        index = SentenceIndex(settings, embedder)
        searcher = SentenceSearcher(index, index.snapshot(), mode=settings.retrieval)
        assistant = cls(settings, index, searcher)
        assistant.answerer  # noqa: B018 - built now so a bad ASSISTANT_LLM fails at start-up, not on the first question
        return assistant

    @classmethod
    def from_path(cls, *sources: str, settings: Settings | None = None) -> Assistant:
        """Build an index for the given article file(s), folder(s) or URL(s) and return a ready assistant.

        Without settings the index goes into a fresh temporary directory, leaving any existing index
        alone; that directory is deleted when the assistant is garbage-collected or Python exits, and
        at once if a source cannot be read.
        """
        from ingest import ingest

        if settings is not None:
            ingest(list(sources), settings=settings)
            return cls.load(settings)
        temporary = Path(tempfile.mkdtemp(prefix="assistant-"))
        try:
            settings = Settings(data_dir=temporary, chroma_url=None)
            ingest(list(sources), settings=settings)
            assistant = cls.load(settings)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        weakref.finalize(assistant, shutil.rmtree, temporary, True)
        return assistant

    # -- the API -------------------------------------------------------------------------------

    def retrieve(self, question: str | Query, k: int = 5, history: Sequence[Turn | str] | None = None) -> list[Hit]:
        """The k sentences most likely to answer `question`, best first; `history` as for `ask`."""
        _check_question(question)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidArgumentError(f"k must be a whole number of sentences, 1 or more (got {k!r}); e.g. bot.retrieve(question, k=5)")
        return self.searcher.search(question, k=k, history=list(history or []))

    def ask(self, question: str | Query, history: Sequence[Turn | str] | None = None) -> Answer:
        """Answer `question`, citing the sentences the answer rests on (or abstaining honestly).

        `history` holds earlier turns (oldest first), as `Turn`s or plain strings (earlier user
        questions); follow-ups like "Who accompanied him?" are resolved against it.
        """
        _check_question(question)
        return self.answerer.answer(question, history=list(history or []))

    def as_retriever(self, k: int = 5):
        """This assistant's retrieval as a LangChain `BaseRetriever`."""
        return as_langchain_retriever(self.searcher, k=k)

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def answerer(self):
        if self._answerer is None:
            from assistant.answering import build_answerer

            self._answerer = build_answerer(self.settings, self.searcher)
        return self._answerer

    @property
    def manifest(self) -> dict:
        """The manifest of the index version this assistant is answering from."""
        return self.searcher.snapshot.manifest

    @property
    def documents(self) -> dict[str, DocumentEntry]:
        """Ingested documents by id: title, source, hash, sentence count, related headlines (each a
        dict; in the REPL it shows what a person looks for, not the calibration data it also holds)."""
        return {doc_id: DocumentEntry(entry) for doc_id, entry in self.manifest.get("documents", {}).items()}

    def __repr__(self) -> str:
        titles = ", ".join(doc.get("title", doc_id) for doc_id, doc in self.documents.items())
        return f"Assistant({len(self.searcher.sentences)} sentences from: {titles}; retrieval={self.settings.retrieval})"


class DocumentEntry(dict):
    """One document's manifest entry: a plain dict whose repr is for people (title, sentences,
    source, when ingested); `dict(entry)` or `entry[...]` has everything, calibration included."""

    def __repr__(self) -> str:
        ingested = str(self.get("ingested_at", ""))[:16].replace("T", " ")
        return f"<document {self.get('title', '')!r}: {self.get('sentences', 0)} sentences from {self.get('source', '')}, ingested {ingested}>"


def _check_question(question: object) -> None:
    if not isinstance(question, str | Query):
        raise InvalidArgumentError(f"the question must be text (a str), not {type(question).__name__}; e.g. bot.ask(\"Siapa Duta Besar AS?\")")
