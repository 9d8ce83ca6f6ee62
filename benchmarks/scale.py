"""How the assistant's costs grow with the archive: indexes of 1, 1,000 and 10,000 generated articles.

    .venv/bin/python -m benchmarks.scale                           # tiers 1, 1000, 10000 (embedded Chroma)
    .venv/bin/python -m benchmarks.scale --tiers 1,1000            # a quick run (a few minutes)
    .venv/bin/python -m benchmarks.scale --server-tiers 1,1000     # those also against a `chroma run` server
    .venv/bin/python -m benchmarks.scale --compare ../old-checkout # also time another checkout's bot

For each tier it builds an index of generated news-like articles (≈13 sentences each, Indonesian and
English, from the templates and word lists below), then measures, each in a fresh process:
adding one article, replacing one, removing one (where the `ingest.remove` API exists), each as
wall time and peak RSS of the ingest process; and a bot that loads the index and answers generated
questions (one warm-up pass, then a timed pass): its `ask` p50/p95 and its RSS after load and after
the questions. It prints a Markdown table and writes it (`--markdown`) with a log-log plot (`--plot`).

Embeddings are `HashedWordEmbeddings`: deterministic vectors (a fixed random vector per word, summed,
plus a shared offset so cosines sit in e5's range), implementing the project's embedder interface.
e5's cost per sentence is known and does not depend on the archive (benchmarks/perf.py measures it:
about 50 ms per sentence embedded at ingest, a few ms per question), so it is left out here, and the
embedding cost is what the "beyond embedding" targets exclude.

Nothing is asserted; the numbers are for reading. Everything goes into one temp dir, removed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[1]
DIMENSION = 384
SENTENCES_PER_ARTICLE = 13
FAILED = "failed"
"""What a step that raised shows in the table (the old bot cannot load 130,000 sentences, for one)."""
TARGETS = {"ask_p50": 30.0, "ask_p95": 60.0, "bot_rss": 400.0, "add_seconds": 1.5}


class HashedWordEmbeddings(Embeddings):
    """Deterministic stand-in for e5: each word gets a fixed random unit vector (seeded by its hash);
    a text is the normalised sum of its words' vectors plus a shared offset, so a question scores
    higher on sentences that share its words, and cosines sit around 0.6-0.9 as e5's do."""

    model_id = "benchmark:hashed-words-384"
    dimension = DIMENSION

    def __init__(self) -> None:
        self._words: dict[str, np.ndarray] = {}
        self._offset = self._vector("\0offset") * 2.0

    def _vector(self, word: str) -> np.ndarray:
        if word not in self._words:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(DIMENSION)
            self._words[word] = vector / np.linalg.norm(vector)
        return self._words[word]

    def _embed(self, text: str) -> list[float]:
        total = self._offset.copy()
        for word in re.findall(r"\w+", text.lower()):
            total += self._vector(word)
        return (total / np.linalg.norm(total)).astype(np.float32).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


# -- generated articles --------------------------------------------------------------------------

