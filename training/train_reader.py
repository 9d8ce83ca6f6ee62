"""Train the reader: multilingual-e5-small's top layers + a span head, on ../shared/realqa/.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python -m training.train_reader prepare   # windows + the frozen layers' outputs, once
    .venv/bin/python -m training.train_reader train     # the top layers and the head; checkpoints
    .venv/bin/python -m training.train_reader export    # ONNX, int8, into assistant/data/reader/

Why this shape (docs/reader.md): on 2 CPU cores a full fine-tune of e5-small reads ~5k examples an
hour; with the lower FROZEN_LAYERS run once and their outputs kept (fp16, on disk), the upper
layers train several times faster, so the whole training set is seen more than once in a session.

Data: the realqa `train` split of every dataset (IDK-MRC, FacQA, TyDi QA English, SQuAD 2.0's
training articles); the `tune` split (one passage in twenty, never trained on) chooses the
no-answer threshold and the checkpoint. The project's own eval articles are NOT trained on, so
`assistant eval` stays a measurement on articles the reader has never seen. Everything a run
used (data counts, seed, hyper-parameters, wall time) is written to training/runs/<run>/run.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from assistant.reader.e5file import E5File
from assistant.reader.model import best_span
from assistant.reader.tokenizer import Tokenizer
from assistant.reader.windows import Window, windows
from evals.realqa import RealQAMissing, RealQuestion, load_realqa
from training.e5_torch import E5Encoder, Layer, _load, word_embeddings

RUNS = Path(__file__).resolve().parent / "runs"
FROZEN_LAYERS = 6
TRAIN_TOKENS, TRAIN_STRIDE = 256, 128
MAX_WINDOWS_PER_QUESTION = 2
SEED = 13
DISTRACTOR_SHARE = 0.5
"""Share of training questions whose passage gets a stretch of another passage (same dataset, so
the same language) before or after it. The shipped reader reads a dozen sentences of an article
about several people and places, where the datasets' passages are one paragraph about one thing:
without distractors the first run learned to answer with a salient name near the start of the
passage whatever the question asked (docs/reader.md)."""
DISTRACTOR_CHARACTERS = 600


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


# -- prepare -----------------------------------------------------------------------------------------


def with_distractor(question: RealQuestion, other: RealQuestion, rng: random.Random) -> RealQuestion:
    """`question` with the first sentences of `other`'s passage (up to DISTRACTOR_CHARACTERS) put
    before or after its own passage; answer offsets shifted to match."""
    stretch = other.context[:DISTRACTOR_CHARACTERS]
    cut = stretch.rfind(". ")
    stretch = stretch[: cut + 1] if cut > 0 else stretch
    if rng.random() < 0.5:
        context, shift = f"{stretch} {question.context}", len(stretch) + 1
    else:
        context, shift = f"{question.context} {stretch}", 0
    return replace(
        question,
        context_id=f"{question.context_id}+{other.context_id}",
        context=context,
        answer_starts=tuple(start + shift for start in question.answer_starts),
    )


def add_distractors(questions: list[RealQuestion], rng: random.Random) -> list[RealQuestion]:
    by_dataset: dict[str, list[RealQuestion]] = {}
    for question in questions:
        by_dataset.setdefault(question.dataset, []).append(question)
    out = []
    for question in questions:
        pool = by_dataset[question.dataset]
        other = pool[rng.randrange(len(pool))]
        if rng.random() < DISTRACTOR_SHARE and other.context_id != question.context_id:
            question = with_distractor(question, other, rng)
        out.append(question)
    return out


def build_windows(tokenizer: Tokenizer, questions, training: bool, rng: random.Random) -> tuple[list[Window], list[int]]:
    """Windows and, for each, the index of its question. Training keeps the windows that hold the
    answer and at most one that does not (a long passage would otherwise be mostly "no answer")."""
    passages: dict[str, object] = {}
    out: list[Window] = []
    owners: list[int] = []
    for number, question in enumerate(questions):
        if question.context_id not in passages:
            passages[question.context_id] = tokenizer.encode(question.context)
        answer = None
        if not question.is_impossible and question.answers:
            begin = question.answer_starts[0]
            answer = (begin, begin + len(question.answers[0]))
        found = windows(tokenizer, question.question, passages[question.context_id], TRAIN_TOKENS, TRAIN_STRIDE, answer)  # type: ignore[arg-type]
        if training:
            positive = [w for w in found if w.start]
            negative = [w for w in found if not w.start]
            rng.shuffle(negative)
            found = (positive + negative)[:MAX_WINDOWS_PER_QUESTION] if positive else negative[:MAX_WINDOWS_PER_QUESTION]
        out += found
        owners += [number] * len(found)
    return out, owners


def prepare(run: Path) -> None:
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    tokenizer = Tokenizer.bundled()
    weights = E5File()
    encoder = E5Encoder(weights, layers=FROZEN_LAYERS).eval()
    run.mkdir(parents=True, exist_ok=True)
    for split in ("tune", "train"):
        questions = list(load_realqa(splits=(split,)))
        if split == "train":
            questions = add_distractors(questions, rng)
        found, owners = build_windows(tokenizer, questions, split == "train", rng)
        lengths = np.array([len(w.ids) for w in found])
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        log(f"{split}: {len(questions)} questions, {len(found)} windows, {offsets[-1]} tokens")
        hidden = np.lib.format.open_memmap(run / f"{split}.hidden.npy", mode="w+", dtype=np.float16, shape=(int(offsets[-1]), weights.shape.hidden))
        order = np.argsort(lengths)
        started = time.time()
        batch_tokens = 8192
        cursor = 0
        done = 0
        while cursor < len(order):
            batch = [int(order[cursor])]
            while cursor + len(batch) < len(order) and (len(batch) + 1) * lengths[order[cursor + len(batch)]] <= batch_tokens:
                batch.append(int(order[cursor + len(batch)]))
            cursor += len(batch)
            length = int(max(lengths[i] for i in batch))
            with torch.no_grad():
                words, mask = word_embeddings(weights, [found[i].ids for i in batch], length)
                out = encoder.run(encoder.embed(words), mask).to(torch.float16).numpy()
            for row, index in enumerate(batch):
                hidden[offsets[index] : offsets[index + 1]] = out[row, : lengths[index]]
            done += len(batch)
            if done % 500 < len(batch) or cursor >= len(order):
                rate = done / (time.time() - started)
                log(f"{split}: {done}/{len(found)} windows through the frozen layers ({rate:.1f}/s, {(len(found) - done) / rate / 60:.1f} min left)")
        hidden.flush()
        meta = {
            "windows": [[w.offset, w.first, w.count, w.start, w.end] for w in found],
            "owners": owners,
            "offsets": offsets.tolist(),
            "questions": [
                {
                    "dataset": q.dataset, "lang": q.lang, "context_id": q.context_id, "question": q.question,
                    "answers": list(q.answers), "answer_starts": list(q.answer_starts), "is_impossible": q.is_impossible, "origin": q.origin,
                }
                for q in questions
            ],
        }
        (run / f"{split}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    log("prepared")


# -- train -------------------------------------------------------------------------------------------


class ReaderTop(nn.Module):
    """The trainable part: e5's layers FROZEN_LAYERS.. and a span head (start, end logits)."""

    def __init__(self, weights: E5File) -> None:
        super().__init__()
        shape = weights.shape
        self.layers = nn.ModuleList()
        for number in range(FROZEN_LAYERS, shape.layers):
            layer = Layer(shape.hidden, shape.heads, shape.ffn, shape.layer_norm_eps)
            for name in ("q", "k", "v", "ao", "aln", "fi", "fo", "oln"):
                _load(getattr(layer, name), weights, f"l{number}.{name}")
            self.layers.append(layer)
        self.head = nn.Linear(shape.hidden, 2)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bias = (1.0 - mask[:, None, None, :]) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        logits = self.head(x).masked_fill(~allowed[..., None], -1e4)
        return logits[..., 0], logits[..., 1]


