"""Regenerate assistant/data/freedict_eng_ind.tsv from Debian's dict-freedict-eng-ind package.

    apt-get install dict-freedict-eng-ind   # or: apt-get download … && dpkg-deb -x …
    python scripts/freedict_to_tsv.py /usr/share/dictd > assistant/data/freedict_eng_ind.tsv

FreeDict English–Indonesian (WikDict, from Wiktionary), © FreeDict contributors, CC BY-SA 3.0.
The TSV keeps each headword's Indonesian translations: single words and short phrases only.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64(value: str) -> int:
    number = 0
    for char in value:
        number = number * 64 + _B64.index(char)
    return number


def entries(folder: Path):
    with gzip.open(folder / "freedict-eng-ind.dict.dz") as compressed:
        data = compressed.read()
    for line in (folder / "freedict-eng-ind.index").read_text(encoding="utf-8").splitlines():
        headword, offset, length = line.split("\t")
        if headword.startswith("00database"):
            continue
        body = data[_b64(offset) : _b64(offset) + _b64(length)].decode("utf-8").splitlines()
        yield headword, body


def translations(body: list[str]) -> list[str]:
    """An entry's translation lines: "N. a, b" for each numbered sense, else the line after the headword.
    The line after each translation is an English gloss and is skipped."""
    lines = body[1:]
    numbered = [match.group(1) for line in lines if (match := re.match(r"^\d+\.\s+(.*)$", line))]
    candidates = numbered or lines[:1]
    found: list[str] = []
    for line in candidates:
        for alternative in re.sub(r"\s\d+\.\s*$", "", line).split(","):
            alternative = alternative.strip().lower()
            if alternative and len(alternative.split()) <= 3 and re.fullmatch(r"[a-z][a-z -]*", alternative) and alternative not in found:
                found.append(alternative)
    return found


def main(folder: str) -> None:
    print("# English\tIndonesian alternatives (|-separated). From FreeDict eng-ind (WikDict/Wiktionary),")
    print("# (c) FreeDict contributors, licensed CC BY-SA 3.0: https://creativecommons.org/licenses/by-sa/3.0/")
    print("# Regenerate with scripts/freedict_to_tsv.py; see assistant/data/README.md.")
    merged: dict[str, list[str]] = {}
    for headword, body in entries(Path(folder)):
        word = headword.lower().strip()
        if not re.fullmatch(r"[a-z][a-z -]*", word) or len(word.split()) > 3:
            continue
        for alternative in translations(body):
            merged.setdefault(word, [])
            if alternative not in merged[word]:
                merged[word].append(alternative)
    for word in sorted(merged):
        print(f"{word}\t{'|'.join(merged[word][:6])}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/dictd")
