"""Run the eval suite: every article in its own temporary index, every case retrieved and answered.

Retrieval metrics come from trec_eval (pytrec_eval): success@1 (hit@1), success@3, reciprocal rank,
nDCG@5 and recall@5. Answer metrics are counted here (`score_answers`).

The answerability model decides whether to answer. Its signals do not depend on the model, so each
case is assessed once and decided twice: by the shipped model (fitted on every article: *in-sample*)
and by a model fitted on every article but the case's own (*leave-one-article-out*, the number that
says how the assistant does on an article it has never seen).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.answering.answerability import AnswerabilityModel
from assistant.answering.extractive import ExtractiveAnswerer, compose
from assistant.answering.reading import ReaderAnswerer
from assistant.core import Assistant
from assistant.query import Query
from assistant.settings import DEFAULT_EMBEDDING, Settings
from evals.dataset import ArticleCases, Case, load_suite

RETRIEVAL_MEASURES = {"success.1,3", "recip_rank", "ndcg_cut.5", "recall.5"}
RETRIEVAL_COLUMNS = {"hit@1": "success_1", "hit@3": "success_3", "MRR": "recip_rank", "nDCG@5": "ndcg_cut_5", "recall@5": "recall_5"}
ANSWER_COLUMNS = ("answered", "gold cited", "abstain P", "abstain R", "cite P", "span")
PAIRS = ("id→id", "en→id", "id→en", "en→en")


@dataclass(frozen=True)
class Config:
    name: str
    embedding: str = DEFAULT_EMBEDDING
    retrieval: Literal["hybrid", "dense"] = "hybrid"
    answerer: Literal["rules", "reader"] = "rules"
    """`rules`: the default answerer; `reader`: the trained reader deciding (assistant/answering/reading.py)."""


DEFAULT_CONFIG = Config("e5 hybrid")
COMPARE_CONFIGS = (
    Config("e5 hybrid, reader", answerer="reader"),
    Config("e5 dense", retrieval="dense"),
    Config("MiniLM hybrid", "sentence-transformers:all-MiniLM-L6-v2"),
    Config("MiniLM dense", "sentence-transformers:all-MiniLM-L6-v2", "dense"),
)


@dataclass
class CaseResult:
    case: Case
    ranking: list[str]
    cited: list[str]
    """What an answer would cite (empty when there was nothing to cite)."""
    highlights: list[str]
    answer: str
    signals: dict[str, float] | None
    """The answerability signals; None when no model decides (bad input, small talk, summaries)."""
    forced_abstain: bool
    """Refused whatever the model says: bad input, or an office the article never names."""
    seconds: float
    abstained: bool = False
    loao_abstained: bool = False
    related: list[str] = field(default_factory=list)
    """What a refusal would quote as related reading (empty for off-topic questions)."""
    scores: list[float] = field(default_factory=list)
    """Retrieval's score for each sentence of `ranking`, in the same order."""


@dataclass
class Report:
    config: Config
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0
    sentence_texts: dict[str, str] = field(default_factory=dict)
    """Every eval article's sentences by id (what `--misses` quotes)."""

    def groups(self) -> dict[str, list[CaseResult]]:
        groups: dict[str, list[CaseResult]] = {"all": list(self.results)}
        for pair in PAIRS:
            groups[pair] = [r for r in self.results if r.case.pair == pair]
        groups["followup"] = [r for r in self.results if r.case.kind == "followup"]
        for doc_id in dict.fromkeys(r.case.doc_id for r in self.results):
            groups[doc_id] = [r for r in self.results if r.case.doc_id == doc_id]
        return groups

    def retrieval(self, group: str) -> dict[str, float]:
        return score_retrieval(self.groups()[group])

    def answers(self, group: str, held_out: bool = True) -> dict[str, float]:
        return score_answers(self.groups()[group], held_out=held_out)

    def refusals(self, held_out: bool = True) -> dict[str, dict[str, float]]:
        return score_refusals(self.results, held_out=held_out)


