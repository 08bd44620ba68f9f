"""Review r1 of 5e3e73f (session 38): the REST counts JSON gives each point's class as
``class`` with ``cls`` beside it. A table made of those items (``csv.DictWriter`` or
``pandas.DataFrame(items).to_csv()``) has both columns, and ``analyze --counts`` (and
``scene import-reviews``, the same reader) refused it: "unknown column(s) cls". Before
5e3e73f the items had ``cls`` alone, read as ``class``. Now ``cls`` beside ``class`` is
read as the same column, a line where they differ refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.analysis.csvio import read_counts_file
from railwatch.errors import InputError

HEADER = "when,scene_id,gsd,class,cls,count,low,high,usable,clear_fraction,coverage,method,day\n"


def _line(day: int, cls: str = "tank", other: str = "tank", count: str = "21.0") -> str:
    return (
        f"2023-10-0{day}T02:00:00+00:00,{day},0.5,{cls},{other},{count},20.0,23.0,True,"
        f"0.9649442138038402,1.0,objects,2023-10-0{day}\n"
    )


def test_a_table_of_the_json_items_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(HEADER + _line(5) + _line(6, count="22.0"), encoding="utf-8")
    read = read_counts_file(path)
    points = [p for series in read.series.values() for p in series]
    assert [(p.cls, p.count) for p in points] == [("tank", 21.0), ("tank", 22.0)]


def test_class_and_cls_that_differ_are_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(HEADER + _line(5) + _line(6, other="all"), encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3: class 'tank' and cls 'all' differ"):
        read_counts_file(path)


def test_cls_alone_is_still_the_class(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text("date,cls,count\n2023-10-05,tank,4\n", encoding="utf-8")
    (point,) = read_counts_file(path).series[""]
    assert (point.cls, point.count) == ("tank", 4.0)
