"""Question + passage → model windows, the same way for training (training/) and for the shipped reader.

A window is XLM-R's pair format, `<s> question </s></s> passage tokens </s>`, at most
`max_tokens` long; a passage longer than fits is cut into overlapping windows `stride` tokens
apart. A window is labelled with the answer's first and last token when it holds the whole
answer, and with position 0 (`<s>`, "no answer") otherwise, SQuAD 2.0 style.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.reader.tokenizer import Tokenizer, Tokens

MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Window:
    ids: list[int]
    offset: int
    """Index in `ids` of the first passage token."""
    first: int
    """Index in the passage's tokens of the window's first passage token."""
    count: int
    """How many passage tokens the window holds."""
    start: int = 0
    end: int = 0
    """Labels: the answer's first and last token in `ids`, or 0 and 0 for no answer."""


def windows(tokenizer: Tokenizer, question: str, passage: Tokens, max_tokens: int, stride: int, answer: tuple[int, int] | None = None) -> list[Window]:
    """`answer` is the answer's (first, last) character range end-exclusive in the passage text."""
    vocabulary = tokenizer.vocabulary
    question_ids = tokenizer.ids(question)[:MAX_QUESTION_TOKENS]
    head = [vocabulary.bos, *question_ids, vocabulary.eos, vocabulary.eos]
    budget = max_tokens - len(head) - 1
    span = _token_span(passage, answer) if answer else None
    out = []
    first = 0
    while True:
        count = min(budget, len(passage.ids) - first)
        ids = head + passage.ids[first : first + count] + [vocabulary.eos]
        start = end = 0
        if span and first <= span[0] and span[1] < first + count:
            start, end = span[0] - first + len(head), span[1] - first + len(head)
        out.append(Window(ids, len(head), first, count, start, end))
        if first + count >= len(passage.ids):
            return out
        first += stride


def _token_span(passage: Tokens, answer: tuple[int, int]) -> tuple[int, int] | None:
    begin, finish = answer
    inside = [n for n, (s, e) in enumerate(zip(passage.starts, passage.ends, strict=True)) if e > begin and s < finish]
    return (inside[0], inside[-1]) if inside else None
