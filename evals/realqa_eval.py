"""The real-data tier: public QA datasets' validation questions through `Assistant.ask`.

    assistant eval --realqa [--limit N] [--json run.json] [--markdown]

Each passage is ingested as an article of its own into a fresh index (so retrieval and answering
see exactly what a user who ingested it would), then its questions are asked of each answerer side
by side: `rules` (the default, `Assistant.ask`), `reader` (the trained reader,
assistant/answering/reading.py) and `always refuse` (the baseline, computed, not asked). Measured
per dataset, per language and per question origin:

- acc: answerable questions answered with a sentence holding a gold answer cited, plus
  unanswerable ones refused, over all questions (refusing everything scores the unanswerable share);
- hit@1: over answerable questions, retrieval's first sentence holds a gold answer;
- answered, gold cited: over answerable questions;
- EM, F1: over answerable questions, the brief against the gold answers (SQuAD's normalisation:
  lower case, no punctuation or articles, max over the gold answers), 0 when refused;
- abstained: over unanswerable questions, the share refused.

"Holds a gold answer" is by text: the sentence contains one of the gold answer strings. The data
is read from ../shared/realqa/ (evals/realqa.py says which passages are `valid`), never copied.
"""

from __future__ import annotations

import collections
import json
import re
import shutil
import string
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evals.realqa import FILES, RealQuestion, load_realqa

if TYPE_CHECKING:
    from assistant import Assistant

COLUMNS = ("n", "acc", "hit@1", "answered", "gold cited", "EM", "F1", "abstained")
DATASET_LABELS = {
    "idk_mrc": "IDK-MRC valid (id)",
    "facqa": "FacQA valid (id)",
    "squad2": "SQuAD 2.0 share, valid articles (en)",
    "tydiqa": "TyDi QA GoldP, held-out part (en)",
}


@dataclass
class RealResult:
    answerer: str
    dataset: str
    lang: str
    origin: str
    question: str
    answers: list[str]
    impossible: bool
    abstained: bool
    cited: list[str]
    top_sentence: str
    brief: str
    seconds: float

    @property
    def gold_cited(self) -> bool:
        return not self.abstained and any(holds_answer(text, self.answers) for text in self.cited)

    @property
    def correct(self) -> bool:
        return self.abstained if self.impossible else self.gold_cited


def holds_answer(sentence: str, answers: Sequence[str]) -> bool:
    return any(answer and answer in sentence for answer in answers)


def passages(questions: Iterable[RealQuestion], limit: int | None) -> list[list[RealQuestion]]:
    """Questions grouped by passage, in file order, whole passages until `limit` questions per dataset."""
    grouped: dict[str, list[RealQuestion]] = {}
    counts: collections.Counter[str] = collections.Counter()
    for question in questions:
        if question.context_id not in grouped and limit is not None and counts[question.dataset] >= limit:
            continue
        grouped.setdefault(question.context_id, []).append(question)
        counts[question.dataset] += 1
    return list(grouped.values())


def _rules(bot, question: str):
    return bot.ask(question)


def _reader(bot, question: str):
    from assistant.answering.reading import ReaderAnswerer

    return ReaderAnswerer(bot.searcher).answer(question)


ANSWERERS: dict[str, Callable] = {"rules": _rules, "reader": _reader}


def run(
    datasets: Sequence[str] = tuple(FILES),
    limit: int | None = None,
    answerers: Sequence[str] = tuple(ANSWERERS),
    progress: Callable[[str], None] | None = None,
) -> list[RealResult]:
    """Every answerer's result for every question, plus the always-refuse baseline's."""
    results: list[RealResult] = []
    for group, bot in each_passage(passages(load_realqa(tuple(datasets), splits=("valid",)), limit), progress):
        for question in group:
            hits = bot.retrieve(question.question, k=1)
            top = hits[0].text if hits else ""
            for name in answerers:
                started = time.perf_counter()
                reply = ANSWERERS[name](bot, question.question)
                cited = [citation.text for citation in reply.citations]
                results.append(_result(name, question, reply.abstained, cited, top, _brief(reply), time.perf_counter() - started))
            results.append(_result("always refuse", question, True, [], top, "", 0.0))
    return results


