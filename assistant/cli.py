"""The `assistant` command: a thin shell over the library that turns its errors into friendly messages.

    assistant ingest [PATH|URL ...]      build or update the index (default: seeds/)
    assistant documents [--json]         list what the index holds
    assistant remove DOC_ID [DOC_ID ...] take documents out of the index
    assistant reset [--yes]              empty the index
    assistant ask "QUESTION" [--json]    answer one question
    assistant chat                       interactive terminal chat (keeps conversation history)
    assistant eval [...]                 run the retrieval and answer eval suite
    assistant slack [--http --port N]    run the Slack bot (Socket Mode, or Events API over HTTP)
    assistant feedback export [PATH]     write Slack 👍/👎 feedback as candidate eval cases
"""

from __future__ import annotations

import argparse
import json
import sys

from assistant.errors import AssistantError, setting_problems


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    from pydantic import ValidationError

    try:
        return int(args.handler(args) or 0)
    except AssistantError as exc:
        _print_error(str(exc))
        return 1
    except ValidationError as exc:  # a bad ASSISTANT_* value in the environment or .env
        for line in setting_problems(exc):
            _print_error(line)
        return 1
    except KeyboardInterrupt:
        return 130


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("article-assistant")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Answers questions about a news article, citing its sentences.")
    parser.add_argument("--version", action="version", version=f"assistant {_version()}", help="print the installed version and exit")
    commands = parser.add_subparsers(dest="command")

    ingest = commands.add_parser("ingest", help="read articles into the index (default: seeds/)")
    ingest.add_argument("sources", nargs="*", help="files, folders or http(s) URLs")
    ingest.add_argument("--replace", metavar="DOC_ID", help="put the one source given in the place of this document (an updated article at a new path or URL)")
    ingest.set_defaults(handler=_ingest)

    listing = commands.add_parser("documents", help="list the documents in the index")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(handler=_documents)

    remove = commands.add_parser("remove", help="take documents out of the index (ids as `assistant documents` lists them)")
    remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="document id, e.g. antara-komdigi-as-kerja-sama-digital")
    remove.set_defaults(handler=_remove)

    reset = commands.add_parser("reset", help="empty the index (the Slack database and settings stay)")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    reset.set_defaults(handler=_reset)

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question", help='the question, in Indonesian or English, e.g. "Siapa Duta Besar AS untuk Indonesia?"')
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.set_defaults(handler=_ask)

    chat = commands.add_parser("chat", help="interactive chat in the terminal")
    chat.set_defaults(handler=_chat)

    evaluate = commands.add_parser("eval", help="run the eval suite on a temporary index")
    evaluate.add_argument("--json", dest="json_path", metavar="PATH", help="write the per-question run as JSON")
    evaluate.add_argument(
        "--compare",
        action="store_true",
        help="also run the other configurations (dense vs hybrid; all-MiniLM-L6-v2 if installed) side by side",
    )
    evaluate.add_argument("--dataset", help="dataset YAML (default: the bundled evals/dataset.yaml)")
    evaluate.add_argument("--misses", action="store_true", help="list the cases answered wrongly (leave-one-article-out)")
    evaluate.add_argument("--report", dest="report_path", metavar="PATH", help="also write the tables, a chart and the misses as one HTML file")
    evaluate.add_argument("--markdown", action="store_true", help="print the quality tables as Markdown (the tables in docs/quality.md)")
    evaluate.add_argument("--fit", action="store_true", help="refit the answerability model on every article and save it")
    evaluate.add_argument("--realqa", action="store_true", help="the real-data tier: ../shared/realqa/ validation questions, one passage per index")
    evaluate.add_argument("--limit", type=int, help="with --realqa: about this many questions per dataset (whole passages)")
    evaluate.set_defaults(handler=_eval)

    slack = commands.add_parser(
        "slack",
        help="run the Slack bot",
        description="Run the Slack bot on the index `assistant ingest` built.",
        epilog=(
            "Environment: SLACK_BOT_TOKEN (always), plus SLACK_APP_TOKEN for Socket Mode or SLACK_SIGNING_SECRET "
            "for --http; read from the environment or ./.env. ASSISTANT_* settings as for the other commands."
        ),
    )
    slack.add_argument("--http", action="store_true", help="serve the Events API over HTTP instead of Socket Mode")
    slack.add_argument("--port", type=int, default=3000, help="port for --http (default: 3000)")
    slack.add_argument("--host", default="127.0.0.1", help="address for --http to listen on (default: 127.0.0.1; 0.0.0.0 for all)")
    slack.set_defaults(handler=_slack)

    feedback = commands.add_parser("feedback", help="Slack feedback")
    feedback.set_defaults(handler=lambda args: _print_help(feedback))
    feedback_commands = feedback.add_subparsers(dest="feedback_command")
    export = feedback_commands.add_parser("export", help="write feedback as candidate eval cases (YAML)")
    export.add_argument("path", nargs="?", default="-", help="output file (default: stdout)")
    export.set_defaults(handler=_feedback_export)
    return parser


def _settings():
    from assistant.settings import Settings

    return Settings()


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _ingest(args) -> int:
    from ingest.cli_progress import RichProgress
    from ingest.pipeline import DEFAULT_SOURCES, ingest

    console = _console()
    sources = args.sources or DEFAULT_SOURCES
    with RichProgress(console) as progress:
        report = ingest(sources, settings=_settings(), progress=progress, replace=args.replace)
    from assistant.terminal import print_table

    columns = ("document", "source", "sentences", "written", "removed", "unchanged")
    rows = [(doc.doc_id, doc.source, str(doc.sentences), str(doc.written), str(doc.removed), str(doc.unchanged)) for doc in report.documents]
    print_table(console, f"Ingested in {report.seconds:.2f}s", columns, rows, numeric=columns[2:])
    for doc in report.documents:
        if doc.same_as:
            same = f"{_escape(doc.source)} has the same text as {_escape(doc.same_as)}, indexed as {_escape(doc.doc_id)}: nothing written."
            console.print(same, soft_wrap=True)
    if report.skipped:
        console.print(f"[yellow]Skipped {len(report.skipped)} file(s):[/]")
        for item in report.skipped:
            console.print(f"  {_escape(item.reason)}", soft_wrap=True)
    return 0


