"""The opt-in options of the default detector's views (``fuse``, ``handicap``, ``gate``;
session 38, review r3): with one view they would do nothing but change ``.version``
(every stored scene detected again for the same cars), so they are refused there, as
``handicap`` without ``fuse='max'`` is; a value that is no number is refused as a
DetectionError naming the option, not float()'s bare ValueError or TypeError. The
default stays what it was."""

from __future__ import annotations

from typing import Any

import pytest

from railwatch.detect.default import DefaultDetector
from railwatch.errors import DetectionError


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"fuse": "max"}, "fuse='max'"),
        ({"views": 1, "fuse": "max", "handicap": 0.1}, "fuse='max', handicap"),
        ({"gate": 0.3}, "gate"),
    ],
)
def test_view_options_with_one_view_are_refused(options: dict[str, Any], named: str) -> None:
    with pytest.raises(DetectionError, match=rf"^{named} need\(s\) views 2, 4 or 8"):
        DefaultDetector(**options)


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"views": 2, "fuse": "max", "handicap": "a tenth"}, "handicap"),
        ({"views": 2, "fuse": "max", "handicap": None}, "handicap"),
        ({"views": 2, "gate": "high"}, "gate"),
        ({"views": 2, "gate": [0.3]}, "gate"),
    ],
)
def test_a_value_that_is_no_number_is_a_detection_error(
    options: dict[str, Any], option: str
) -> None:
    with pytest.raises(DetectionError, match=f"^{option} must be a heat"):
        DefaultDetector(**options)


def test_the_default_and_the_view_options_keep_their_versions() -> None:
    plain = DefaultDetector()
    assert plain.version == DefaultDetector.version  # the card's version, no digest
    assert (plain.fuse, plain.handicap, plain.gate, plain.views) == ("mean", 0.0, None, 1)
    versions = {
        plain.version,
        DefaultDetector(views=8).version,
        DefaultDetector(views=8, fuse="max").version,
        DefaultDetector(views=8, fuse="max", handicap=0.1).version,
        DefaultDetector(views=8, fuse="max", handicap=0.1, gate=0.3).version,
        DefaultDetector(views=8, gate=0.3).version,
    }
    assert len(versions) == 6
