"""Load on the Slack bot over HTTP: N correctly signed `app_mention` events, C at a time.

    .venv/bin/python -m benchmarks.load                      # 500 events, 50 concurrent, as fast as acks allow
    .venv/bin/python -m benchmarks.load --rate 20            # the same, paced at 20 events/s (open loop)
    .venv/bin/python -m benchmarks.load --bots 2             # two bots sharing one data directory, events alternated
    .venv/bin/python -m benchmarks.load --url http://127.0.0.1:3000/slack/events --signing-secret S --api-port 8999 [--pid PID]
                                                              # a bot you started (see --help)

By default it ingests seeds/ into a temporary data directory (`assistant ingest`), starts the fake
Slack Web API from tests/support in this process, and starts one real `assistant slack --http`
against both. Every event is a different person asking a different question (the eval questions
in four spellings, so the bot's query-embedding cache does not flatter it). It reports:

- every event answered exactly once: replies per message counted at the fake Web API;
- ack latency: request sent → HTTP 200 received, per event;
- event → reply: request sent → the reply's `chat.postMessage` received by the fake API;
- peak RSS of the bot (VmHWM from /proc/PID/status).

Targets on 2 cores: ack p95 ≤ 100 ms, event → reply p95 ≤ 1 s, RSS ≤ 500 MB. Like perf.py it
never asserts; it prints a table. Bounded: at most --events events and --timeout seconds of
waiting for replies; the bot, the fake API and the temporary directory are removed at the end,
also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import load_average, machine, percentile
from tests.support.bot_process import SIGNING_SECRET, BotProcess, clean_env, healthy, start_http_bot
from tests.support.slack_fakes import BOT_USER, FakeSlackAPI, SignedEventsClient, mention

REPO = Path(__file__).resolve().parent.parent

TARGET_ACK_P95_MS = 100.0
TARGET_REPLY_P95_S = 1.0
TARGET_RSS_MB = 500.0
CHANNEL = "CLOAD0001"


@dataclass
class Sent:
    message: dict
    sent_at: float = 0.0
    acked_at: float = 0.0
    status: int = 0


@dataclass
class Results:
    sent: list[Sent] = field(default_factory=list)
    send_seconds: float = 0.0
    wait_seconds: float = 0.0
    replies: dict[str, list[float]] = field(default_factory=dict)
    """message ts → when each reply to it reached the fake API."""
    notices: int = 0
    peak_rss_mb: float | None = None
    processes: int = 1
    bot_cpu_seconds: float | None = None
    """The bot processes (and any children), while the events were sent and answered."""
    own_cpu_seconds: float = 0.0
    """This process: the senders and the fake Web API (they share the machine with the bot)."""


def questions(count: int) -> list[str]:
    """`count` different questions: the eval set's, as written, lower-cased, without the question
    mark, and both. Follow-ups arrive without their history, as a first question would."""
    from evals.dataset import load_dataset

    base = list(dict.fromkeys(case.question for case in load_dataset()))
    spellings = [lambda q: q, str.lower, lambda q: q.rstrip("?"), lambda q: q.lower().rstrip("?")]
    variants = list(dict.fromkeys(spell(question) for spell in spellings for question in base))
    return [variants[n % len(variants)] for n in range(count)]


def family(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc: memory and CPU count the whole family."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found = [pid]
    for member in found:
        found += [child for child, parent in parents.items() if parent == member]
    return found


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mb(pid: int) -> tuple[float, int]:
    """Sum of VmHWM (peak resident memory) over the bot and its descendants, and how many processes."""
    members = family(pid)
    return sum(_status_kib(member, "VmHWM") for member in members) / 1024, len(members)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of the bot and its descendants (/proc/PID/stat, fields 14, 15)."""
    total = 0.0
    for member in family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


def send_all(clients: list[SignedEventsClient], api: FakeSlackAPI, count: int, concurrency: int, rate: float) -> tuple[list[Sent], float]:
    """Create `count` user messages and deliver each once, event n to bot n mod len(clients),
    `concurrency` requests in flight; with `rate` > 0, event n is not sent before start + n/rate."""
    work: queue.Queue[tuple[int, Sent] | None] = queue.Queue()
    sent = [Sent(api.user_message(CHANNEL, f"ULOAD{n:05d}", f"<@{BOT_USER}> {text}")) for n, text in enumerate(questions(count))]
    for item in enumerate(sent):
        work.put(item)
    for _ in range(concurrency):
        work.put(None)
    started = time.monotonic()

    def worker() -> None:
        while (item := work.get()) is not None:
            n, record = item
            if rate > 0:
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
            record.sent_at = time.monotonic()
            try:
                record.status = clients[n % len(clients)].event(mention(record.message))[0]
            except OSError:
                record.status = -1
            record.acked_at = time.monotonic()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent, time.monotonic() - started


