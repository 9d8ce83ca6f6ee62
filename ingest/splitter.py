"""Indonesian-aware sentence splitting with character offsets.

A sentence ends at `.`, `!`, `?` or `…` (plus any closing quotes or brackets right after it) when the
next word starts a new sentence: an upper-case letter, a digit, or an opening quote. It does not end
after an abbreviation that is always followed by more text (titles such as `Dr.`, `No.`, `Jl.`,
dotted forms such as `a.n.`, single-letter initials such as `B.`), nor inside numbers (`1.000`,
`3,5`, `18/11`, `10.00`) since those have no space after the point. A lower-case word after `."`
(`"…," kata Menteri`) continues the sentence. Sentences never cross paragraph (line) breaks, and
none is longer than MAX_SENTENCE_CHARS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _abbreviations() -> dict[str, frozenset[str]]:
    """The abbreviations the splitter knows, by how a sentence treats them (assistant/data/abbreviations.tsv)."""
    from assistant.lexicon import DATA_DIR

    by_kind: dict[str, set[str]] = {"never_ends": set(), "before_number": set(), "ends": set()}
    for line in (DATA_DIR / "abbreviations.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, kind = line.split("\t")
            by_kind[kind.strip()].add(word.strip().lower())
    return {kind: frozenset(words) for kind, words in by_kind.items()}


_ABBREVIATIONS = _abbreviations()
# After these a sentence never ends: they always introduce a name or a number ("Dr.", "Maj.", "Jl.").
NON_TERMINAL_ABBREVIATIONS = _ABBREVIATIONS["never_ends"]
# These precede a number ("No. 5", "Sept. 15", "RT. 03", "Nomor. SK.84/2024") but can also end a
# sentence ("… tersebar di 5 RT. Warga …"): a sentence goes on after them only when the next word
# holds a digit.
BEFORE_NUMBER_ABBREVIATIONS = _ABBREVIATIONS["before_number"]
# Dotted abbreviations that often end a sentence ("… at 10 a.m. The company …").
SENTENCE_FINAL_DOTTED = _ABBREVIATIONS["ends"]

MAX_SENTENCE_CHARS = 800
"""A longer run without a sentence end (a table flattened into one line, a page without punctuation)
is cut into pieces of at most this many characters, at the last semicolon, comma or space before
the limit. Embedding and reading cost grow with a sentence's length, and a citation should be
readable: news sentences are rarely over 400 characters. (A 1 MB line without sentence breaks
used to keep ingest busy for more than 400 s.)"""

OPENING_QUOTES = "\"'“‘«("
CLOSING_MARKS = "\"'”’»)]"

_BOUNDARY = re.compile(
    r"""(?:[.!?]+|…)           # terminal punctuation
        [\"'”’»)\]]*           # closing quotes / brackets that belong to the sentence
        (?:\[(?:\d{1,3}|[a-z]|note\ \d{1,3})\])*   # reference markers right after it ("… abad ke-9.[1][2]")
        (?=\s+)                # followed by whitespace
    """,
    re.VERBOSE | re.IGNORECASE,
)
_WORD_BEFORE = re.compile(r"([\w.]+)$", re.UNICODE)


@dataclass(frozen=True)
class SentenceSpan:
    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[SentenceSpan]:
    """Split `text` into sentences; `text[s.start:s.end] == s.text` for every sentence."""
    spans: list[SentenceSpan] = []
    for line_match in re.finditer(r"[^\n]+", text):
        line_start = line_match.start()
        line = line_match.group()
        for start, end in _split_line(line):
            spans.append(SentenceSpan(text[line_start + start : line_start + end], line_start + start, line_start + end))
    return spans


def _split_line(line: str) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    start = _skip_space(line, 0)
    for match in _BOUNDARY.finditer(line):
        end = match.end()
        if end <= start:
            continue
        next_start = _skip_space(line, end)
        if next_start >= len(line):
            break
        if _is_sentence_end(line, start, match, next_start):
            pieces += _capped(line, start, end)
            start = next_start
    end = len(line.rstrip())
    if start < end:
        pieces += _capped(line, start, end)
    return pieces


def _capped(line: str, start: int, end: int) -> list[tuple[int, int]]:
    """line[start:end] as pieces of at most MAX_SENTENCE_CHARS, cut after the last `;` or `,` in
    the second half of each piece, else at its last space, else at the limit."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        half = start + MAX_SENTENCE_CHARS // 2
        mark = max(line.rfind("; ", half, limit), line.rfind(", ", half, limit))
        space = line.rfind(" ", half, limit + 1)
        cut = mark + 1 if mark >= 0 else space if space >= 0 else limit
        pieces.append((start, len(line[:cut].rstrip())))
        start = _skip_space(line, cut)
    if start < end:
        pieces.append((start, end))
    return pieces


def _is_sentence_end(line: str, start: int, match: re.Match, next_start: int) -> bool:
    next_char = line[next_start]
    if not (next_char.isupper() or next_char.isdigit() or next_char in OPENING_QUOTES):
        return False
    if line[match.start()] != ".":
        return True
    # The word before the point (looked for in the 64 characters before it: a long run of points
    # without sentence ends would otherwise be scanned from its start at every point).
    word_match = _WORD_BEFORE.search(line, max(start, match.start() - 64), match.start() + 1)
    word = word_match.group(1) if word_match else ""
    if word_match and word_match.start() == start and word.rstrip(".").isdigit() and len(word) <= 4:
        return False  # a numbered list item: "1. Rina (Medan)"
    bare = word.rstrip(".").lower()
    if bare in NON_TERMINAL_ABBREVIATIONS:
        return False
    if bare in BEFORE_NUMBER_ABBREVIATIONS:
        next_word = line[next_start:].split(maxsplit=1)[0] if next_start < len(line) else ""
        return not any(char.isdigit() for char in next_word[:40])
    if bare in SENTENCE_FINAL_DOTTED:
        return True
    if len(bare) == 1 and bare.isalpha() and word[0].isupper():  # an initial: "Susilo B. Yudhoyono"
        return False
    # A dotted abbreviation (a.n., u.p., S.H.) goes on; any other word ends the sentence.
    return not ("." in bare and all(len(part) <= 3 for part in bare.split(".")))


def _skip_space(line: str, index: int) -> int:
    while index < len(line) and line[index].isspace():
        index += 1
    return index
