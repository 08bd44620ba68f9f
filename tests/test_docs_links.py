"""README.md and docs/*.md: every relative link reaches its file and its heading, and the
files the current docs name (src/..., benchmarks/..., tests/..., docs/...) exist."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"\]\(([^)\s]*)\)")
PATH = re.compile(r"(?<![\w/.-])((?:src|benchmarks|docs|tests)/[\w./*{},-]*[\w*}])")


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of a Markdown file outside fenced code blocks, numbered from 1."""
    out, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            out.append((number, line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup and punctuation dropped, lower case,
    spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*]", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: Counter[str] = Counter()
    out = set()
    for _, line in prose_lines(path):
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            s = slug(heading.group(1))
            out.add(s if not seen[s] else f"{s}-{seen[s]}")
            seen[s] += 1
        out.update(re.findall(r'<a\s+(?:name|id)="([^"]+)"', line))
    return out


def broken_links(path: Path) -> list[str]:
    bad = []
    for number, line in prose_lines(path):
        for link in LINK.findall(line):
            if re.match(r"[a-z]+:", link):  # http:, https:, mailto:
                continue
            file, _, anchor = link.partition("#")
            target = (path.parent / file) if file else path
            if not target.exists():
                bad.append(f"{path.name}:{number}: {link}: no file {file}")
            elif anchor and target.suffix == ".md" and anchor not in anchors(target):
                bad.append(f"{path.name}:{number}: {link}: no heading #{anchor} in {target.name}")
    return bad


def test_slug_follows_github() -> None:
    heading = "Coarse imagery (1.5–10 m): `detect.coarse`"
    assert slug(heading) == "coarse-imagery-1510-m-detectcoarse"
    assert slug("What it gets wrong") == "what-it-gets-wrong"


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A title\n\n## Part\n\n## Part\n", encoding="utf-8")
    doc = tmp_path / "b.md"
    doc.write_text(
        "[ok](a.md#part-1) [ok](a.md) [bad](a.md#parts) [bad](c.md) [web](https://x.org/#y)\n"
        "```\n[in code](nowhere.md)\n```\n",
        encoding="utf-8",
    )
    assert [b.split(": ", 1)[1] for b in broken_links(doc)] == [
        "a.md#parts: no heading #parts in a.md",
        "c.md: no file c.md",
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_links_reach_their_file_and_heading(doc: Path) -> None:
    assert not broken_links(doc), "\n".join(broken_links(doc))


@pytest.mark.parametrize(
    "doc", [d for d in DOCS if not d.name.endswith("-history.md")], ids=lambda p: p.name
)
def test_files_the_docs_name_exist(doc: Path) -> None:
    missing = [
        f"{doc.name}:{number}: {name}"
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1)
        for name in PATH.findall(line)
        if not any(c in name for c in "*{") and not (ROOT / name).exists()
    ]
    assert not missing, "\n".join(missing)