def collect(api: FakeSlackAPI, sent: list[Sent], timeout: float) -> tuple[dict[str, list[float]], int, float]:
    """Wait until every message has a reply (or `timeout`), then for the stragglers' duplicates a
    little longer; returns reply times per message ts, how many replies were notices, the wait."""
    started = time.monotonic()
    wanted = {record.message["ts"] for record in sent}

    def replies() -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for call in api.calls_to("chat.postMessage", channel=CHANNEL):
            found.setdefault(call.params.get("thread_ts", ""), []).append(call.at)
        return found

    while time.monotonic() - started < timeout and not wanted <= set(replies()):
        time.sleep(0.05)
    waited = time.monotonic() - started
    # A second reply to anything would have arrived by now; still posting after the timeout: counted as it stands.
    with contextlib.suppress(AssertionError):
        api.wait_quiet(seconds=1.0, timeout=30)
    calls = api.calls_to("chat.postMessage", channel=CHANNEL)
    notices = sum(1 for call in calls if not any(block.get("type") == "actions" for block in call.params.get("blocks", [])))
    return replies(), notices, waited


def start_bot(data_dir: Path, api: FakeSlackAPI, name: str = "bot") -> BotProcess:
    """`assistant slack --http` against the fake API; ASSISTANT_* and SLACK_* settings in this
    environment (e.g. SLACK_ANSWER_WORKERS) pass through."""
    passed = {key: value for key, value in os.environ.items() if key.startswith(("ASSISTANT_", "SLACK_"))}
    return start_http_bot(api.api_url, data_dir, log_name=f"{name}.log", ANONYMIZED_TELEMETRY="False", **passed)


