"""A table's caption wider than the terminal (or ``COLUMNS``) is wrapped to it, at
spaces only: a path or URL longer than the line stays whole on a line of its own, so it
can still be copied; where the output has no width (not a terminal, COLUMNS not set:
a pipe, a log) it stays one line, as all text (session 32).

Before, the consoles' ``soft_wrap`` (8145407: never break a path or summary at 80
columns in a log) left captions unbroken everywhere: at ``COLUMNS=40`` `scene list`'s
notes and `eval`'s captions ran 150 columns and more past the edge.
"""

from __future__ import annotations

import io

import pytest
from rich.table import Column, Table

from railwatch.cli._common import CliConsole, print_table

PATH = "/data/imagery/yard/2024/very/long/folder/name/scene_20240301_0930.tif"
CAPTION = (
    "then: railwatch scene cars ID -o cars.geojson; correct them; the image is at "
    f"{PATH} for a closer look"
)


def _table() -> Table:
    table = Table("id", Column("date", no_wrap=True), caption=CAPTION, caption_justify="left")
    table.add_row("1", "2024-03-01 09:30")
    return table


def _lines(monkeypatch: pytest.MonkeyPatch, columns: str | None, table: Table) -> list[str]:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    out = io.StringIO()
    print_table(table, CliConsole(file=out, soft_wrap=True, color_system=None))
    return out.getvalue().splitlines()


@pytest.mark.parametrize("columns", ["40", "80"])
def test_a_caption_wraps_to_the_width_keeping_words_whole(
    monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    lines = _lines(monkeypatch, columns, _table())
    width = int(columns)
    caption = lines[lines.index(next(ln for ln in lines if ln.startswith("then:"))) :]
    assert all(len(ln) <= width or ln == PATH for ln in caption), caption
    assert any(PATH in ln for ln in caption)  # whole, never cut
    assert " ".join(caption) == CAPTION  # every word, in order, broken at spaces only
    assert all(ln == ln.rstrip() for ln in caption)


def test_the_narrow_layout_wraps_its_caption(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 20 columns (the table needs 25) it is shown as blocks of "header  value" lines; its
    caption follows, wrapped, once."""
    lines = _lines(monkeypatch, "20", _table())
    text = "\n".join(lines)
    assert "┃" not in text  # the records layout
    assert text.count("then:") == 1
    caption = lines[lines.index(next(ln for ln in lines if ln.startswith("then:"))) :]
    assert all(len(ln) <= 20 or ln == PATH for ln in caption), caption
    assert PATH in caption


def test_without_a_width_the_caption_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _lines(monkeypatch, None, _table())
    assert CAPTION in lines


def test_a_caption_that_fits_is_laid_out_by_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    table = Table("id", "date", caption="✓ analyst's count", caption_justify="left")
    table.add_row("1", "2024-03-01 09:30")
    lines = _lines(monkeypatch, "40", table)
    assert lines[-1] == "✓ analyst's count"
    assert table.caption == "✓ analyst's count"  # the table is left as it was
