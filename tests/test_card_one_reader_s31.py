"""The detector reads its card with the one card reader, ``calibration.read_card``
(session 31).

``DefaultDetector.card`` had its own copy of the reader beside ``read_card`` (which
calibrate, quantize and ``train --init`` use), worded otherwise: 'the detector card X is
a folder', 'cannot read the detector card X: why'. A broken card now reads the same
through the detector as through ``read_card`` (with the advice of a reader, the
detector replacing nothing), still a :class:`DetectionError` from the detector.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from railwatch.detect.calibration import read_card
from railwatch.detect.default import DefaultDetector, default_weights, unreadable_card_advice
from railwatch.errors import DetectionError, InputError

BROKEN: dict[str, str | None] = {
    "folder": None,
    "not-json": '{"threshold": 0.45,',
    "array": "[1, 2]",
    "number": "0.45",
}


def _weights(tmp_path: Path, card_text: str | None) -> Path:
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    if card_text is None:
        w.with_suffix(".json").mkdir()
    else:
        w.with_suffix(".json").write_text(card_text)
    return w


def _detector_error(w: Path) -> DetectionError:
    with pytest.raises(DetectionError) as caught:
        _ = DefaultDetector(w, precision="fp32").card
    return caught.value


@pytest.mark.parametrize("text", list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_card_reads_the_same_through_the_detector_as_through_read_card(
    tmp_path: Path, text: str | None
) -> None:
    w = _weights(tmp_path, text)
    err = _detector_error(w)
    with pytest.raises(InputError) as reader:
        read_card(w, todo=unreadable_card_advice(w))
    assert str(err) == str(reader.value)
    assert isinstance(err.__cause__, InputError)  # read_card's own error, chained
    assert "detector card" not in str(err)


@pytest.mark.parametrize("case", ["folder", "not-json"])
def test_a_folder_or_not_json_card_reads_as_calibrate_and_quantize_say_it(
    tmp_path: Path, case: str
) -> None:
    """Those words have no writer's clause: the same as ``read_card(weights)``, which
    calibrate and quantize refuse the card with."""
    w = _weights(tmp_path, BROKEN[case])
    with pytest.raises(InputError) as writers:
        read_card(w)
    assert str(_detector_error(w)) == str(writers.value)


def test_a_card_that_is_a_folder_is_named_with_its_weights(tmp_path: Path) -> None:
    w = _weights(tmp_path, None)
    assert str(_detector_error(w)) == (
        f"the card {w.with_suffix('.json')} of {w} is a folder: move it away (the card is "
        "the JSON file beside the weights)"
    )


def test_no_card_is_an_empty_card_for_both(tmp_path: Path) -> None:
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    assert read_card(w) == {} == DefaultDetector(w, precision="fp32").card
