"""`railwatch quantize` writes its INT8 file and card entry so that no state it can stop in
goes unnoticed (session 30).

- ``NAME.int8.onnx`` an existing folder failed with an internal ``IsADirectoryError``
  after the calibration tiles were rendered, and left ``NAME.int8.onnx.tmp`` behind (the
  temporary file was removed on no failure).
- The INT8 file was moved into place before the card's ``int8`` entry was written: a
  process killed between the two left the entry (``sha256``, ``config``) describing the
  previous INT8 file, and the detector, which checked only ``source_sha256``, ran the new
  file under it unseen. The entry now goes first, and the detector checks the INT8 file's
  own SHA-256 against the entry's (once per detector).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from railwatch.cli.main import main
from railwatch.detect import quantize as quantize_mod
from railwatch.detect.default import DefaultDetector, default_weights
from railwatch.detect.quantize import QuantizeConfig, quantize_weights
from railwatch.errors import DetectionError, InputError

pytest.importorskip("onnx")  # quantize_weights needs it (the module imports it lazily)

#: Tiny calibration runs (about half a second each).
TINY = QuantizeConfig(tiles=1, tile_px=256)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _card(w: Path) -> dict[str, Any]:
    data = json.loads(w.with_suffix(".json").read_text())
    assert isinstance(data, dict)
    return data


def _fp32(tmp_path: Path) -> Path:
    """The shipped fp32 weights and their card, without the INT8 entry."""
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    card = json.loads(default_weights().with_suffix(".json").read_text())
    card.pop("int8", None)
    w.with_suffix(".json").write_text(json.dumps(card))
    return w


def _never(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("calibration tiles rendered before the INT8 path was checked")


@pytest.mark.parametrize("folder", ["w.int8.onnx", "w.int8.onnx.tmp"])
def test_a_folder_where_the_int8_file_goes_is_refused_before_the_tiles(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    folder: str,
) -> None:
    w = _fp32(tmp_path)
    (tmp_path / folder).mkdir()
    before = w.with_suffix(".json").read_bytes()
    monkeypatch.setattr(quantize_mod, "calibration_images", _never)
    with pytest.raises(InputError, match="is a folder, where railwatch quantize writes"):
        quantize_weights(w, TINY)
    assert main(["quantize", str(w), "--tiles", "1"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{tmp_path / folder} is a folder" in err and "move it away" in err
    assert "internal error" not in err and "IsADirectoryError" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["w.onnx", "w.json", folder])
    assert w.with_suffix(".json").read_bytes() == before


@pytest.mark.parametrize("step", ["_shapes_from_quantised", "_compare", "update_card"])
def test_a_failure_after_the_quantiser_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    w = _fp32(tmp_path)
    before = w.with_suffix(".json").read_bytes()

    def fail(*_a: Any, **_k: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(quantize_mod, step, fail)
    with pytest.raises(OSError, match="No space left"):
        quantize_weights(w, TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json", "w.onnx"]
    assert w.with_suffix(".json").read_bytes() == before


def _watch_the_move(monkeypatch: pytest.MonkeyPatch, w: Path, fail: bool) -> list[Any]:
    """Record, as quantize moves its INT8 file into place, the card's entry at that
    moment and the digest of the file moved; ``fail``: the move is interrupted."""
    seen: list[Any] = []

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == "w.int8.onnx":
            seen.append((_card(w).get("int8", {}).get("sha256"), _sha(Path(src))))
            if fail:
                raise KeyboardInterrupt
        os.replace(src, dst)

    monkeypatch.setattr(quantize_mod, "os", SimpleNamespace(replace=replace))
    return seen


def test_the_card_entry_is_written_before_the_int8_file_is_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between its two writes, quantize leaves an entry naming the new file beside
    the old one (which the detector refuses), not the old entry over the new file."""
    w = _fp32(tmp_path)
    seen = _watch_the_move(monkeypatch, w, fail=False)
    quantize_weights(w, TINY)
    assert len(seen) == 1
    recorded, moved = seen[0]
    assert recorded == moved  # the card already named the file being moved
    assert _card(w)["int8"]["sha256"] == _sha(tmp_path / "w.int8.onnx")
    assert DefaultDetector(w).precision == "int8"


def test_an_interrupted_move_puts_the_previous_card_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = _fp32(tmp_path)
    quantize_weights(w, TINY)
    card, int8 = w.with_suffix(".json").read_bytes(), (tmp_path / "w.int8.onnx").read_bytes()
    _watch_the_move(monkeypatch, w, fail=True)
    with pytest.raises(KeyboardInterrupt):
        quantize_weights(w, QuantizeConfig(tiles=1, tile_px=256, seed=7))
    assert w.with_suffix(".json").read_bytes() == card
    assert (tmp_path / "w.int8.onnx").read_bytes() == int8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.int8.onnx", "w.json", "w.onnx"]
    assert DefaultDetector(w).precision == "int8"


def test_the_detector_refuses_an_int8_file_its_card_does_not_record(tmp_path: Path) -> None:
    """The state a quantize killed between its writes leaves (or an INT8 file copied
    from elsewhere): the entry of one run beside the INT8 file of another, both made
    from the same fp32 weights, so source_sha256 matches."""
    w = _fp32(tmp_path)
    quantize_weights(w, TINY)
    first = (tmp_path / "w.int8.onnx").read_bytes()
    quantize_weights(w, QuantizeConfig(tiles=1, tile_px=256, seed=7))
    assert (tmp_path / "w.int8.onnx").read_bytes() != first
    (tmp_path / "w.int8.onnx").write_bytes(first)
    assert _card(w)["int8"]["source_sha256"] == _sha(w)
    for given in (w, tmp_path / "w.int8.onnx"):
        with pytest.raises(DetectionError) as err:
            DefaultDetector(given)
        said = str(err.value)
        assert "is not the INT8 file the card" in said and f"railwatch quantize {w}" in said
    fp32 = DefaultDetector(w, precision="fp32")  # the way out it names
    assert fp32.precision == "fp32" and fp32.model_path == w
    quantize_weights(w, TINY)  # and the other: quantize again
    assert DefaultDetector(w).precision == "int8"


def test_the_int8_file_is_hashed_once_per_detector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.detect import default

    w = _fp32(tmp_path)
    quantize_weights(w, TINY)
    calls: list[Path] = []
    real = default.weights_sha256

    def counted(path: str | Path) -> str:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(default, "weights_sha256", counted)
    det = DefaultDetector(w)
    det.detect(np.full((300, 300, 3), 120, np.uint8), 0.5)
    det.detect(np.full((300, 300, 3), 90, np.uint8), 0.5)
    assert calls.count(tmp_path / "w.int8.onnx") == 1


def test_the_shipped_int8_file_matches_its_entry() -> None:
    det = DefaultDetector()
    assert det.precision == "int8" and det.model_path.name == "railwatch_default.int8.onnx"
