"""`assistant eval --report run.html`: the eval's tables and a chart in one self-contained HTML file,
to open in a browser or attach to a review (no scripts, no external files, no network).
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from pathlib import Path

from evals.runner import HEADER, PAIRS, REFUSAL_HEADER, Report, miss_lines, missed, refusal_rows, table_rows

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f24; max-width: 1200px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; white-space: nowrap; }
th { background: #f6f8fa; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.miss { margin: .6rem 0; } .miss .q { font-weight: 600; } .miss .s { color: #57606a; margin-left: 1rem; }
"""

CHART_MEASURES = ("gold cited", "abstain R")
"""Charted per language pair and configuration, leave-one-article-out."""


def write_report(reports: Sequence[Report], path: str | Path) -> Path:
    """The first report is the default configuration: its misses are listed; the others are compared."""
    main = reports[0]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Eval report — {html.escape(main.config.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Eval report: {len(main.results)} questions on {len(_articles(main))} articles</h1>",
        f"<p>{html.escape(time.strftime('%Y-%m-%d %H:%M'))} · configurations: "
        + ", ".join(html.escape(report.config.name) for report in reports)
        + " · rates leave-one-article-out where marked (in / LOAO)</p>",
        "<h2>Gold cited and unanswerables refused, by language pair (leave-one-article-out)</h2>",
        _chart(reports),
    ]
    for report in reports:
        parts.append(f"<h2>{html.escape(report.config.name)}</h2>")
        parts.append(_table("By language pair (question→article)", HEADER, table_rows(report, ["all", *PAIRS, "followup"])))
        parts.append(_table("By article", HEADER, table_rows(report, _articles(report))))
        parts.append(_table("Refusals", REFUSAL_HEADER, refusal_rows(report)))
    parts.append(f"<h2>Misses — {html.escape(main.config.name)} (leave-one-article-out)</h2>")
    parts += _misses(main)
    parts.append("</body></html>")
    target = Path(path)
    target.write_text("\n".join(parts), encoding="utf-8")
    return target


def _articles(report: Report) -> list[str]:
    return [group for group in report.groups() if group not in ("all", "followup", *PAIRS)]


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(column)}</th>" for column in header)
    body = "".join(
        "<tr>" + "".join(f"<td{'' if n == 0 else ' class=n'}>{html.escape(cell)}</td>" for n, cell in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<h3>{html.escape(title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(reports: Sequence[Report]) -> str:
    """Horizontal bars, one per (group, measure, configuration), as inline SVG."""
    groups = ["all", *PAIRS]
    bar, gap, label_width, width = 14, 4, 260, 420
    rows = [(group, measure, report) for group in groups for measure in CHART_MEASURES for report in reports]
    height = len(rows) * (bar + gap) + len(groups) * 10 + 20
    colours = ["#0969da", "#bf8700", "#1a7f37", "#8250df", "#cf222e"]
    shapes = []
    y = 10
    for number, (group, measure, report) in enumerate(rows):
        value = report.answers(group)[measure] if group in report.groups() else 0.0
        colour = colours[reports.index(report) % len(colours)]
        label = f"{group} · {measure} · {report.config.name}"
        shapes.append(f"<text x='0' y='{y + bar - 3}' font-size='11'>{html.escape(label)}</text>")
        shapes.append(f"<rect x='{label_width}' y='{y}' width='{width * value:.1f}' height='{bar}' fill='{colour}'/>")
        shapes.append(f"<text x='{label_width + width * value + 4:.1f}' y='{y + bar - 3}' font-size='11'>{value:.2f}</text>")
        y += bar + gap
        if (number + 1) % (len(CHART_MEASURES) * len(reports)) == 0:
            y += 10
    return f"<svg xmlns='http://www.w3.org/2000/svg' width='{label_width + width + 60}' height='{height}' role='img'>{''.join(shapes)}</svg>"


def _misses(report: Report) -> list[str]:
    out = []
    for r in report.results:
        if not missed(r):
            continue
        question, lines = miss_lines(report, r)
        shown = "".join(f"<div class=s>{html.escape(label)} {html.escape(line)}</div>" for label, line in lines)
        out.append(f"<div class=miss><div class=q>{html.escape(r.case.id)} — {html.escape(question)}</div>{shown}</div>")
    return out or ["<p>None.</p>"]
