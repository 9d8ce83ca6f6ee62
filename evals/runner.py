"""Run the eval suite: ingest into a temporary index, retrieve and answer every case, report.

Retrieval metrics come from trec_eval (pytrec_eval): success@1 (hit@1), success@3, reciprocal
rank, nDCG@5 and recall@5. Answer metrics are counted here, defined in `score_answers`.
Follow-up cases are retrieved with their history, exactly as `Assistant.ask` does.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant.core import Assistant
from assistant.settings import DEFAULT_EMBEDDING, Settings
from evals.dataset import Case, load_dataset

RETRIEVAL_MEASURES = {"success.1,3", "recip_rank", "ndcg_cut.5", "recall.5"}
RETRIEVAL_COLUMNS = {"hit@1": "success_1", "hit@3": "success_3", "MRR": "recip_rank", "nDCG@5": "ndcg_cut_5", "recall@5": "recall_5"}
ANSWER_COLUMNS = ("answered", "abstain P", "abstain R", "cite P", "cite R", "span")
GROUPS = ("all", "id", "en", "followup")


@dataclass(frozen=True)
class Config:
    name: str
    embedding: str = DEFAULT_EMBEDDING
    retrieval: str = "hybrid"


DEFAULT_CONFIG = Config("e5 hybrid")
COMPARE_CONFIGS = (Config("e5 dense", retrieval="dense"), Config("MiniLM hybrid", "sentence-transformers:all-MiniLM-L6-v2"), Config("MiniLM dense", "sentence-transformers:all-MiniLM-L6-v2", "dense"))


@dataclass
class CaseResult:
    case: Case
    ranking: list[str]
    abstained: bool
    cited: list[str]
    highlights: list[str]
    answer: str
    seconds: float


@dataclass
class Report:
    config: Config
    retrieval: dict[str, dict[str, float]] = field(default_factory=dict)
    answers: dict[str, dict[str, float]] = field(default_factory=dict)
    results: list[CaseResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def run(config: Config = DEFAULT_CONFIG, cases: list[Case] | None = None, sources: list[str] | None = None, bot: Assistant | None = None) -> Report:
    """Evaluate one configuration on a fresh temporary index (or on `bot`, if given)."""
    cases = cases if cases is not None else load_dataset()
    started = time.perf_counter()
    if bot is None:
        from ingest import ingest

        data_dir = Path(tempfile.mkdtemp(prefix="assistant-eval-"))
        settings = Settings(data_dir=data_dir, embedding=config.embedding, retrieval=config.retrieval, llm=None, chroma_url=None)
        ingest(sources or ["seeds"], settings=settings)
        bot = Assistant.load(settings)
    results = [_run_case(bot, case) for case in cases]
    report = Report(config=config, results=results, seconds=time.perf_counter() - started)
    report.retrieval = score_retrieval(results)
    report.answers = score_answers(results)
    report.counts = {group: sum(1 for r in results if _in_group(r.case, group)) for group in GROUPS}
    return report


def _run_case(bot: Assistant, case: Case) -> CaseResult:
    started = time.perf_counter()
    ranking = [hit.sentence_id for hit in bot.retrieve(case.question, k=10, history=list(case.history))]
    answer = bot.ask(case.question, history=list(case.history))
    return CaseResult(
        case=case,
        ranking=ranking,
        abstained=answer.abstained,
        cited=[c.sentence_id for c in answer.citations],
        highlights=[span for c in answer.citations for span in c.highlights],
        answer=answer.text,
        seconds=time.perf_counter() - started,
    )


def _in_group(case: Case, group: str) -> bool:
    if group == "all":
        return True
    if group == "followup":
        return case.kind == "followup"
    return case.lang == group


def score_retrieval(results: list[CaseResult]) -> dict[str, dict[str, float]]:
    """trec_eval measures over answerable cases, averaged per group."""
    import pytrec_eval

    answerable = [r for r in results if r.case.answerable]
    qrels = {r.case.id: {sentence_id: 1 for sentence_id in r.case.gold} for r in answerable}
    # Scores from ranks, so trec_eval's tie-breaking cannot reorder our ranking.
    run_ = {r.case.id: {sentence_id: 1.0 / (rank + 1) for rank, sentence_id in enumerate(r.ranking)} or {"none": 0.0} for r in answerable}
    per_query = pytrec_eval.RelevanceEvaluator(qrels, RETRIEVAL_MEASURES).evaluate(run_)
    table = {}
    for group in GROUPS:
        ids = [r.case.id for r in answerable if _in_group(r.case, group)]
        table[group] = {column: _mean(per_query[i][measure] for i in ids) for column, measure in RETRIEVAL_COLUMNS.items()}
    return table


def score_answers(results: list[CaseResult]) -> dict[str, dict[str, float]]:
    """Answer metrics per group.

    - answered: share of answerable cases answered (not abstained);
    - abstain P / R: of abstentions, the share on unanswerable cases / of unanswerable cases, the share abstained;
    - cite P: over answered answerable cases, mean share of citations that are gold;
    - cite R: over all answerable cases, mean share of gold sentences cited (an abstention cites none);
    - span: over cases with expected spans, share whose answer text contains every one of them.
    """
    table = {}
    for group in GROUPS:
        rows = [r for r in results if _in_group(r.case, group)]
        answerable = [r for r in rows if r.case.answerable]
        unanswerable = [r for r in rows if not r.case.answerable]
        answered = [r for r in answerable if not r.abstained]
        abstentions = [r for r in rows if r.abstained]
        with_spans = [r for r in answered if r.case.expect]
        table[group] = {
            "answered": _ratio(len(answered), len(answerable)),
            "abstain P": _ratio(sum(not r.case.answerable for r in abstentions), len(abstentions)),
            "abstain R": _ratio(sum(r.abstained for r in unanswerable), len(unanswerable)),
            "cite P": _mean(_ratio(len(set(r.cited) & set(r.case.gold)), len(r.cited)) for r in answered),
            "cite R": _mean(_ratio(len(set(r.cited) & set(r.case.gold)), len(r.case.gold)) for r in answerable),
            "span": _mean(float(all(e in r.answer for e in r.case.expect)) for r in with_spans),
        }
    return table


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else float("nan")


# -- reporting ---------------------------------------------------------------------------------


def print_reports(reports: list[Report], console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console(highlight=False)
    for title, columns, attribute in (("Retrieval", list(RETRIEVAL_COLUMNS), "retrieval"), ("Answers", list(ANSWER_COLUMNS), "answers")):
        table = Table(title=title, title_justify="left")
        table.add_column("config")
        table.add_column("group")
        table.add_column("n", justify="right")
        for column in columns:
            table.add_column(column, justify="right")
        for report in reports:
            metrics = getattr(report, attribute)
            for group in GROUPS:
                name = f"[bold]{report.config.name}[/]" if group == "all" else ""
                table.add_row(name, group, str(report.counts[group]), *(_fmt(metrics[group][column]) for column in columns))
        console.print(table)
    for report in reports:
        per_question_ms = 1000 * _mean(r.seconds for r in report.results)
        console.print(f"[dim]{report.config.name}: {len(report.results)} cases in {report.seconds:.1f}s ({per_question_ms:.0f} ms per case, retrieve + ask)[/]")


def _fmt(value: float) -> str:
    return "–" if value != value else f"{value:.3f}"


def write_json(reports: list[Report], path: str) -> None:
    payload = [
        {
            "config": report.config.__dict__,
            "retrieval": report.retrieval,
            "answers": report.answers,
            "cases": [
                {
                    "id": r.case.id,
                    "lang": r.case.lang,
                    "kind": r.case.kind,
                    "question": r.case.question,
                    "history": list(r.case.history),
                    "gold": list(r.case.gold),
                    "ranking": r.ranking,
                    "abstained": r.abstained,
                    "cited": r.cited,
                    "answer": r.answer,
                    "seconds": round(r.seconds, 4),
                }
                for r in report.results
            ],
        }
        for report in reports
    ]
    Path(path).write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")


def print_misses(report: Report, console) -> None:
    """The cases the default configuration gets wrong, so a change can be judged by what it fixes."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Misses ({report.config.name})", title_justify="left")
    for column in ("case", "question", "expected", "got"):
        table.add_column(column)
    for r in report.results:
        expected = ", ".join(g.split("#")[-1] for g in r.case.gold) or "abstain"
        got = "abstain" if r.abstained else ", ".join(c.split("#")[-1] for c in r.cited)
        wrong_answer = (r.abstained != (not r.case.answerable)) or (r.case.answerable and not set(r.cited) & set(r.case.gold))
        if wrong_answer:
            question = " / ".join([*r.case.history, r.case.question])
            table.add_row(r.case.id, escape(question), expected, got)
    console.print(table)


def main(json_path: str | None = None, compare: bool = False, dataset: str | None = None, misses: bool = False) -> int:
    import importlib.util

    from rich.console import Console

    console = Console(highlight=False)
    cases = load_dataset(dataset)
    configs = [DEFAULT_CONFIG]
    if compare:
        has_st = importlib.util.find_spec("sentence_transformers") is not None
        configs += [c for c in COMPARE_CONFIGS if has_st or not c.embedding.startswith("sentence-transformers")]
    reports = []
    for config in configs:
        with console.status(f"evaluating {config.name} on {len(cases)} cases…"):
            reports.append(run(config, cases))
    print_reports(reports, console)
    if misses:
        print_misses(reports[0], console)
    if json_path:
        write_json(reports, json_path)
        console.print(f"[dim]per-question run written to {json_path}[/]")
    return 0
