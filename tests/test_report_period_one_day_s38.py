"""A report's period of one day reads as that day (session 38): the report of a site
with one image, 2023-10-05, was headed "Railcar count report · 2023-10-05 to
2023-10-05"."""

from __future__ import annotations

from datetime import date

from railwatch.report.format import fmt_period


def test_one_day_is_that_day() -> None:
    assert fmt_period((date(2023, 10, 5), date(2023, 10, 5))) == "2023-10-05"


def test_other_periods_keep_their_words() -> None:
    assert fmt_period((date(2023, 9, 1), date(2023, 10, 31))) == "2023-09-01 to 2023-10-31"
    assert fmt_period((None, date(2023, 10, 31))) == "first image to 2023-10-31"
    assert fmt_period((date(2023, 9, 1), None)) == "2023-09-01 to latest image"
    assert fmt_period((None, None)) == "all images"
