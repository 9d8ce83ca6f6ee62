"""Fit how the shipped reader's readings are decided: the weight of retrieval's score next to the
reader's margin, and the threshold an answer must clear (assistant/answering/reading.py, `Decision`).

    .venv/bin/python -m training.fit_decision            # reads the tune split, writes reader.json

No torch: it runs the shipped int8 reader through the real pipeline. Each passage of the realqa
`tune` split (never trained on, never reported) is ingested as an article into a fresh index, as
`assistant eval --realqa` does with the `valid` split; every question is retrieved and read, and
every reading kept (margin, retrieval score, whether its sentence holds a gold answer). The pair
(weight, threshold) with the best accuracy on those questions is written to
assistant/data/reader/reader.json. The project's own eval articles are not used, so
`assistant eval` measures the decision on articles it was never fitted on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.answering.reading import ReaderAnswerer
from assistant.reader.model import MODEL_DIR, MODEL_INFO
from evals.realqa import RealQAMissing, load_realqa
from evals.realqa_eval import each_passage, holds_answer, passages

RUNS = Path(__file__).resolve().parent / "runs"
WEIGHTS = np.linspace(0.0, 20.0, 41)
THRESHOLDS = np.linspace(-8.0, 12.0, 201)

Row = tuple[bool, list[tuple[float, float, bool]]]
"""One question: answerable?, and its readings as (margin, retrieval score, sentence holds a gold answer)."""


def collect(progress=None) -> list[Row]:
    rows: list[Row] = []
    for group, bot in each_passage(passages(load_realqa(splits=("tune",)), None), progress):
        answerer = ReaderAnswerer(bot.searcher)
        for question in group:
            query = bot.searcher.parse(question.question, ())
            assessment = answerer.assess(query) if answerer.early_reply(query) is None else None
            readings = [] if assessment is None or assessment.office_never_named else answerer.readings(query, assessment.scored)
            answers = () if question.is_impossible else question.answers
            rows.append((not question.is_impossible, [(r.span.margin, r.retrieval, holds_answer(r.sentence.sentence.text, answers)) for r in readings]))
    return rows


def accuracy_by_threshold(rows: Sequence[Row], weight: float) -> np.ndarray:
    """Accuracy at each of THRESHOLDS when readings score margin + weight × retrieval."""
    correct = np.zeros(len(THRESHOLDS))
    for answerable, readings in rows:
        if not readings:
            correct += not answerable
            continue
        scores = [margin + weight * retrieval for margin, retrieval, _ in readings]
        best = int(np.argmax(scores))
        answers = scores[best] > THRESHOLDS
        correct += np.where(answers, answerable and readings[best][2], not answerable)
    return correct / max(len(rows), 1)


def fit(rows: Sequence[Row]) -> tuple[float, float, float]:
    """(weight, threshold, accuracy) with the best accuracy; ties go to the smaller weight."""
    best = (0.0, 0.0, -1.0)
    for weight in WEIGHTS:
        accuracy = accuracy_by_threshold(rows, float(weight))
        index = int(np.argmax(accuracy))
        if accuracy[index] > best[2] + 1e-9:
            best = (float(weight), float(THRESHOLDS[index]), float(accuracy[index]))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=str(RUNS / "decision-rows.json"), help="where the collected readings are kept")
    parser.add_argument("--reuse", action="store_true", help="fit on the rows collected before (same model) instead of reading again")
    args = parser.parse_args()
    rows_path = Path(args.rows)
    started = time.time()
    if args.reuse:
        rows = [(answerable, [tuple(r) for r in readings]) for answerable, readings in json.loads(rows_path.read_text(encoding="utf-8"))]
    else:
        try:
            rows = collect(lambda text: print(time.strftime("%H:%M:%S"), text, flush=True) if text.endswith("0") else None)
        except RealQAMissing as error:
            sys.exit(f"cannot fit: {error}")
        rows_path.parent.mkdir(parents=True, exist_ok=True)
        rows_path.write_text(json.dumps(rows), encoding="utf-8")
    weight, threshold, accuracy = fit(rows)
    margin_only = accuracy_by_threshold(rows, 0.0)
    print(f"{len(rows)} tune questions: weight {weight}, threshold {threshold:.2f}, accuracy {accuracy:.3f} "
          f"(margin alone: {margin_only.max():.3f} at {THRESHOLDS[int(np.argmax(margin_only))]:.2f}); {time.time() - started:.0f} s")
    info_path = MODEL_DIR / MODEL_INFO
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info |= {"retrieval_weight": weight, "threshold": round(threshold, 2), "decision_tune_accuracy": round(accuracy, 4), "decision_tune_questions": len(rows)}
    info_path.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {info_path}")


if __name__ == "__main__":
    main()
