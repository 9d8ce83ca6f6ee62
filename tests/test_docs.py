"""The docs show what the program really prints: the README's example is run and compared."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT

EXAMPLE = re.compile(
    r"<!-- example: checked by tests/test_docs.py -->\n```\n\$ assistant ask \"(?P<question>[^\"]+)\"\n(?P<output>.*?)```\n<!-- /example -->",
    re.DOTALL,
)


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