def each_passage(groups: Sequence[list[RealQuestion]], progress: Callable[[str], None] | None = None) -> Iterator[tuple[list[RealQuestion], Assistant]]:
    """Each passage ingested as an article into a fresh index of its own, with an assistant over it."""
    from assistant import Assistant
    from assistant.settings import Settings
    from ingest import ingest

    data_dir = Path(tempfile.mkdtemp(prefix="assistant-realqa-"))
    try:
        for number, group in enumerate(groups):
            first = group[0]
            if progress:
                progress(f"{first.dataset}: passage {number + 1}/{len(groups)}")
            source = data_dir / f"passage-{number}.txt"
            # A .txt file's first line is its title (docs/design.md): give the passage one, so no
            # sentence of it is taken for the headline.
            source.write_text(f"{first.title or 'Passage'}\n\n{first.context}\n", encoding="utf-8")
            # A fresh index per passage (one shared Chroma folder slows down as collections pile up).
            index_dir = data_dir / f"index-{number}"
            settings = Settings(data_dir=index_dir, llm=None, chroma_url=None, collection="realqa")
            ingest([str(source)], settings=settings)
            bot = Assistant.load(settings)
            yield group, bot
            bot.index.close()
            shutil.rmtree(index_dir, ignore_errors=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _result(answerer: str, question: RealQuestion, abstained: bool, cited: list[str], top: str, brief: str, seconds: float) -> RealResult:
    return RealResult(
        answerer=answerer,
        dataset=question.dataset,
        lang=question.lang,
        origin=question.origin,
        question=question.question,
        answers=list(question.answers),
        impossible=question.is_impossible,
        abstained=abstained,
        cited=cited,
        top_sentence=top,
        brief=brief,
        seconds=seconds,
    )


def _brief(reply) -> str:
    """The short answer without its [n] markers (what EM and F1 compare)."""
    if reply.abstained:
        return ""
    first_line = reply.brief.splitlines()[0] if reply.brief else ""
    return re.sub(r"\s*\[\d+\]", "", first_line).strip().rstrip(".")


# -- scoring ---------------------------------------------------------------------------------------


def _normalize(text: str) -> list[str]:
    text = "".join(c for c in text.lower() if c not in string.punctuation and c not in "“”‘’")
    return [word for word in text.split() if word not in ("a", "an", "the")]


def f1(prediction: str, answers: Sequence[str]) -> float:
    best = 0.0
    predicted = _normalize(prediction)
    for answer in answers:
        gold = _normalize(answer)
        common = sum((collections.Counter(predicted) & collections.Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def exact(prediction: str, answers: Sequence[str]) -> float:
    return float(any(_normalize(prediction) == _normalize(answer) for answer in answers))


def score(results: Sequence[RealResult]) -> dict[str, float]:
    answerable = [r for r in results if not r.impossible]
    unanswerable = [r for r in results if r.impossible]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    return {
        "n": len(results),
        "acc": mean([float(r.correct) for r in results]),
        "hit@1": mean([float(holds_answer(r.top_sentence, r.answers)) for r in answerable]),
        "answered": mean([float(not r.abstained) for r in answerable]),
        "gold cited": mean([float(r.gold_cited) for r in answerable]),
        "EM": mean([exact(r.brief, r.answers) for r in answerable]),
        "F1": mean([f1(r.brief, r.answers) for r in answerable]),
        "abstained": mean([float(r.abstained) for r in unanswerable]),
    }


def groups(results: Sequence[RealResult]) -> dict[str, list[RealResult]]:
    out: dict[str, list[RealResult]] = {}
    for dataset in FILES:
        mine = [r for r in results if r.dataset == dataset]
        if mine:
            out[DATASET_LABELS[dataset]] = mine
    for lang in ("id", "en"):
        mine = [r for r in results if r.lang == lang]
        if mine:
            out[f"language: {lang}"] = mine
    for origin in sorted({r.origin for r in results if r.origin}):
        out[f"origin: {origin}"] = [r for r in results if r.origin == origin]
    return out


def rows(results: Sequence[RealResult]) -> list[list[str]]:
    """One row per set and answerer, the answerers side by side under each set."""
    out = []
    answerers = list(dict.fromkeys(r.answerer for r in results))
    for name, members in groups(results).items():
        for answerer in answerers:
            values = score([r for r in members if r.answerer == answerer])
            out.append([name, answerer, str(values["n"])] + [_cell(values[column]) for column in COLUMNS[1:]])
    return out


def markdown(results: Sequence[RealResult]) -> str:
    lines = ["| set | answerer | " + " | ".join(COLUMNS) + " |", "|---|---|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    return "\n".join(lines)


def _cell(value: float) -> str:
    return "–" if value != value else f"{value:.3f}"


def write_json(results: Sequence[RealResult], path: str) -> None:
    Path(path).write_text(json.dumps([asdict(r) | {"correct": r.correct} for r in results], ensure_ascii=False, indent=1), encoding="utf-8")
