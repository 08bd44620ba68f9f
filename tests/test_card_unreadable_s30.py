"""A weights card that cannot be used as it is: the advice works, and no writer replaces it
(session 30).

An unreadable card (not JSON) made the detector say "re-run `railwatch calibrate` on the
weights or delete the card": but `calibrate` and `quantize` refuse the same card with the
same words, and deleting it throws away the thresholds, the calibration and the INT8
entry without saying so. A card that is valid JSON but not an object (``[1, 2]``) was
read by the detector as no card at all (the weights decoded with the bare defaults) and
silently replaced by ``calibration.update_card`` with only its new entries.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.detect.calibration import read_card, update_card
from railwatch.detect.default import DefaultDetector, default_weights
from railwatch.errors import DetectionError, InputError

BROKEN = {
    "not-json": '{"threshold": 0.45,',
    "array": "[1, 2]",
    "string": '"card"',
}


def _weights(tmp_path: Path, card_text: str) -> Path:
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(card_text)
    return w


def _advice_works(text: str, w: Path) -> None:
    """The advice: mend the card or move it away and calibrate again, saying what is
    lost; never the circular 're-run calibrate' or a bare 'delete the card'."""
    said = " ".join(text.split())
    assert "mend it" in said and "move it away" in said
    assert f"railwatch calibrate {w}" in said and f"railwatch quantize {w}" in said
    assert "count calibration" in said and "INT8 entry" in said
    assert "re-run `railwatch calibrate` on the weights" not in said
    assert "delete" not in said


@pytest.mark.parametrize("text", list(BROKEN.values()), ids=list(BROKEN))
def test_update_card_refuses_a_card_it_would_replace(tmp_path: Path, text: str) -> None:
    w = _weights(tmp_path, text)
    with pytest.raises(InputError) as err:
        update_card(w, {"threshold": 0.5})
    assert w.with_suffix(".json").read_text() == text  # not replaced
    _advice_works(str(err.value), w)
    assert not list(tmp_path.glob("*.tmp"))


def test_a_card_that_is_a_json_array_is_named_as_such(tmp_path: Path) -> None:
    w = _weights(tmp_path, "[1, 2]")
    with pytest.raises(InputError, match=r"is not a JSON object \(it holds a JSON array\)"):
        read_card(w)
    with pytest.raises(DetectionError, match=r"is not a JSON object \(it holds a JSON array\)"):
        DefaultDetector(w)


@pytest.mark.parametrize("text", list(BROKEN.values()), ids=list(BROKEN))
def test_the_detector_refuses_the_card_with_advice_that_works(tmp_path: Path, text: str) -> None:
    """Before, a non-object card was taken as no card (its calibration dropped unseen)."""
    w = _weights(tmp_path, text)
    with pytest.raises(DetectionError) as err:
        DefaultDetector(w)
    _advice_works(str(err.value), w)


def test_following_the_advice_gives_a_card_calibrate_and_the_detector_take(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """calibrate refuses the broken card with the same advice (it is not the fix), leaving
    it as it was; moved away, calibrate writes a new card that the detector loads."""
    text = BROKEN["not-json"]
    w = _weights(tmp_path, text)
    assert main(["calibrate", str(w), "--scenes", "1", "--styles", "temperate"]) != 0
    _advice_works(capsys.readouterr().err, w)
    assert w.with_suffix(".json").read_text() == text
    w.with_suffix(".json").rename(tmp_path / "w.json.broken")
    assert main(["calibrate", str(w), "--scenes", "1", "--styles", "temperate"]) == 0
    card = json.loads(w.with_suffix(".json").read_text())
    assert "calibration" in card
    assert DefaultDetector(w).calibration is not None


def test_the_detector_refuses_a_card_that_is_a_folder(tmp_path: Path) -> None:
    """A folder named like the card was taken for no card: the weights decoded with the
    default settings without a word (calibrate and quantize already refused it)."""
    import shutil

    from railwatch.detect.default import DefaultDetector, default_weights
    from railwatch.errors import DetectionError

    weights = tmp_path / "w.onnx"
    shutil.copy(default_weights(), weights)
    (tmp_path / "w.json").mkdir()
    with pytest.raises(DetectionError, match="is a folder"):
        _ = DefaultDetector(weights, precision="fp32").card