def run(config: Config = DEFAULT_CONFIG, articles: Sequence[ArticleCases] | None = None, dataset: str | None = None, progress=None) -> Report:
    """Evaluate one configuration: each article in a fresh temporary index; decide in-sample and LOAO."""
    articles = list(articles) if articles is not None else load_suite(dataset)
    started = time.perf_counter()
    data_dir = Path(tempfile.mkdtemp(prefix="assistant-eval-"))
    results: list[CaseResult] = []
    texts: dict[str, str] = {}
    try:
        from ingest import ingest

        for number, article in enumerate(articles):
            if progress:
                progress(article.doc_id)
            settings = Settings(
                data_dir=data_dir, embedding=config.embedding, retrieval=config.retrieval, llm=None, chroma_url=None, collection=f"eval_{number}"
            )
            ingest([str(article.source)], settings=settings)
            bot = Assistant.load(settings)
            texts |= {sentence_id: sentence.text for sentence_id, sentence in bot.searcher.sentences.items()}
            if config.answerer == "reader":
                results += [_run_reader_case(bot, ReaderAnswerer(bot.searcher), case) for case in article.cases]
            else:
                answerer = ExtractiveAnswerer(bot.searcher)  # the eval measures the default answerer
                results += [_run_case(bot, answerer, case) for case in article.cases]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if config.answerer == "reader":
        for result in results:  # the reader was never fitted on these articles: in-sample is LOAO
            result.abstained = result.loao_abstained = result.forced_abstain
    else:
        decide(results, AnswerabilityModel.load())
    return Report(config=config, results=results, seconds=time.perf_counter() - started, sentence_texts=texts)


def _run_case(bot: Assistant, answerer: ExtractiveAnswerer, case: Case) -> CaseResult:
    started = time.perf_counter()
    query = Query.parse(case.question, case.history, bot.searcher.lexicon)
    hits = bot.retrieve(query, k=10)
    result = _run_answer(bot, answerer, case, query, [hit.sentence_id for hit in hits], started)
    result.scores = [hit.score for hit in hits]
    return result


def _run_answer(bot: Assistant, answerer: ExtractiveAnswerer, case: Case, query: Query, ranking: list[str], started: float) -> CaseResult:
    early = answerer.early_reply(query)
    if early is not None or query.summary:
        answer = early or answerer.summarise(query)
        return CaseResult(
            case, ranking, [c.sentence_id for c in answer.citations], _spans(answer), answer.text, None, answer.abstained, time.perf_counter() - started
        )
    assessment = answerer.assess(query)
    if assessment is None:
        return CaseResult(case, ranking, [], [], "", None, True, time.perf_counter() - started)
    answer = compose(query, assessment.chosen, bot.searcher, answerer=answerer.name)
    return CaseResult(
        case,
        ranking,
        [c.sentence_id for c in answer.citations],
        _spans(answer),
        answer.text,
        assessment.signals,
        assessment.office_never_named,
        time.perf_counter() - started,
        related=[hit.sentence_id for hit in answerer.related(assessment)],
    )


def _run_reader_case(bot: Assistant, answerer: ReaderAnswerer, case: Case) -> CaseResult:
    started = time.perf_counter()
    query = Query.parse(case.question, case.history, bot.searcher.lexicon)
    hits = bot.retrieve(query, k=10)
    answer = answerer.answer(query)
    cited = [c.sentence_id for c in answer.citations]
    related = [hit.sentence_id for hit in answer.related]
    ranking = [hit.sentence_id for hit in hits]
    result = CaseResult(case, ranking, cited, _spans(answer), answer.text, None, answer.abstained, time.perf_counter() - started, related=related)
    result.scores = [hit.score for hit in hits]
    return result


def _spans(answer) -> list[str]:
    return [span for citation in answer.citations for span in citation.highlights]


# -- deciding: in-sample and leave-one-article-out ---------------------------------------------------


def training_rows(results: Sequence[CaseResult]) -> tuple[list[dict[str, float]], list[bool]]:
    rows = [r for r in results if r.signals is not None]
    return [r.signals for r in rows], [r.case.answerable for r in rows]  # type: ignore[misc]


MIN_ANSWERED = 0.90
"""The issue's answer-rate target: the threshold may refuse at most this share of answerable questions."""


def fit_model(results: Sequence[CaseResult], fitted_on: dict | None = None) -> AnswerabilityModel:
    """Fit the answerability model on these cases, then choose its threshold: the one that refuses the
    most unanswerable questions while still answering ≥ 90 % of the answerable ones (on these cases).
    The signals separate near misses from answerable questions only partly (docs/quality.md), so
    the threshold decides which error to make; answering with a cited, quoted sentence is the one a
    reader can check, a refusal of an answerable question is not."""
    rows, labels = training_rows(results)
    model = AnswerabilityModel.fit(rows, labels, fitted_on=fitted_on)
    probabilities = [model.probability(row) for row in rows]
    answerable = [p for p, label in zip(probabilities, labels, strict=True) if label]
    unanswerable = [p for p, label in zip(probabilities, labels, strict=True) if not label]
    threshold = 0.0
    best = -1.0
    for candidate in sorted(set(probabilities)):
        answered = sum(p >= candidate for p in answerable) / max(1, len(answerable))
        refused = sum(p < candidate for p in unanswerable) / max(1, len(unanswerable))
        if answered >= MIN_ANSWERED and answered + refused > best:
            best, threshold = answered + refused, candidate
    return AnswerabilityModel(model.weights, model.bias, model.means, model.scales, threshold, fitted_on)


