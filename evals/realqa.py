"""Real question-answering data (`../shared/realqa/`): loading and the one split every tool agrees on.

The folder holds public QA datasets in one JSONL format (its README documents the fields and
licences). The project never copies them; training (`training/`) and the real-data eval tier both
read them from where they lie and skip, saying so, where the folder is absent.

Splits, by passage so that no passage's questions end up on two sides:

- ``train``: what the reader is fitted on.
- ``tune``: one passage in twenty of the training files, held out of fitting; it chooses the
  no-answer threshold and the stopping epoch.
- ``valid``: what is reported. The datasets' own validation splits (IDK-MRC, FacQA); SQuAD 2.0's
  shared articles split by article (the odd ones in alphabetical order are reported); TyDi QA
  English, which ships only a training split here, one passage in ten by a stable hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Split = Literal["train", "tune", "valid"]

DEFAULT_REALQA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "realqa"
"""Where the data lies next to a checkout (`../shared/realqa/`); ASSISTANT_REALQA_DIR overrides it."""

FILES = {
    "idk_mrc": ("id_idk_mrc_train.jsonl", "id_idk_mrc_valid.jsonl"),
    "facqa": ("id_facqa_train.jsonl", "id_facqa_valid.jsonl"),
    "tydiqa": ("en_tydiqa_goldp_train.jsonl", None),
    "squad2": ("en_squad2_dev_share.jsonl", None),
}
"""Dataset name -> (training file, validation file or None when the split is carved from the first)."""

SQUAD2_VALID_TITLES = frozenset(
    {"Computational complexity theory", "French and Indian War", "Imperialism", "Normans", "Scottish Parliament"}
)
"""SQuAD 2.0's ten shared articles, sorted by title: the odd-numbered five are reported, the even five trained on."""


@dataclass(frozen=True)
class RealQuestion:
    dataset: str
    lang: str
    context_id: str
    title: str
    context: str
    question: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]
    is_impossible: bool
    origin: str
    split: Split


class RealQAMissing(FileNotFoundError):
    """The real-data folder (or one of its files) is not on this machine."""


def realqa_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_REALQA_DIR") or DEFAULT_REALQA_DIR)


def _stable_bucket(key: str, buckets: int) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % buckets


def split_of(dataset: str, context_id: str, title: str, from_valid_file: bool) -> Split:
    """Which split a passage belongs to (see the module docstring)."""
    if from_valid_file:
        return "valid"
    if dataset == "squad2" and title in SQUAD2_VALID_TITLES:
        return "valid"
    if dataset == "tydiqa" and _stable_bucket("valid:" + context_id, 10) == 0:
        return "valid"
    if _stable_bucket("tune:" + context_id, 20) == 0:
        return "tune"
    return "train"


def load_realqa(datasets: tuple[str, ...] = tuple(FILES), splits: tuple[Split, ...] = ("valid",), root: Path | None = None) -> Iterator[RealQuestion]:
    """The questions of the given datasets and splits, passage by passage, in file order."""
    root = root or realqa_dir()
    for name in datasets:
        train_file, valid_file = FILES[name]
        for filename, from_valid in ((train_file, False), (valid_file, True)):
            if filename is None:
                continue
            if from_valid and "valid" not in splits:
                continue
            path = root / filename
            if not path.is_file():
                raise RealQAMissing(f"{path} not found: the real-data tier needs ../shared/realqa/ (or ASSISTANT_REALQA_DIR)")
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    row = json.loads(line)
                    split = split_of(name, row["context_id"], row.get("title") or "", from_valid)
                    if split not in splits:
                        continue
                    yield RealQuestion(
                        dataset=name,
                        lang=row["lang"],
                        context_id=row["context_id"],
                        title=row.get("title") or "",
                        context=row["context"],
                        question=row["question"],
                        answers=tuple(row.get("answers") or ()),
                        answer_starts=tuple(row.get("answer_starts") or ()),
                        is_impossible=bool(row["is_impossible"]),
                        origin=row.get("question_origin") or "",
                        split=split,
                    )
