"""How long a question takes on the LLM path when the model endpoint misbehaves, and what it returns.

    .venv/bin/python -m benchmarks.llm_endpoint [--timeout 20] [--markdown]    # from the repository root

Needs the dev extra (`langchain-openai`). Starts the OpenAI-compatible test server of
`tests/llm_server.py` on 127.0.0.1, builds a temporary index of `seeds/`, and asks the same question
through the real provider client (`ASSISTANT_LLM=openai:bench-model`, `OPENAI_BASE_URL` pointing at
the server) once per scenario: a good reply, a reply that is not JSON, a 500 every time, a 429 with
Retry-After: 1 and then a good reply, a 429 asking for 30 s, and a server that never answers. Last,
the same hanging server behind a whole `assistant ask --json` process. Prints one table; never
asserts. docs/llm.md quotes its numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import load_average, machine

REPO = Path(__file__).resolve().parent.parent

os.environ.update({"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})

QUESTION = "How many US companies are interested in smart city?"
COMPANIES = "antara-komdigi-as-kerja-sama-digital#04"
MODEL = "bench-model"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=20.0, help="ASSISTANT_LLM_TIMEOUT for every scenario (default 20, the product default)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    from assistant.answering import build_answerer
    from assistant.core import Assistant
    from assistant.settings import Settings
    from ingest import ingest
    from tests.llm_server import FakeChatCompletions, Reply

    server = FakeChatCompletions().start()
    os.environ.update({"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-local-bench"})
    data_dir = Path(tempfile.mkdtemp(prefix="assistant-llm-bench-"))
    try:
        settings = Settings(_env_file=None, data_dir=data_dir, chroma_url=None, llm=f"openai:{MODEL}", llm_timeout=args.timeout)
        ingest([str(REPO / "seeds")], settings=settings.model_copy(update={"llm": None}))
        searcher = Assistant.load(settings.model_copy(update={"llm": None})).searcher
        sentence = searcher.sentences[COMPANIES].text

        def good(request):
            n = request.number_of(sentence)
            return Reply(json.dumps({"answer": f"12 US companies are interested [{n}].", "citations": [n]}))

        scenarios = [
            ("a good reply", [good]),
            ("a reply that is not JSON", [Reply("Sure! Twelve companies.")]),
            ("500 on every try", [Reply(status=500)]),
            ("429, Retry-After: 1, then a good reply", [Reply(status=429, headers={"Retry-After": "1"}), good]),
            ("429, Retry-After: 30, every try", [Reply(status=429, headers={"Retry-After": "30"})]),
            ("never answers", [Reply(hang=True)]),
        ]
        answerer = build_answerer(settings, searcher)
        server.script(good)
        answerer.answer(QUESTION)  # warm-up: imports, the client's connection, the embedder
        rows = []
        for name, steps in scenarios:
            server.script(*steps)
            started = time.monotonic()
            answer = answerer.answer(QUESTION)
            seconds = time.monotonic() - started
            reason = next((note for note in answer.notes if note != "answered extractively instead"), "")
            rows.append((name, f"{seconds:.2f}", answer.answerer, str(len(server.requests)), reason))

        server.script(Reply(hang=True))
        env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_LLM": f"openai:{MODEL}", "ASSISTANT_LLM_TIMEOUT": f"{args.timeout:g}"}
        started = time.monotonic()
        command = [sys.executable, "-m", "assistant.cli", "ask", "--json", QUESTION]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.timeout * 3 + 120)
        seconds = time.monotonic() - started
        printed = json.loads(result.stdout) if result.returncode == 0 else {"answerer": f"exit {result.returncode}", "notes": [result.stderr[-200:]]}
        note = printed["notes"][0] if printed["notes"] else ""
        rows.append(("never answers: whole `assistant ask --json` process", f"{seconds:.2f}", printed["answerer"], str(len(server.requests)), note))
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    header = ("scenario", "seconds", "answerer", "requests", "note")
    print(f"{machine()}; {load_average()}; ASSISTANT_LLM_TIMEOUT={args.timeout:g}")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    else:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