PEOPLE = [
    "Budi Santoso",
    "Siti Rahmawati",
    "Andi Wijaya",
    "Dewi Lestari",
    "Rudi Hartono",
    "Maya Putri",
    "Agus Salim",
    "Rina Marlina",
    "Hendra Gunawan",
    "Lina Kusuma",
    "Joko Prasetyo",
    "Wulan Sari",
    "Sarah Mitchell",
    "David Chen",
    "Maria Gonzalez",
    "James Okafor",
    "Emily Tanaka",
    "Robert Novak",
    "Aisha Rahman",
    "Thomas Berg",
]
PLACES = [
    "Jakarta",
    "Surabaya",
    "Bandung",
    "Medan",
    "Makassar",
    "Semarang",
    "Palembang",
    "Denpasar",
    "Pontianak",
    "Manado",
    "Padang",
    "Ambon",
    "Kupang",
    "Jayapura",
    "Mataram",
    "Yogyakarta",
    "Balikpapan",
    "Pekanbaru",
    "Jambi",
    "Kendari",
]
ROLES_ID = [
    "Menteri Kesehatan",
    "Gubernur",
    "Wali Kota",
    "Kepala Dinas Pendidikan",
    "Ketua DPRD",
    "Kapolda",
    "Direktur Utama",
    "Kepala BPBD",
    "Menteri Keuangan",
    "Bupati",
]
ROLES_EN = [
    "Health Minister",
    "Governor",
    "Mayor",
    "Education Chief",
    "Council Speaker",
    "Police Chief",
    "Chief Executive",
    "Disaster Agency Head",
    "Finance Minister",
    "Regent",
]
TOPICS_ID = [
    ("banjir", "rumah terendam"),
    ("gempa bumi", "bangunan rusak"),
    ("vaksinasi", "warga divaksin"),
    ("anggaran daerah", "proyek didanai"),
    ("pemilihan umum", "tempat pemungutan suara"),
    ("pelabuhan baru", "kapal bersandar"),
    ("demam berdarah", "kasus tercatat"),
    ("pasar tradisional", "pedagang terdaftar"),
    ("sekolah digital", "siswa terdaftar"),
    ("jalan tol", "kendaraan melintas"),
]
TOPICS_EN = [
    ("flood", "homes flooded"),
    ("earthquake", "buildings damaged"),
    ("vaccination drive", "residents vaccinated"),
    ("regional budget", "projects funded"),
    ("election", "polling stations"),
    ("new port", "ships docked"),
    ("dengue outbreak", "cases recorded"),
    ("market renovation", "traders registered"),
    ("digital school", "students enrolled"),
    ("toll road", "vehicles counted"),
]
MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
DAYS_ID = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

SENTENCES_ID = [
    "{place} (ANTARA) - {role} {person} mengatakan {topic} di {place} ditangani bersama sejak {day} ({date}).",
    "Menurut {person}, sebanyak {number} {counted} di {place} hingga {day} sore.",
    "{person} meninjau lokasi bersama {person2} dari kantor {role2} pada {date}.",
    "Pemerintah menyiapkan dana Rp{amount} miliar untuk {topic} di {place} tahun ini.",
    "Warga {place} diminta tetap waspada karena {topic} diperkirakan berlanjut hingga {month}.",
    "{role2} {person2} menyebutkan {number2} petugas dikerahkan ke {place2} untuk membantu.",
    "Data terbaru mencatat {number} {counted}, naik {percent} persen dibanding pekan lalu.",
    "Rapat koordinasi digelar di kantor {role} {place} pada {day} pagi.",
    "{person} berharap masyarakat {place2} ikut mendukung penanganan {topic}.",
    "Sebanyak {number2} relawan dari {place2} tiba di {place} pada {date}.",
    "Kebijakan baru tentang {topic} akan diumumkan {role} pada {month} mendatang.",
    "Anggaran sebesar Rp{amount} miliar itu berasal dari APBD {place}.",
    "{person2} mengatakan laporan lengkap akan diserahkan kepada {role} dalam {number3} hari.",
    "Sekitar {number} warga mengikuti sosialisasi {topic} di balai kota {place}.",
    "Pihaknya menargetkan {number2} {counted} tuntas sebelum akhir {month}.",
    "Kepala dinas setempat menambahkan bahwa {percent} persen wilayah {place} sudah terdampak.",
]
SENTENCES_EN = [
    "{place} - {role} {person} said the {topic} in {place} has been handled jointly since {day} ({date}).",
    "According to {person}, {number} {counted} in {place} by {day} afternoon.",
    "{person} inspected the site with {person2} of the {role2}'s office on {date}.",
    "The government set aside {amount} billion rupiah for the {topic} in {place} this year.",
    "Residents of {place} were told to stay alert as the {topic} is expected to last until {month}.",
    "{role2} {person2} said {number2} officers were sent to {place2} to help.",
    "The latest figures show {number} {counted}, up {percent} percent from last week.",
    "A coordination meeting was held at the {role}'s office in {place} on {day} morning.",
    "{person} hoped people in {place2} would support the response to the {topic}.",
    "Some {number2} volunteers from {place2} arrived in {place} on {date}.",
    "A new policy on the {topic} will be announced by the {role} in {month}.",
    "The {amount} billion rupiah budget comes from the {place} regional budget.",
    "{person2} said a full report would be handed to the {role} within {number3} days.",
    "About {number} residents attended a briefing on the {topic} at {place} city hall.",
    "The agency aims to finish {number2} {counted} before the end of {month}.",
    "The local department added that {percent} percent of {place} has been affected.",
]
TITLE_ID = "{topic} di {place}: {role} {person} minta warga waspada"
TITLE_EN = "{topic} in {place}: {role} {person} urges caution"