def decide(results: list[CaseResult], shipped: AnswerabilityModel) -> None:
    """Set `abstained` (the shipped model) and `loao_abstained` (a model fitted without the case's article)."""
    for r in results:
        r.abstained = r.forced_abstain or (r.signals is not None and not shipped.answerable(r.signals))
    for doc_id in dict.fromkeys(r.case.doc_id for r in results):
        held_out = fit_model([r for r in results if r.case.doc_id != doc_id])
        for r in results:
            if r.case.doc_id == doc_id:
                r.loao_abstained = r.forced_abstain or (r.signals is not None and not held_out.answerable(r.signals))


# -- scoring ---------------------------------------------------------------------------------------


def score_retrieval(results: Sequence[CaseResult]) -> dict[str, float]:
    """trec_eval measures over the answerable cases, averaged."""
    import pytrec_eval

    answerable = [r for r in results if r.case.answerable]
    if not answerable:
        return {column: float("nan") for column in RETRIEVAL_COLUMNS}
    qrels = {r.case.id: {sentence_id: 1 for sentence_id in r.case.gold} for r in answerable}
    # Scores from ranks, so trec_eval's tie-breaking cannot reorder our ranking.
    run_ = {r.case.id: {sentence_id: 1.0 / (rank + 1) for rank, sentence_id in enumerate(r.ranking)} or {"none": 0.0} for r in answerable}
    per_query = pytrec_eval.RelevanceEvaluator(qrels, RETRIEVAL_MEASURES).evaluate(run_)
    return {column: _mean(per_query[r.case.id][measure] for r in answerable) for column, measure in RETRIEVAL_COLUMNS.items()}


def score_answers(results: Sequence[CaseResult], held_out: bool = True) -> dict[str, float]:
    """Answer metrics, with the leave-one-article-out decisions (or the shipped model's):

    - answered: share of answerable cases answered (not abstained);
    - gold cited: share of answerable cases answered with at least one gold sentence cited;
    - abstain P / R: of abstentions, the share on unanswerable cases / of unanswerable cases, the share abstained;
    - cite P: over answered answerable cases, mean share of citations that are gold;
    - span: over answered cases with expected spans, share whose answer contains every one of them.
    """

    def abstained(r: CaseResult) -> bool:
        return r.loao_abstained if held_out else r.abstained

    answerable = [r for r in results if r.case.answerable]
    unanswerable = [r for r in results if not r.case.answerable]
    answered = [r for r in answerable if not abstained(r)]
    abstentions = [r for r in results if abstained(r)]
    with_spans = [r for r in answered if r.case.expect]
    return {
        "answered": _ratio(len(answered), len(answerable)),
        "gold cited": _ratio(sum(bool(set(r.cited) & set(r.case.gold)) for r in answered), len(answerable)),
        "abstain P": _ratio(sum(not r.case.answerable for r in abstentions), len(abstentions)),
        "abstain R": _ratio(sum(abstained(r) for r in unanswerable), len(unanswerable)),
        "cite P": _mean(_ratio(len(set(r.cited) & set(r.case.gold)), len(r.cited)) for r in answered),
        "span": _mean(float(all(e in r.answer for e in r.case.expect)) for r in with_spans),
    }


REFUSAL_COLUMNS = ("refused", "with related")


def score_refusals(results: Sequence[CaseResult], held_out: bool = True) -> dict[str, dict[str, float]]:
    """What refusals offer, per kind of refused question: the share refused and, of those refusals,
    the share that quote a related sentence. Near misses should carry one, off-topic questions never;
    for a refused answerable question "with related" counts refusals whose related sentence is gold
    (a false refusal the reader can still use)."""
    groups = {
        "near miss": [r for r in results if not r.case.answerable and r.case.shape == "near_miss"],
        "off-topic": [r for r in results if not r.case.answerable and r.case.shape == "off_topic"],
        "answerable": [r for r in results if r.case.answerable],
    }
    scores = {}
    for name, group in groups.items():
        refused = [r for r in group if (r.loao_abstained if held_out else r.abstained)]
        if name == "answerable":
            useful = sum(bool(set(r.related) & set(r.case.gold)) for r in refused)
        else:
            useful = sum(bool(r.related) for r in refused)
        scores[name] = {"n": float(len(group)), "refused": _ratio(len(refused), len(group)), "with related": _ratio(useful, len(refused))}
    return scores