def wait_healthy(url: str, process: subprocess.Popen | None, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    health = url.rsplit("/slack/events", 1)[0] + "/healthz"
    while not healthy(health):
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise SystemExit(f"the bot exited with {process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise SystemExit(f"no bot answered at {health} within {timeout:.0f} s")
        time.sleep(0.1)


def report(results: Results, args, where: str) -> None:
    from rich.console import Console
    from rich.table import Table

    sent = results.sent
    acked = [record for record in sent if record.status == 200]
    ack_ms = [(record.acked_at - record.sent_at) * 1000 for record in acked]
    counts = [len(results.replies.get(record.message["ts"], [])) for record in sent]
    to_reply = [results.replies[record.message["ts"]][0] - record.sent_at for record in sent if results.replies.get(record.message["ts"])]
    answered = len(to_reply)

    def verdict(ok: bool) -> str:
        return "[green]met[/]" if ok else "[red]missed[/]"

    pace = f"paced at {args.rate:g}/s" if args.rate else "as fast as acks allow"
    table = Table(title=f"Slack bot under load: {len(sent)} events, {args.concurrency} concurrent, {pace}")
    table.add_column("measurement")
    table.add_column("measured", justify="right")
    table.add_column("target", justify="right")
    table.add_column("")
    table.add_row("events acknowledged 200", f"{len(acked)} / {len(sent)}", f"{len(sent)}", verdict(len(acked) == len(sent)))
    table.add_row("answered exactly once", f"{counts.count(1)} / {len(sent)}", f"{len(sent)}", verdict(counts.count(1) == len(sent)))
    table.add_row("  never answered / answered twice or more", f"{counts.count(0)} / {sum(1 for c in counts if c > 1)}", "0 / 0", "")
    table.add_row("  replies that were notices (rate limit, apology)", str(results.notices), "0", "")
    if ack_ms:
        ack_p95 = percentile(ack_ms, 95)
        measured = f"{percentile(ack_ms, 50):.1f} / {ack_p95:.1f} / {max(ack_ms):.0f} ms"
        table.add_row("ack latency p50 / p95 / max", measured, f"p95 ≤ {TARGET_ACK_P95_MS:.0f} ms", verdict(ack_p95 <= TARGET_ACK_P95_MS))
    if to_reply:
        p95 = percentile(to_reply, 95)
        measured = f"{percentile(to_reply, 50):.2f} / {p95:.2f} / {max(to_reply):.2f} s"
        table.add_row("event → reply p50 / p95 / max", measured, f"p95 ≤ {TARGET_REPLY_P95_S:.0f} s", verdict(p95 <= TARGET_REPLY_P95_S))
    table.add_row("all events sent in", f"{results.send_seconds:.2f} s ({len(sent) / max(results.send_seconds, 1e-9):.0f} events/s)", "", "")
    if to_reply:
        span = max(times[-1] for times in results.replies.values()) - min(record.sent_at for record in sent)
        table.add_row("first event → last reply", f"{span:.2f} s ({answered / max(span, 1e-9):.1f} replies/s)", "", "")
    if results.bot_cpu_seconds is not None:
        per_event_ms = results.bot_cpu_seconds * 1000 / max(len(sent), 1)
        measured = f"{results.bot_cpu_seconds:.1f} s ({per_event_ms:.0f} ms per event) / {results.own_cpu_seconds:.1f} s"
        table.add_row("CPU: bot / this load generator", measured, "", "")
    if results.peak_rss_mb is not None:
        label = "bot peak RSS (VmHWM)" + (f", sum of {results.processes} processes" if results.processes > 1 else "")
        table.add_row(label, f"{results.peak_rss_mb:.0f} MB", f"≤ {TARGET_RSS_MB:.0f} MB", verdict(results.peak_rss_mb <= TARGET_RSS_MB))
    else:
        table.add_row("bot peak RSS (VmHWM)", "not measured (give --pid)", f"≤ {TARGET_RSS_MB:.0f} MB", "")
    console = Console(width=None if sys.stdout.isatty() else 120)
    console.print(f"{machine()}; {where}")
    console.print(table)
    console.print(f"after: {load_average()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500, help="events to send (default 500, at most 5000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--rate", type=float, default=0.0, help="events per second; 0 (default): as fast as acks come back")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for replies after the last event (default 300)")
    parser.add_argument("--bots", type=int, default=1, help="bots to start, sharing one data directory (default 1, at most 8)")
    parser.add_argument("--url", help="the Events URL of a bot already running against this script's fake API (needs --api-port, --signing-secret)")
    parser.add_argument("--signing-secret", default=SIGNING_SECRET, help="with --url: the bot's SLACK_SIGNING_SECRET")
    parser.add_argument("--api-port", type=int, default=0, help="with --url: port of the fake Web API; start the bot with SLACK_API_URL=http://127.0.0.1:PORT/api/")
    parser.add_argument("--pid", type=int, help="with --url: the bot's process id, for its peak RSS")
    args = parser.parse_args(argv)
    args.events = max(1, min(args.events, 5000))
    args.concurrency = max(1, min(args.concurrency, 500))
    args.bots = max(1, min(args.bots, 8))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    api = FakeSlackAPI(port=args.api_port if args.url else 0).start()
    workdir = Path(tempfile.mkdtemp(prefix="assistant-load-"))
    processes: list[subprocess.Popen] = []
    try:
        if args.url:
            urls, pids = [args.url], [args.pid] if args.pid else []
            print(f"fake Slack Web API at {api.api_url}; waiting up to 120 s for the bot at {args.url}", flush=True)
            wait_healthy(args.url, None, 120)
            where = f"target {args.url}"
        else:
            command = [sys.executable, "-m", "assistant.cli", "ingest", str(REPO / "seeds")]
            subprocess.run(command, env=clean_env(ASSISTANT_DATA_DIR=str(workdir)), cwd=workdir, check=True, capture_output=True, timeout=300)
            bots = [start_bot(workdir, api, f"bot{n}") for n in range(args.bots)]
            processes = [bot.process for bot in bots]
            urls = [bot.events.url for bot in bots]
            for bot in bots:
                wait_healthy(bot.events.url, bot.process, 120, bot.log_path)
            pids = [process.pid for process in processes]
            what = "one `assistant slack --http`" if args.bots == 1 else f"{args.bots} `assistant slack --http` sharing one data directory"
            where = f"{what} (pid {', '.join(map(str, pids))}), seeds/ index in {workdir}"
        clients = [SignedEventsClient(url, args.signing_secret) for url in urls]
        results = Results()
        print(f"before: {load_average()}; sending {args.events} events …", flush=True)
        bot_cpu_before, own_cpu_before = sum(cpu_seconds(pid) for pid in pids), time.process_time()
        results.sent, results.send_seconds = send_all(clients, api, args.events, args.concurrency, args.rate)
        results.replies, results.notices, results.wait_seconds = collect(api, results.sent, args.timeout)
        if pids:
            memory = [peak_rss_mb(pid) for pid in pids]
            results.peak_rss_mb, results.processes = sum(mb for mb, _ in memory), sum(count for _, count in memory)
            results.bot_cpu_seconds = sum(cpu_seconds(pid) for pid in pids) - bot_cpu_before
        results.own_cpu_seconds = time.process_time() - own_cpu_before
        report(results, args, where)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        api.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