def generate_article(number: int, rng: random.Random) -> tuple[str, str, dict]:
    """One article as Markdown (title as heading) and the facts its questions ask about."""
    english = number % 2 == 1
    topic, counted = rng.choice(TOPICS_EN if english else TOPICS_ID)
    month = rng.randrange(12)
    facts = {
        "english": english,
        "topic": topic,
        "counted": counted,
        "place": rng.choice(PLACES),
        "place2": rng.choice(PLACES),
        "person": rng.choice(PEOPLE),
        "person2": rng.choice(PEOPLE),
        "role": rng.choice(ROLES_EN if english else ROLES_ID),
        "role2": rng.choice(ROLES_EN if english else ROLES_ID),
        "number": f"{rng.randint(12, 9800):,}".replace(",", "," if english else "."),
        "number2": str(rng.randint(5, 400)),
        "number3": str(rng.randint(2, 30)),
        "amount": str(rng.randint(2, 900)),
        "percent": str(rng.randint(2, 60)),
        "month": (MONTHS_EN if english else MONTHS_ID)[month],
        "day": rng.choice(DAYS_EN if english else DAYS_ID),
        "date": f"{rng.randint(1, 28)} {(MONTHS_EN if english else MONTHS_ID)[month]} 2025",
    }
    templates = SENTENCES_EN if english else SENTENCES_ID
    chosen = [templates[0]] + rng.sample(templates[1:], SENTENCES_PER_ARTICLE - 1)
    sentences = [template.format(**facts) for template in chosen]
    title = (TITLE_EN if english else TITLE_ID).format(**facts)
    title = title[0].upper() + title[1:]
    return f"{title} ({number})", "\n\n".join(sentences), facts


def question_for(facts: dict, rng: random.Random) -> tuple[str, list[str]]:
    """A question about one generated article, and a history for a follow-up (empty otherwise)."""
    if facts["english"]:
        asks = [
            f"How many {facts['counted'].split()[0]} were there in {facts['place']}?",
            f"When did {facts['person']} inspect the {facts['topic']} site?",
            f"Who did {facts['person']} inspect the site with?",
            f"How much money was set aside for the {facts['topic']} in {facts['place']}?",
            f"Where were the officers sent by {facts['person2']}?",
        ]
        follow = ("Who is the " + facts["role"] + f" handling the {facts['topic']} in {facts['place']}?", "When did he inspect the site?")
    else:
        asks = [
            f"Berapa jumlah {facts['counted']} di {facts['place']}?",
            f"Kapan {facts['person']} meninjau lokasi {facts['topic']}?",
            f"Siapa yang mendampingi {facts['person']} meninjau lokasi?",
            f"Berapa dana untuk {facts['topic']} di {facts['place']}?",
            f"Ke mana petugas dikerahkan oleh {facts['person2']}?",
        ]
        follow = (f"Siapa {facts['role']} yang menangani {facts['topic']} di {facts['place']}?", "Kapan dia meninjau lokasi?")
    if rng.random() < 0.15:
        return follow[1], [follow[0]]
    return rng.choice(asks), []