def refusal_rows(report: Report) -> list[list[str]]:
    in_sample, loao = score_refusals(report.results, held_out=False), score_refusals(report.results, held_out=True)
    return [
        [name, str(int(in_sample[name]["n"]))] + [f"{_fmt(in_sample[name][column])} / {_fmt(loao[name][column])}" for column in REFUSAL_COLUMNS]
        for name in in_sample
    ]


REFUSAL_HEADER = ["questions", "n", *[f"{column} (in / LOAO)" for column in REFUSAL_COLUMNS]]


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else float("nan")


# -- reporting ---------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return "–" if value != value else f"{value:.3f}"


def table_rows(report: Report, groups: Sequence[str]) -> list[list[str]]:
    """One row per group: n, hit@1, MRR, then each answer metric as in-sample / leave-one-article-out."""
    all_groups = report.groups()
    rows = []
    for group in groups:
        results = all_groups[group]
        retrieval = score_retrieval(results)
        in_sample = score_answers(results, held_out=False)
        loao = score_answers(results, held_out=True)
        rows.append(
            [group, str(len(results)), _fmt(retrieval["hit@1"]), _fmt(retrieval["hit@3"])]
            + [f"{_fmt(in_sample[column])} / {_fmt(loao[column])}" for column in ANSWER_COLUMNS]
        )
    return rows


HEADER = ["group", "n", "hit@1", "hit@3", *[f"{column} (in / LOAO)" for column in ANSWER_COLUMNS]]


def print_report(report: Report, console=None) -> None:
    from rich.console import Console

    from assistant.terminal import print_table

    console = console or Console(highlight=False)
    articles = [group for group in report.groups() if group not in ("all", "followup", *PAIRS)]
    for title, groups in (("By language pair (question→article)", ["all", *PAIRS, "followup"]), ("By article", articles)):
        print_table(console, f"{title} — {report.config.name}", HEADER, table_rows(report, groups), numeric=HEADER[1:])
    title = "Refusals: how often, and how often with a related sentence (gold, for answerable questions)"
    print_table(console, title, REFUSAL_HEADER, refusal_rows(report), numeric=REFUSAL_HEADER[1:])
    per_case_ms = 1000 * _mean(r.seconds for r in report.results)
    console.print(f"[dim]{len(report.results)} cases on {len(articles)} articles in {report.seconds:.1f}s ({per_case_ms:.0f} ms per case)[/]")


def markdown(report: Report) -> str:
    """The quality tables as Markdown, for docs (regenerated by `assistant eval --markdown`)."""
    articles = [group for group in report.groups() if group not in ("all", "followup", *PAIRS)]
    lines = []
    for groups in (["all", *PAIRS, "followup"], articles):
        lines.append("| " + " | ".join(HEADER) + " |")
        lines.append("|" + "|".join("---" for _ in HEADER) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in table_rows(report, groups)]
        lines.append("")
    lines.append("| " + " | ".join(REFUSAL_HEADER) + " |")
    lines.append("|" + "|".join("---" for _ in REFUSAL_HEADER) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in refusal_rows(report)]
    lines.append("")
    return "\n".join(lines)


def write_json(report: Report, path: str) -> None:
    payload = {
        "config": report.config.__dict__,
        "cases": [
            {
                "id": r.case.id,
                "doc_id": r.case.doc_id,
                "pair": r.case.pair,
                "kind": r.case.kind,
                "question": r.case.question,
                "history": list(r.case.history),
                "gold": list(r.case.gold),
                "ranking": r.ranking,
                "scores": r.scores,
                "abstained": r.abstained,
                "loao_abstained": r.loao_abstained,
                "cited": r.cited,
                "related": r.related,
                "answer": r.answer,
                "signals": r.signals,
            }
            for r in report.results
        ],
    }
    Path(path).write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")


def missed(result: CaseResult) -> bool:
    """Answered wrongly, leave-one-article-out: refused an answerable question, answered an
    unanswerable one, or cited no gold sentence."""
    case = result.case
    return result.loao_abstained != (not case.answerable) or (case.answerable and not set(result.cited) & set(case.gold))


def miss_lines(report: Report, result: CaseResult) -> tuple[str, list[tuple[str, str]]]:
    """A miss as people read it: the question (with its history), then ("expected" | "got", sentence) lines."""
    def quoted(sentence_id: str) -> str:
        return f"#{sentence_id.split('#')[-1]} {report.sentence_texts.get(sentence_id, '')}"

    expected = [quoted(g) for g in result.case.gold] or ["(abstain)"]
    got = ["(abstained)"] if result.loao_abstained else [quoted(c) for c in result.cited] or ["(nothing cited)"]
    question = " / ".join([*result.case.history, result.case.question])
    return question, [("expected", line) for line in expected] + [("got", line) for line in got]