def _documents(args) -> int:
    from ingest.lifecycle import documents

    settings = _settings()
    infos = documents(settings=settings)
    if args.json:
        payload = {"index": settings.chroma_location, "documents": [info.to_dict() for info in infos]}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    console = _console()
    if not infos:
        console.print(f"The index in {_escape(settings.chroma_location)} is empty. Add articles with: assistant ingest [PATH|URL ...]", soft_wrap=True)
        return 0
    from assistant.terminal import print_table

    columns = ("id", "title", "source", "sentences", "ingested at", "version")
    rows = [(info.doc_id, info.title, info.source, str(info.sentences), info.ingested_at[:16].replace("T", " "), info.version) for info in infos]
    print_table(console, f"{len(infos)} document{'s' if len(infos) != 1 else ''} in {settings.chroma_location}", columns, rows, numeric=("sentences",))
    return 0


def _remove(args) -> int:
    from ingest.lifecycle import remove

    report = remove(args.doc_ids, settings=_settings())
    names = ", ".join(f"{info.doc_id} ({info.sentences} sentences)" for info in report.removed)
    left = f"{report.remaining} document{'s' if report.remaining != 1 else ''} left"
    _console().print(f"Removed {_escape(names)} in {report.seconds:.2f}s; {left}.", soft_wrap=True)
    return 0


def _reset(args) -> int:
    from ingest.lifecycle import documents, reset

    settings = _settings()
    console = _console()
    held = documents(settings=settings)
    if not args.yes:
        if not sys.stdin.isatty():
            _print_error("assistant reset deletes every document in the index; add --yes to confirm without a terminal.")
            return 1
        what = f"all {len(held)} document{'s' if len(held) != 1 else ''}" if held else "the (already empty) index"
        if console.input(f"Delete {what} from {_escape(settings.chroma_location)}? {_escape('[y/N]')} ").strip().lower() not in ("y", "yes"):
            console.print("Nothing was deleted.")
            return 1
    report = reset(settings=settings)
    removed = f"{len(report.removed)} document{'s' if len(report.removed) != 1 else ''}"
    console.print(f"Emptied the index in {_escape(settings.chroma_location)}: removed {removed}.", soft_wrap=True)
    return 0


def _ask(args) -> int:
    from assistant.core import Assistant

    answer = Assistant.load(_settings()).ask(args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_answer(_console(), answer)
    return 0


def _chat(args) -> int:
    from assistant.core import Assistant
    from assistant.types import Turn

    console = _console()
    bot = Assistant.load(_settings())
    titles = ", ".join(doc.get("title", doc_id) for doc_id, doc in bot.documents.items())
    console.print(f"[bold]Ask about:[/] {_escape(titles)}  [dim](Indonesian or English; empty line or Ctrl-D to quit)[/]")
    history: list[Turn] = []
    while True:
        try:
            question = console.input("[bold cyan]you>[/] ")
        except EOFError:
            console.print()
            return 0
        if not question.strip():
            return 0
        answer = bot.ask(question, history=history)
        _print_answer(console, answer)
        history += [Turn("user", question), Turn("assistant", answer.text)]


def _eval(args) -> int:
    from evals.runner import main_from_arguments

    return main_from_arguments(args)


def _slack(args) -> int:
    from assistant.slack.app import run

    return run(_settings(), http=args.http, host=args.host, port=args.port)


def _feedback_export(args) -> int:
    from assistant.slack.feedback import export_feedback

    count = export_feedback(_settings(), args.path)
    if args.path != "-":
        _console(stderr=True).print(f"Wrote {count} feedback cases to {args.path}")
    return 0


def _print_answer(console, answer) -> None:
    """The brief answer in a panel, then each cited sentence once, with the answering span in bold."""
    from rich.markup import escape
    from rich.panel import Panel

    style = "yellow" if answer.abstained else "green"
    title = "no answer" if answer.abstained else "answer"
    console.print(Panel(escape(answer.brief), border_style=style, title=title, title_align="left"))
    for citation in answer.citations:
        sentence = escape(citation.text)
        for span in citation.highlights:
            sentence = sentence.replace(escape(span), f"[bold yellow]{escape(span)}[/]", 1)
        console.print(f"  [bold][{citation.marker}][/] {sentence}")
        console.print(f"      [dim]{citation.sentence_id} · sentence {citation.position + 1} · score {citation.score:.3f}[/]")
        if citation.url:
            console.print(f"      [link={citation.url}]{escape(citation.url)}[/link]", soft_wrap=True)
    for note in answer.notes:  # the LLM path says why it fell back or dropped a claim
        console.print(f"  [dim]note: {escape(note)}[/]")
    if answer.related:
        from assistant.messages import message

        console.print(f"  [dim]{message('related_heading', answer.language)}:[/]")
        for hit in answer.related:
            console.print(f"  [dim]–[/] [italic]{escape(hit.text)}[/]")
            console.print(f"      [dim]{hit.sentence_id} · sentence {hit.position + 1}[/]")


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _print_error(message: str) -> None:
    """One line, however narrow the terminal: a wrapped error is harder to read and to grep."""
    _console(stderr=True).print(f"[bold red]Error:[/] {_escape(message)}", soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


if __name__ == "__main__":
    sys.exit(main())
