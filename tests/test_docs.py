"""The docs say what the program does: the README's example is what `assistant ask` prints, every
relative link resolves, and every command and setting is documented."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "benchmarks" / "README.md",
    ROOT / "evals" / "README.md",
    ROOT / "assistant" / "data" / "README.md",
]
USAGE = ROOT / "docs" / "usage.md"
SLACK = ROOT / "docs" / "slack.md"

EXAMPLE = re.compile(
    r"<!-- example: checked by tests/test_docs.py -->\n```\n\$ assistant ask \"(?P<question>[^\"]+)\"\n(?P<output>.*?)```\n<!-- /example -->",
    re.DOTALL,
)
FENCED = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_example_is_what_assistant_ask_prints(seed_settings):
    match = EXAMPLE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its checked example (the block between the `example` comments)"
    env = {"ASSISTANT_DATA_DIR": str(seed_settings.data_dir), "HF_HUB_OFFLINE": "1", "PATH": "", "COLUMNS": "80"}
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", match["question"]], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    printed = [line.rstrip() for line in out.stdout.splitlines()]
    shown = [line.rstrip() for line in match["output"].splitlines()]
    assert printed == shown, "README's example differs from what `assistant ask` prints now; paste the new output"


def anchors(path: Path) -> set[str]:
    """The fragment ids GitHub gives a Markdown file's headings."""
    text = FENCED.sub("", path.read_text(encoding="utf-8"))
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    broken = []
    for target in LINK.findall(FENCED.sub("", doc.read_text(encoding="utf-8"))):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, fragment = target.partition("#")
        destination = (doc.parent / path).resolve() if path else doc
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, broken


def test_every_command_is_in_the_usage_doc():
    from assistant.cli import _parser

    subcommands = next(action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction))
    usage = USAGE.read_text(encoding="utf-8")
    missing = [name for name in subcommands.choices if f"assistant {name}" not in usage]
    assert not missing, f"docs/usage.md does not show: {missing}"


def test_every_setting_is_documented():
    from assistant.settings import Settings
    from assistant.slack.settings import SlackSettings

    usage, slack = USAGE.read_text(encoding="utf-8"), SLACK.read_text(encoding="utf-8")
    missing = [f"ASSISTANT_{name.upper()}" for name in Settings.model_fields if f"`ASSISTANT_{name.upper()}`" not in usage]
    for name, field in SlackSettings.model_fields.items():
        variable = field.validation_alias if isinstance(field.validation_alias, str) else name.upper()
        if f"`{variable}`" not in slack:
            missing.append(variable)
    assert not missing, f"not in the settings tables of docs/usage.md / docs/slack.md: {missing}"
