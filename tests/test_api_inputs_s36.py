"""r4's review of railwatch.api (session 36): a notebook's wrong inputs are InputErrors
that say what to pass, not an AttributeError, IndexError or TypeError from inside.

- ``count_cars`` / ``to_geojson`` / ``to_geodataframe`` of a path, or of
  ``detect_array``'s list of detections, failed with "'str' object has no attribute
  'source'";
- ``analyze_counts``'s events given as a day alone (``[date(2023, 9, 13)]``: TypeError
  "not subscriptable") or a one-member tuple (IndexError) are said to need
  ``(day, label)`` pairs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import railwatch
from railwatch.errors import InputError


@pytest.mark.parametrize("name", ["count_cars", "to_geojson"])
@pytest.mark.parametrize("given", ["sim/yard.tif", []])
def test_a_result_not_of_detect_file_is_said(name: str, given: Any) -> None:
    kind = type(given).__name__
    with pytest.raises(InputError, match=rf"{name} takes what railwatch.detect_file returns "
                       rf"\(a DetectionResult\), not a {kind}"):  # fmt: skip
        getattr(railwatch, name)(given)


@pytest.mark.parametrize(
    "events",
    [[date(2023, 9, 13)], [("2023-09-13",)], [("2023-09-13", "summit", "extra")], ["summit"]],
)
def test_an_event_that_is_not_a_pair_is_said(events: Any) -> None:
    counts = [("2023-09-01", 3), ("2023-09-20", 4)]
    with pytest.raises(InputError, match=r"event 0 is .*: give \(day, label\) pairs"):
        railwatch.analyze_counts(counts, events)
    # a pair is still an event
    railwatch.analyze_counts(counts, [("2023-09-13", "summit")])
