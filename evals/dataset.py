"""The eval data as plain data: articles, each with its cases (question, language, history, gold
sentence ids) and, for the dev articles, the reference sentence split a reader made.

- `evals/dataset.yaml`: the seed article's cases (written next to the first rules; kept as they are).
- `evals/dev/*.yaml` + `evals/articles/*.md`: articles written for this project; their questions
  were written by a helper that saw only the article text (README of `evals/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

EVALS_DIR = Path(__file__).parent
DEFAULT_DATASET = EVALS_DIR / "dataset.yaml"
DEV_DIR = EVALS_DIR / "dev"
ARTICLES_DIR = EVALS_DIR / "articles"
SEED_DIR = EVALS_DIR.parent / "seeds"


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
    doc_id: str = ""
    article_lang: str = "id"
    shape: str = ""
    """What the question asks (when, who, multi_part …) or, for unanswerable ones, near_miss / off_topic."""

    @property
    def answerable(self) -> bool:
        return bool(self.gold)

    @property
    def pair(self) -> str:
        """Question language → article language, e.g. "en→id"."""
        return f"{self.lang}→{self.article_lang}"


@dataclass(frozen=True)
class ArticleCases:
    doc_id: str
    source: Path
    language: str
    cases: tuple[Case, ...]
    reference: tuple[str, ...] = ()
    """The article's sentences as a reader split them (dev articles); empty for the seed."""


def load_dataset(path: str | Path | None = None) -> list[Case]:
    """The seed article's cases (`evals/dataset.yaml` or another file in its format: gold as sentence ids)."""
    data = yaml.safe_load(Path(path or DEFAULT_DATASET).read_text(encoding="utf-8"))
    return _cases(data, data.get("document", ""), data.get("language", "id"), gold=lambda q: tuple(q["gold"]), id_prefix="")


def load_dev_article(path: Path) -> ArticleCases:
    """One dev article: its YAML (reference split, cases with gold as sentence positions)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    source = ARTICLES_DIR / data["article"]
    doc_id = source.stem

    def gold(q: dict) -> tuple[str, ...]:
        return tuple(f"{doc_id}#{position:02d}" for position in q.get("gold", ()))

    cases = _cases(data, doc_id, data["language"], gold=gold, id_prefix=f"{doc_id}/")
    return ArticleCases(doc_id, source, data["language"], tuple(cases), tuple(data.get("sentences", ())))


def _cases(data: dict, doc_id: str, language: str, gold, id_prefix: str) -> list[Case]:
    """The `questions`, `unanswerable` and `followups` sections as cases; `gold` reads a case's gold ids."""

    def case(q: dict, kind: str) -> Case:
        unanswerable = kind == "unanswerable" or bool(q.get("unanswerable"))
        return Case(
            id=f"{id_prefix}{q['id']}",
            lang=q["lang"],
            question=q["question"],
            gold=() if unanswerable else gold(q),
            history=tuple(q.get("history", ())),
            expect=tuple(q.get("expect", ()) or ()),
            kind=kind,
            doc_id=doc_id,
            article_lang=language,
            shape=q.get("shape") or q.get("kind", ""),
        )

    cases = [case(q, "single") for q in data.get("questions", [])]
    cases += [case(q, "unanswerable") for q in data.get("unanswerable", [])]
    cases += [case(q, "followup") for q in data.get("followups", [])]
    _check_unique(cases)
    return cases


def load_suite(dataset: str | Path | None = None, dev_dir: Path = DEV_DIR) -> list[ArticleCases]:
    """Every article with its cases: the seed first, then the dev articles in name order."""
    seed_cases = load_dataset(dataset)
    seed_doc = seed_cases[0].doc_id if seed_cases else "seed"
    articles = [ArticleCases(seed_doc, SEED_DIR / f"{seed_doc}.txt", "id", tuple(seed_cases))]
    articles += [load_dev_article(path) for path in sorted(dev_dir.glob("*.yaml"))]
    return articles


def _check_unique(cases: list[Case]) -> None:
    ids = [case.id for case in cases]
    duplicates = {case_id for case_id in ids if ids.count(case_id) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids in the dataset: {sorted(duplicates)}")
