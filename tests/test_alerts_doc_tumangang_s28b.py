"""docs/alerts.md's Tumangang examples are the program's own output.

The page quotes explanations of the simulator's Tumangang scenario (true counts), said
to be "the program's own output". They were re-checked on 2026-12-02 and then left as
they were when the rules changed: the shift was quoted as raised on 2023-09-24 from
three images while the program raised it on 2023-09-20 from two (the doubling test,
session 10), and the first autumn's shift note with numbers of older rules. Every quoted
Tumangang example is checked here against `analyze_series` on the same points: each
"Tumangang, DATE (SEVERITY…):" or "Tumangang, judged as of DATE (…; SEVERITY):"
paragraph and the quote after it, and the notes quoted by their date ("…, raised on
DATE:"). A quote's "…" leaves text out; the pieces between must appear in that order.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from railwatch.analysis import Alert, analyze_series
from test_analysis_tumangang import scenario_alerts, scenario_points

DOC = Path(__file__).resolve().parents[1] / "docs" / "alerts.md"


def _blocks() -> list[str]:
    return [b.strip() for b in re.split(r"\n\s*\n", DOC.read_text(encoding="utf-8"))]


def _quote_text(block: str) -> str:
    return " ".join(line.removeprefix(">").strip() for line in block.splitlines())


Example = tuple[str, date | None, date | None, str | None, str]


def _examples() -> list[Example]:
    """(lead, alert date, as-of date, severity, quote) of every quoted Tumangang example."""
    out: list[Example] = []
    blocks = _blocks()
    for lead, quote in itertools.pairwise(blocks):
        if not quote.startswith("> "):
            continue
        one = " ".join(lead.split())
        if m := re.match(r"Tumangang, judged as of (\d{4}-\d\d-\d\d) \(.*?; (\w+)\):$", one):
            out.append((one, None, date.fromisoformat(m[1]), m[2], _quote_text(quote)))
        elif m := re.match(r"Tumangang, (\d{4}-\d\d-\d\d) \((\w+)[;)]", one):
            out.append((one, date.fromisoformat(m[1]), None, m[2], _quote_text(quote)))
        elif (m := re.search(r"raised on (\d{4}-\d\d-\d\d):$", one)) and "Tumangang" not in one:
            # a note of the same series, quoted after the example before it
            out.append((one, date.fromisoformat(m[1]), None, None, _quote_text(quote)))
    return out


def _in_order(pieces: list[str], text: str) -> bool:
    at = 0
    for piece in pieces:
        found = text.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def _alerts(as_of: date | None) -> tuple[Alert, ...]:
    if as_of is None:
        return scenario_alerts()
    pts, events = scenario_points()
    end = datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)
    return tuple(analyze_series(pts, events, as_of=end))


def test_the_page_quotes_the_tumangang_examples() -> None:
    leads = [e[0][:40] for e in _examples()]
    # the record, spike, shift (and its first autumn's note) and quality examples
    assert len(leads) >= 5, leads


@pytest.mark.parametrize("example", _examples(), ids=lambda e: e[0][:40])
def test_a_quoted_tumangang_example_is_the_programs_output(
    example: Example,
) -> None:
    lead, day, as_of, severity, quote = example
    pieces = [" ".join(p.split()) for p in quote.split("…") if p.strip()]
    alerts = [a for a in _alerts(as_of) if day is None or a.when.date() == day]
    found = [a for a in alerts if _in_order(pieces, a.explanation)]
    assert found, f"{lead!r}: no alert of the program says {quote!r}; it says: " + " | ".join(
        f"{a.when:%Y-%m-%d} {a.kind} {a.severity}: {a.explanation}" for a in alerts
    )
    if severity is not None:
        assert severity in {a.severity for a in found}, (lead, [a.severity for a in found])
