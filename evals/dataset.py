"""The eval dataset as plain data: cases with a language, a question, history and gold sentence ids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_DATASET = Path(__file__).with_name("dataset.yaml")


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    question: str
    gold: tuple[str, ...]
    """Empty for questions the article cannot answer."""
    history: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()
    kind: str = "single"  # single | unanswerable | followup

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def load_dataset(path: str | Path | None = None) -> list[Case]:
    data = yaml.safe_load(Path(path or DEFAULT_DATASET).read_text(encoding="utf-8"))
    cases = [
        Case(q["id"], q["lang"], q["question"], tuple(q["gold"]), expect=tuple(q.get("expect", ())), kind="single")
        for q in data.get("questions", [])
    ]
    cases += [Case(q["id"], q["lang"], q["question"], (), kind="unanswerable") for q in data.get("unanswerable", [])]
    cases += [
        Case(
            q["id"],
            q["lang"],
            q["question"],
            () if q.get("unanswerable") else tuple(q["gold"]),
            history=tuple(q.get("history", ())),
            expect=tuple(q.get("expect", ())),
            kind="followup",
        )
        for q in data.get("followups", [])
    ]
    ids = [case.id for case in cases]
    duplicates = {case_id for case_id in ids if ids.count(case_id) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids in the dataset: {sorted(duplicates)}")
    return cases