def write_articles(folder: Path, first: int, count: int, seed: int = 7) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    facts = []
    for number in range(first, first + count):
        title, body, article_facts = generate_article(number, random.Random(seed * 1_000_003 + number))
        (folder / f"article-{number:05d}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
        facts.append(article_facts)
    return facts


# -- workers (each measurement in a fresh process) -------------------------------------------------


def _settings(data_dir: str, chroma_url: str | None):
    from assistant.settings import Settings

    return Settings(_env_file=None, data_dir=Path(data_dir), chroma_url=chroma_url, llm=None)


def _index(settings):
    from assistant.store import SentenceIndex

    return SentenceIndex(settings, HashedWordEmbeddings())


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bulk_build(index) -> None:
    """Only for building a tier's index (not measured): write in batches of 2,000 sentences. The
    add/replace/remove measurements run the real ingest as it is."""
    import assistant.store as store

    store.WRITE_BATCH = 2000


def worker_ingest(args) -> dict:
    import ingest as ingest_package

    settings = _settings(args.data_dir, args.chroma_url)
    index = _index(settings)
    if args.bulk:
        bulk_build(index)
    started = time.perf_counter()
    if args.remove:
        ingest_package.remove([args.remove], settings=settings, index=index)
    else:
        ingest_package.ingest(args.sources, settings=settings, index=index)
    return {"seconds": time.perf_counter() - started}


def worker_ask(args) -> dict:
    from assistant import Assistant
    from assistant.retrieval import SentenceSearcher

    started = time.perf_counter()
    settings = _settings(args.data_dir, args.chroma_url)
    index = _index(settings)
    try:
        snapshot = index.snapshot(with_sentences=False)
    except TypeError:  # a checkout from before the searcher read sentences on demand
        snapshot = index.snapshot()
    bot = Assistant(settings, index, SentenceSearcher(index, snapshot, mode=settings.retrieval))
    bot.answerer  # noqa: B018 - as Assistant.load does
    load_seconds = time.perf_counter() - started
    rss_after_load = _rss_mb()
    questions = json.loads(Path(args.questions_file).read_text(encoding="utf-8"))[: args.limit or None]
    first = time.perf_counter()
    bot.ask(questions[0]["question"], history=questions[0]["history"])
    first_seconds = time.perf_counter() - first
    for question in questions:  # warm-up: every question once
        bot.ask(question["question"], history=question["history"])
    timings = []
    for question in questions:
        bot.searcher.clear_query_cache()
        began = time.perf_counter()
        bot.ask(question["question"], history=question["history"])
        timings.append((time.perf_counter() - began) * 1000)
    bm25 = getattr(bot.searcher, "bm25", None)
    return {
        "load_seconds": load_seconds,
        "first_ask_seconds": first_seconds,
        "rss_after_load_mb": rss_after_load,
        "rss_after_questions_mb": _rss_mb(),
        "peak_rss_mb": _rss_mb("VmHWM"),
        "ask_p50_ms": statistics.median(timings),
        "ask_p95_ms": float(np.percentile(timings, 95)),
        "questions": len(timings),
        "bm25_mb": bm25.nbytes / 2**20 if bm25 is not None else float("nan"),
    }


def _failed_ask() -> dict:
    keys = ("load_seconds", "first_ask_seconds", "rss_after_load_mb", "rss_after_questions_mb", "peak_rss_mb", "ask_p50_ms", "ask_p95_ms", "bm25_mb")
    return {key: FAILED for key in keys}


def run_worker(kind: str, extra: list[str], code: Path | None = None) -> tuple[dict, float, float]:
    """Run this script as a worker process; (its JSON result, wall seconds, peak RSS MB of the process)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "--worker", kind, *extra], stdout=subprocess.PIPE, env=env, cwd=code or ROOT)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:  # recorded, not fatal: an older checkout may fail where this one does not
        print(f"worker {kind} failed (status {status})", file=sys.stderr)
        return {"seconds": FAILED, "error": FAILED}, FAILED, FAILED
    return json.loads(output.decode().strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024


# -- the tiers ----------------------------------------------------------------------------------


def start_chroma_server(path: Path) -> tuple[subprocess.Popen, str]:
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("chroma run did not start within 60 s")


def server_rss_mb(process: subprocess.Popen) -> float:
    status = Path(f"/proc/{process.pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def measure_tier(count: int, work: Path, server: bool, questions_limit: int, compare: Path | None, compare_questions: int) -> dict:
    tier = work / f"{count}{'-server' if server else ''}"
    articles = tier / "articles"
    facts = write_articles(articles, 0, count)
    data_dir = tier / "data"
    chroma = None
    chroma_url = None
    if server:
        chroma, chroma_url = start_chroma_server(tier / "chroma-server")
    common = ["--data-dir", str(data_dir)] + (["--chroma-url", chroma_url] if chroma_url else [])
    try:
        result: dict = {"articles": count, "sentences": count * SENTENCES_PER_ARTICLE, "chroma": "server" if server else "embedded"}
        print(f"[{count}{' server' if server else ''}] building the index…", file=sys.stderr, flush=True)
        _, result["build_seconds"], _ = run_worker("ingest", common + ["--bulk", "--sources", str(articles)])

        rng = random.Random(11)
        questions = []
        for _ in range(questions_limit):
            question, history = question_for(rng.choice(facts), rng)
            questions.append({"question": question, "history": history})
        questions_file = tier / "questions.json"
        questions_file.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")

        print(f"[{count}] asking…", file=sys.stderr, flush=True)
        ask, _, _ = run_worker("ask", common + ["--questions-file", str(questions_file)])
        result |= _failed_ask() if "error" in ask else ask
        if chroma is not None:
            result["server_rss_mb"] = server_rss_mb(chroma)
        if compare is not None:
            before, _, _ = run_worker("ask", common + ["--questions-file", str(questions_file), "--limit", str(compare_questions)], code=compare)
            result["compare"] = _failed_ask() if "error" in before else before

        print(f"[{count}] add, replace, remove one article…", file=sys.stderr, flush=True)
        extra = tier / "extra"
        write_articles(extra, count, 1)
        added = extra / f"article-{count:05d}.md"
        inner, result["add_seconds"], result["add_peak_rss_mb"] = run_worker("ingest", common + ["--sources", str(added)])
        result["add_ingest_seconds"] = inner.get("seconds")
        replaced = articles / "article-00000.md"
        replaced.write_text(replaced.read_text(encoding="utf-8").replace("2025", "2026"), encoding="utf-8")
        inner, result["replace_seconds"], result["replace_peak_rss_mb"] = run_worker("ingest", common + ["--sources", str(replaced)])
        result["replace_ingest_seconds"] = inner.get("seconds")
        import ingest as ingest_package

        if hasattr(ingest_package, "remove"):
            inner, result["remove_seconds"], result["remove_peak_rss_mb"] = run_worker("ingest", common + ["--remove", added.stem])
            result["remove_ingest_seconds"] = inner.get("seconds")
        return result
    finally:
        if chroma is not None:
            chroma.terminate()
            chroma.wait(timeout=30)


# -- output ------------------------------------------------------------------------------------


def _fmt(value, unit: str = "", digits: int = 1) -> str:
    if isinstance(value, str):
        return value
    if value is None or value != value:
        return "—"
    return f"{value:,.{digits}f}{unit}"


def markdown(results: list[dict], header: str) -> str:
    columns = [f"{r.get('articles'):,} articles{' (server)' if r.get('chroma') == 'server' else ''}" for r in results]
    rows = [
        ("sentences", lambda r: f"{r.get('sentences'):,}"),
        ("add one article: `ingest` process wall time", lambda r: _fmt(r.get("add_seconds"), " s", 2)),
        ("add one article: `ingest()` inside it", lambda r: _fmt(r.get("add_ingest_seconds"), " s", 2)),
        ("add one article: peak RSS", lambda r: _fmt(r.get("add_peak_rss_mb"), " MB", 0)),
        (
            "replace one article: process / `ingest()`",
            lambda r: f"{_fmt(r.get('replace_seconds'), ' s', 2)} / {_fmt(r.get('replace_ingest_seconds'), ' s', 2)}",
        ),
        ("replace one article: peak RSS", lambda r: _fmt(r.get("replace_peak_rss_mb"), " MB", 0)),
        ("remove one article: process / `remove()`", lambda r: f"{_fmt(r.get('remove_seconds'), ' s', 2)} / {_fmt(r.get('remove_ingest_seconds'), ' s', 2)}"),
        ("warm `ask` p50 / p95", lambda r: f"{_fmt(r.get('ask_p50_ms'), ' ms')} / {_fmt(r.get('ask_p95_ms'), ' ms')}"),
        ("bot: load / first question (builds BM25)", lambda r: f"{_fmt(r.get('load_seconds'), ' s', 2)} / {_fmt(r.get('first_ask_seconds'), ' s', 2)}"),
        (
            "bot RSS after load / after the questions",
            lambda r: f"{_fmt(r.get('rss_after_load_mb'), ' MB', 0)} / {_fmt(r.get('rss_after_questions_mb'), ' MB', 0)}",
        ),
        ("of which the BM25 index", lambda r: _fmt(r.get("bm25_mb"), " MB")),
        ("`chroma run` server RSS", lambda r: _fmt(r.get("server_rss_mb"), " MB", 0)),
        ("building the index (not a target)", lambda r: _fmt(r.get("build_seconds"), " s", 1)),
    ]
    if any("compare" in r for r in results):
        rows.insert(
            8,
            (
                "before (`--compare`): warm `ask` p50 / p95",
                lambda r: f"{_fmt(r.get('compare').get('ask_p50_ms'), ' ms')} / {_fmt(r.get('compare').get('ask_p95_ms'), ' ms')}" if "compare" in r else "—",
            ),
        )
        rows.insert(9, ("before: bot RSS after the questions", lambda r: _fmt(r["compare"].get("rss_after_questions_mb"), " MB", 0) if "compare" in r else "—"))
    lines = [header, "", "| measurement | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(cell(r) for r in results) + " |" for name, cell in rows]
    return "\n".join(lines) + "\n"


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    for chroma, style in (("embedded", "-"), ("server", "--")):
        tier = [r for r in results if r["chroma"] == chroma]
        if not tier:
            continue
        x = [r["articles"] for r in tier]

        def values(key: str, scale: float = 1.0, tier: list[dict] = tier) -> list[float]:
            return [r[key] * scale if isinstance(r.get(key), int | float) else float("nan") for r in tier]  # a failed step is left out

        for key, label in (("ask_p50_ms", "ask p50 (ms)"), ("ask_p95_ms", "ask p95 (ms)")):
            time_axis.plot(x, values(key), style, marker="o", label=f"{label}, {chroma}")
        time_axis.plot(x, values("add_seconds", 1000), style, marker="s", label=f"add one article (ms), {chroma}")
        memory_axis.plot(x, values("rss_after_questions_mb"), style, marker="o", label=f"bot RSS (MB), {chroma}")
        memory_axis.plot(x, values("add_peak_rss_mb"), style, marker="s", label=f"add one: peak RSS (MB), {chroma}")
    for axis, title in ((time_axis, "time"), (memory_axis, "memory")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("articles in the index")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    time_axis.axhline(TARGETS["ask_p95"], color="grey", linewidth=0.8, linestyle=":")
    memory_axis.axhline(TARGETS["bot_rss"], color="grey", linewidth=0.8, linestyle=":")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiers", default="1,1000,10000", help="article counts, comma-separated")
    parser.add_argument("--server-tiers", default="", help="tiers also measured against a `chroma run` server, e.g. 1,1000")
    parser.add_argument("--questions", type=int, default=120, help="questions per timed pass")
    parser.add_argument("--compare", type=Path, help="another checkout whose bot to time on the same indexes (e.g. main before a change)")
    parser.add_argument("--compare-questions", default="40", help="questions for --compare per tier, e.g. 40,40,10 (the old bot is slow)")
    parser.add_argument("--markdown", type=Path, help="write the table here")
    parser.add_argument("--plot", type=Path, help="write the log-log plot (PNG) here")
    parser.add_argument("--json", type=Path, help="write every number here")
    # Worker mode (internal).
    parser.add_argument("--worker", choices=["ingest", "ask"])
    parser.add_argument("--data-dir")
    parser.add_argument("--chroma-url")
    parser.add_argument("--sources", nargs="*")
    parser.add_argument("--remove")
    parser.add_argument("--bulk", action="store_true")
    parser.add_argument("--questions-file")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker_ingest(args) if args.worker == "ingest" else worker_ask(args)))
        return
    load = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="assistant-scale-"))
    results = []
    tiers = [int(tier) for tier in args.tiers.split(",")]
    server_tiers = {int(tier) for tier in args.server_tiers.split(",") if tier}
    compare_questions = [int(n) for n in args.compare_questions.split(",")]
    compare_questions += compare_questions[-1:] * len(tiers)
    try:
        for count, compare_limit in zip(tiers, compare_questions, strict=False):
            for server in [False] + ([True] if count in server_tiers else []):
                results.append(measure_tier(count, work, server, args.questions, args.compare, compare_limit))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = (
        f"`benchmarks/scale.py --tiers {args.tiers}`: {os.cpu_count()} cores, load average {load:.1f} before / "
        f"{os.getloadavg()[0]:.1f} after; {args.questions} questions per pass (15 % follow-ups); hashed-word embeddings"
        + (f"; before = {args.compare} ({args.compare_questions} questions)" if args.compare else "")
    )
    table = markdown(results, header)
    print(table)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    if args.plot:
        plot(results, args.plot)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
