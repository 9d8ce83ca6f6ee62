"""Tables that fit the terminal: a rich table when it fits, one block per row when it does not.

rich shrinks a table that is wider than the terminal by wrapping or cutting its cells, which breaks
document ids mid-word ("antara-kom / digi-as-ke") and cuts labels to "en-s…". Ids and labels are
what people copy into the next command, so a table here never wraps a cell: when its rows do not
fit on one line each, every row is printed as its first cell on a line of its own followed by
"column: value" lines, the way `kubectl describe` or `gh` fall back on narrow screens.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

CELL_PADDING = 3
"""What rich's default table adds per column (a border and a space on each side)."""


def print_table(console: Console, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[str] = ()) -> None:
    """`rows` of plain text (not markup) under `columns`; numbers right-aligned (`numeric` names them)."""
    widths = [max([len(column), *(len(row[n]) for row in rows)]) for n, column in enumerate(columns)]
    if sum(widths) + CELL_PADDING * len(columns) + 1 <= console.width:
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, justify="right" if column in numeric else "left", no_wrap=True)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        return
    console.print(Text(title, style="italic"), soft_wrap=True)
    label_width = max(len(column) for column in columns[1:]) if len(columns) > 1 else 0
    for row in rows:
        console.print(Text(row[0], style="bold"), soft_wrap=True)
        for column, cell in zip(columns[1:], row[1:], strict=True):
            console.print(f"  [dim]{escape(column.ljust(label_width))}[/] {escape(cell)}", soft_wrap=True)
