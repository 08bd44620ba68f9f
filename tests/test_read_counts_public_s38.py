"""``railwatch.read_counts_csv``'s public signature (2026-12-06, session 38).

It took, beside the path, six dicts it filled as out-parameters for the CLI and
``railwatch.api`` (``zones``, ``lines``, ``zone_spans``, ``zone_misfits``,
``stated_zones``, ``unusable``), all shown in ``help(railwatch.read_counts_csv)``. It
now takes the path, ``warn`` and ``utc_offset`` and returns the series by site; what
the CLI reads beside them comes from ``csvio.read_counts_file`` as a frozen
``CountsFile``. The old keywords still fill their dicts, with a DeprecationWarning,
for one release.
"""

from __future__ import annotations

import dataclasses
import inspect
from datetime import timedelta
from pathlib import Path

import pytest

import railwatch
from railwatch.analysis.csvio import CountsFile, SourceLine, read_counts_file
from railwatch.errors import InputError

#: two sites, one line of an unusable image, and two different counts of one day
TEXT = (
    "site,date,count\n"
    "west,2024-03-01T20:00:00Z,5\n"
    "west,2024-03-02T20:00:00Z,\n"
    "east,2024-03-01T11:00:00Z,7\n"
    "east,2024-03-01T12:00:00Z,9\n"
)


def _file(tmp_path: Path, text: str = TEXT) -> Path:
    path = tmp_path / "counts.csv"
    path.write_text(text)
    return path


def test_the_public_signature_is_path_warn_and_utc_offset() -> None:
    params = inspect.signature(railwatch.read_counts_csv).parameters
    named = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    assert named == ["path", "warn", "utc_offset"]
    assert params["warn"].kind is params["utc_offset"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["warn"].default is None and params["utc_offset"].default is None
    for internal in ("zones", "lines", "zone_spans", "zone_misfits", "stated_zones"):
        assert internal not in params


def test_it_returns_the_series_by_site_and_warns(tmp_path: Path) -> None:
    notes: list[str] = []
    series = railwatch.read_counts_csv(_file(tmp_path), warn=notes.append)
    assert sorted(series) == ["east", "west"]
    west = series["west"]
    assert [p.count for p in west] == [5.0, None]  # a gap, never 0
    assert [p.usable for p in west] == [True, False]
    assert any("east" in n for n in notes), notes  # two counts of one day
    # without a site column, the one series is under ""
    one = railwatch.read_counts_csv(_file(tmp_path, "date,count\n2024-03-01,5\n"))
    assert list(one) == [""]
    # utc_offset: the site's local days (20:00 UTC at UTC+9 is the next day there), so
    # 03-01 20:00 and 03-02 10:00 UTC are one local day, said once
    text = "date,count\n2024-03-01T20:00:00Z,5\n2024-03-02T10:00:00Z,6\n"
    utc: list[str] = []
    railwatch.read_counts_csv(_file(tmp_path, text), warn=utc.append)
    local: list[str] = []
    railwatch.read_counts_csv(
        _file(tmp_path, text), warn=local.append, utc_offset=timedelta(hours=9)
    )
    assert not any("2024-03-02" in n for n in utc), utc
    assert any("2024-03-02" in n for n in local), local


def test_an_unknown_keyword_is_refused_with_what_it_takes(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="it takes path, warn and utc_offset"):
        railwatch.read_counts_csv(_file(tmp_path), zone={})


def test_the_old_keywords_still_fill_their_dicts_with_a_warning(tmp_path: Path) -> None:
    lines: dict[str, list[SourceLine]] = {}
    zones: dict[str, timedelta] = {}
    with pytest.warns(DeprecationWarning, match="read_counts_file"):
        series = railwatch.read_counts_csv(_file(tmp_path), lines=lines, zones=zones)
    assert sorted(series) == ["east", "west"]
    assert lines["west"] == [(2, "2024-03-01T20:00:00Z"), (3, "2024-03-02T20:00:00Z")]
    assert zones == {}  # no day column, no local_zone: no zone


def test_read_counts_file_gives_what_the_cli_reads_beside_the_series(tmp_path: Path) -> None:
    read = read_counts_file(_file(tmp_path))
    assert isinstance(read, CountsFile)
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.series = {}  # type: ignore[misc]
    assert read.series == railwatch.read_counts_csv(_file(tmp_path))
    assert read.lines["east"] == [(4, "2024-03-01T11:00:00Z"), (5, "2024-03-01T12:00:00Z")]
    assert read.unusable == {} and read.zone_misfits == {}
    # the unusable column is read on demand (scene import-reviews), else an unknown one
    text = "date,count,unusable\n2024-03-01,5,\n2024-03-02,,cloud over the yard\n"
    with pytest.raises(InputError, match="unusable"):
        read_counts_file(_file(tmp_path, text))
    reasons = read_counts_file(_file(tmp_path, text), unusable=True)
    assert reasons.unusable == {"": ["", "cloud over the yard"]}
    assert [p.usable for p in reasons.series[""]] == [True, False]