class Split:
    def __init__(self, run: Path, name: str) -> None:
        self.hidden = np.load(run / f"{name}.hidden.npy", mmap_mode="r")
        meta = json.loads((run / f"{name}.meta.json").read_text(encoding="utf-8"))
        self.windows = meta["windows"]
        self.owners = meta["owners"]
        self.offsets = meta["offsets"]
        self.questions = meta["questions"]

    def length(self, index: int) -> int:
        return self.offsets[index + 1] - self.offsets[index]

    def batch(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        length = max(self.length(i) for i in indices)
        x = np.zeros((len(indices), length, self.hidden.shape[1]), dtype=np.float32)
        mask = np.zeros((len(indices), length), dtype=np.float32)
        allowed = np.zeros((len(indices), length), dtype=bool)
        for row, index in enumerate(indices):
            n = self.length(index)
            x[row, :n] = self.hidden[self.offsets[index] : self.offsets[index + 1]]
            mask[row, :n] = 1
            offset, _, count, _, _ = self.windows[index]
            allowed[row, 0] = True
            allowed[row, offset : offset + count] = True
        starts = torch.tensor([self.windows[i][3] for i in indices])
        ends = torch.tensor([self.windows[i][4] for i in indices])
        return torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(allowed), starts, ends

    def batches(self, tokens: int, rng: random.Random | None) -> list[list[int]]:
        """Batches of similar length (little padding) of at most `tokens` padded tokens, shuffled."""
        order = sorted(range(len(self.windows)), key=lambda i: (self.length(i), rng.random() if rng else 0))
        out, current = [], []
        for index in order:
            if current and (len(current) + 1) * self.length(index) > tokens:
                out.append(current)
                current = []
            current.append(index)
        if current:
            out.append(current)
        if rng:
            rng.shuffle(out)
        return out


def evaluate(model: ReaderTop, split: Split) -> dict:
    """Per question: the best span over its windows by (span − no-answer) margin; the threshold
    that maximises accuracy (answerable: the predicted span overlaps the gold one; unanswerable:
    abstained)."""
    model.eval()
    per_question: dict[int, tuple[float, bool]] = {}
    with torch.no_grad():
        for indices in split.batches(16384, None):
            x, mask, allowed, starts, ends = split.batch(indices)
            start, end = model(x, mask, allowed)
            for row, index in enumerate(indices):
                offset, first, count, gold_start, gold_end = split.windows[index]
                best, i, j = best_span(start[row].numpy(), end[row].numpy(), offset, count)
                margin = best - float(start[row, 0] + end[row, 0])
                hit = bool(gold_start) and i <= gold_end and j >= gold_start
                owner = split.owners[index]
                if owner not in per_question or margin > per_question[owner][0]:
                    per_question[owner] = (margin, hit)
    model.train()
    rows = [(margin, hit, split.questions[q]["is_impossible"], split.questions[q]["dataset"]) for q, (margin, hit) in per_question.items()]
    best_threshold, best_accuracy = 0.0, -1.0
    for threshold in np.linspace(-6, 6, 121):
        accuracy = np.mean([(hit and margin > threshold) if not impossible else margin <= threshold for margin, hit, impossible, _ in rows])
        if accuracy > best_accuracy:
            best_threshold, best_accuracy = float(threshold), float(accuracy)
    by_dataset = {}
    for name in sorted({r[3] for r in rows}):
        mine = [r for r in rows if r[3] == name]
        by_dataset[name] = round(float(np.mean([(h and m > best_threshold) if not imp else m <= best_threshold for m, h, imp, _ in mine])), 3)
    return {"accuracy": round(best_accuracy, 4), "threshold": best_threshold, "questions": len(rows), "by_dataset": by_dataset}


def train(run: Path, epochs: float, learning_rate: float, batch_tokens: int) -> None:
    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    weights = E5File()
    model = ReaderTop(weights)
    training, tune = Split(run, "train"), Split(run, "tune")
    batches = training.batches(batch_tokens, rng)
    total_steps = int(len(batches) * epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = max(1, total_steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, 1 - step / total_steps))
    loss_function = nn.CrossEntropyLoss()
    record = {
        "seed": SEED, "frozen_layers": FROZEN_LAYERS, "train_tokens": TRAIN_TOKENS, "stride": TRAIN_STRIDE,
        "distractor_share": DISTRACTOR_SHARE, "distractor_characters": DISTRACTOR_CHARACTERS,
        "epochs": epochs, "learning_rate": learning_rate, "batch_tokens": batch_tokens, "steps": total_steps,
        "train_windows": len(training.windows), "train_questions": len(training.questions), "tune_questions": len(tune.questions),
        "train_questions_by_dataset": {n: sum(q["dataset"] == n for q in training.questions) for n in sorted({q["dataset"] for q in training.questions})},
        "checkpoints": [],
    }
    log(f"training {total_steps} steps ({len(batches)} batches an epoch, {epochs} epochs)")
    started = time.time()
    seen = 0
    step = 0
    best = -1.0
    running = 0.0
    evaluate_every = max(1, len(batches) // 3)
    while step < total_steps:
        for indices in batches:
            if step >= total_steps:
                break
            x, mask, allowed, starts, ends = training.batch(indices)
            start, end = model(x, mask, allowed)
            loss = (loss_function(start, starts) + loss_function(end, ends)) / 2
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            seen += len(indices)
            running = 0.98 * running + 0.02 * float(loss) if step > 1 else float(loss)
            if step % 50 == 0:
                hours = (time.time() - started) / 3600
                log(f"step {step}/{total_steps} loss {running:.3f} {seen / hours:.0f} windows/hour, {(total_steps - step) / (step / hours) * 60:.0f} min left")
            if step % evaluate_every == 0 or step == total_steps:
                metrics = evaluate(model, tune)
                metrics |= {"step": step, "windows_seen": seen, "minutes": round((time.time() - started) / 60, 1)}
                log(f"tune: {metrics}")
                record["checkpoints"].append(metrics)
                if metrics["accuracy"] > best:
                    best = metrics["accuracy"]
                    torch.save({"state": model.state_dict(), "metrics": metrics}, run / "best.pt")
                torch.save({"state": model.state_dict(), "metrics": metrics}, run / "last.pt")
                record["wall_minutes"] = round((time.time() - started) / 60, 1)
                (run / "run.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    log(f"done: best tune accuracy {best}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=("prepare", "train", "export"))
    parser.add_argument("--run", default="reader", help="folder under training/runs/")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch-tokens", type=int, default=4096)
    args = parser.parse_args()
    run = RUNS / args.run
    try:
        if args.stage == "prepare":
            prepare(run)
        elif args.stage == "train":
            train(run, args.epochs, args.learning_rate, args.batch_tokens)
        else:
            from training.export_reader import export

            export(run)
    except RealQAMissing as error:
        sys.exit(f"cannot train: {error}")


if __name__ == "__main__":
    main()
