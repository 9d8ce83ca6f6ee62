"""Ingest progress on the terminal (rich): which source is being read, then a bar while embedding,
with the time taken and an estimate of the time left (a 5 MB article takes minutes)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichBar

from ingest.pipeline import Progress


class RichProgress(Progress):
    def __init__(self, console: Console) -> None:
        self.console = console
        self._bar = RichBar(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("[dim]left"), TimeRemainingColumn(),
            console=console, transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def reading(self, source: str) -> None:
        self.console.print(f"[dim]reading[/] {source}")

    def embedding(self, total: int) -> None:
        self._task = self._bar.add_task("embedding sentences", total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, count)