def print_misses(report: Report, console) -> None:
    """The cases answered wrongly (leave-one-article-out), so a change can be judged by what it fixes:
    the question, the sentence(s) expected and the one(s) cited, in full."""
    from rich.markup import escape

    console.print(f"[italic]Misses ({escape(report.config.name)}, leave-one-article-out)[/]")
    for r in report.results:
        if not missed(r):
            continue
        question, lines = miss_lines(report, r)
        console.print(f"[bold]{escape(r.case.id)}[/] {escape(question)}", soft_wrap=True)
        for label, line in lines:
            console.print(f"  [dim]{label:8}[/] {escape(line)}", soft_wrap=True)


def main(
    json_path: str | None = None,
    dataset: str | None = None,
    misses: bool = False,
    as_markdown: bool = False,
    fit: bool = False,
    compare: bool = False,
    realqa: bool = False,
    limit: int | None = None,
    report_path: str | None = None,
) -> int:
    import importlib.util

    from rich.console import Console

    console = Console(highlight=False, stderr=as_markdown)
    if realqa:
        return _main_realqa(console, json_path, as_markdown, limit)
    articles = load_suite(dataset)
    with console.status("evaluating…") as status:
        report = run(DEFAULT_CONFIG, articles, progress=lambda doc_id: status.update(f"evaluating {DEFAULT_CONFIG.name}: {doc_id}…"))
        others = []
        if compare:
            has_st = importlib.util.find_spec("sentence_transformers") is not None
            for config in COMPARE_CONFIGS:
                if has_st or not config.embedding.startswith("sentence-transformers"):
                    others.append(run(config, articles, progress=lambda doc_id, name=config.name: status.update(f"evaluating {name}: {doc_id}…")))
    if fit:
        from assistant.answering.answerability import MODEL_PATH

        fitted = fit_model(report.results, fitted_on={"articles": len(articles), "cases": len(training_rows(report.results)[0])})
        MODEL_PATH.write_text(fitted.to_json(), encoding="utf-8")
        # Decide with the model as saved (weights and threshold rounded), so what this prints is what ships.
        decide(report.results, AnswerabilityModel.load(MODEL_PATH))
        console.print(f"[green]answerability model refitted on {len(articles)} articles → {MODEL_PATH}[/]")
    if as_markdown:
        print(markdown(report))
        return 0
    print_report(report, console)
    for other in others:
        print_report(other, console)
    if misses:
        print_misses(report, console)
    if json_path:
        write_json(report, json_path)
        console.print(f"[dim]per-question run written to {json_path}[/]")
    if report_path:
        from evals.report_html import write_report

        console.print(f"[dim]report written to {write_report([report, *others], report_path)}[/]")
    return 0


def main_from_arguments(args) -> int:
    """`main` with the options `assistant eval` and `python -m evals` parse (the same names)."""
    return main(
        json_path=args.json_path,
        compare=args.compare,
        dataset=args.dataset,
        misses=args.misses,
        as_markdown=args.markdown,
        fit=args.fit,
        realqa=args.realqa,
        limit=args.limit,
        report_path=args.report_path,
    )


def _main_realqa(console, json_path: str | None, as_markdown: bool, limit: int | None) -> int:
    """`assistant eval --realqa`: the public datasets' validation questions (evals/realqa_eval.py)."""
    from rich.table import Table

    from evals import realqa_eval
    from evals.realqa import RealQAMissing

    started = time.perf_counter()
    try:
        with console.status("real-data eval…") as status:
            results = realqa_eval.run(limit=limit, progress=lambda step: status.update(f"real-data eval: {step}…"))
    except RealQAMissing as missing:
        console.print(f"[yellow]skipped the real-data tier: {missing}[/]")
        return 0
    if json_path:
        realqa_eval.write_json(results, json_path)
    if as_markdown:
        print(realqa_eval.markdown(results))
        return 0
    table = Table(title="Real questions on real passages (validation splits, one passage per index)", title_justify="left")
    for column in ("set", "answerer", *realqa_eval.COLUMNS):
        table.add_column(column, justify="left" if column in ("set", "answerer") else "right")
    for row in realqa_eval.rows(results):
        table.add_row(*row)
    console.print(table)
    console.print(f"[dim]{len({(r.dataset, r.question) for r in results})} questions in {time.perf_counter() - started:.0f}s[/]")
    return 0
