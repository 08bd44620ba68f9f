"""The diagram of docs/architecture.md, read bottom up and left to right, is the layer
order that tests/test_layers.py enforces (its ``ORDER``).

test_layers checks each import against ``ORDER`` and that the page names every layer,
not that the drawing agrees with the order: until 2026-12-05 (session 33) the diagram
put the CLI left of the web layer (its rule, "within a row only those to its left",
then forbade ``railwatch serve``, which an exception had to allow) and left out the
root package ``railwatch`` that ``ORDER`` places between ``errors`` and ``limits``.
"""

from __future__ import annotations

import re
from pathlib import Path

from test_layers import ORDER

ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: A layer named in the diagram: ``railwatch.NAME`` or a bare word.
_TOKEN = re.compile(r"railwatch\.(\w+)|(?<![\w.])(\w+)(?![\w.])")


def diagram() -> list[str]:
    """The lines of the page's first code block (the layer diagram)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    match = re.search(r"```\n(.*?)```", text, re.S)
    assert match, "docs/architecture.md has no diagram (a ``` block)"
    return match.group(1).splitlines()


def layers_in_reading_order(lines: list[str]) -> list[str]:
    """The layers of ``ORDER`` as the diagram shows them: its lines from the bottom up,
    each from left to right, each layer where it is first seen."""
    known = set(ORDER)
    seen: list[str] = []
    for line in reversed(lines):
        for m in _TOKEN.finditer(line):
            name = m.group(1) or m.group(2)
            if name in known and name not in seen:
                seen.append(name)
    return seen


def test_the_reader_takes_rows_bottom_up_and_left_to_right() -> None:
    lines = [
        "   web (railwatch.web)      CLI (railwatch.cli)",
        "   settings / errors / railwatch / limits     sites (railwatch.sites)",
    ]
    assert layers_in_reading_order(lines) == [
        "settings",
        "errors",
        "railwatch",
        "limits",
        "sites",
        "web",
        "cli",
    ]


def test_the_diagram_reads_as_the_enforced_layer_order() -> None:
    shown = layers_in_reading_order(diagram())
    missing = [name for name in ORDER if name not in shown]
    assert not missing, f"the diagram of docs/architecture.md does not show {missing}"
    assert shown == ORDER, (
        "the diagram of docs/architecture.md, read bottom up and left to right, is\n"
        f"  {shown}\nbut tests/test_layers.py's ORDER is\n  {ORDER}"
    )
