"""The card's ``weights_sha256`` is kept right by every writer and checked at load
(session 29).

``export_onnx`` records the SHA-256 of the weights in their card and moves the card into
place first, so a process killed between the two moves leaves a card beside weights it
was not written for. The detector now refuses such a pair; so every other writer of
weights or of a card copied from other weights (the covered-head re-fit, ``calibrate``,
``quantize``, the decoding settings ``train --init`` carries over) must leave a digest
that matches, or valid weights would be refused. Cards without the key still load.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from railwatch.detect.default import DefaultDetector, default_weights
from railwatch.errors import DetectionError

MISMATCH = "was written for other weights than"
DIGEST_KEY = "weights_sha256"  # the card's key (default.DIGEST_KEY)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _card(weights: Path) -> dict[str, object]:
    data = json.loads(weights.with_suffix(".json").read_text())
    assert isinstance(data, dict)
    return data


def _export(path: Path, seed: int = 0) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from railwatch.detect.train import TrainConfig, build_net, export_onnx

    return export_onnx(build_net(arch="s8").eval(), path, TrainConfig(scenes=1, seed=seed))


def _shipped_with_digest(tmp_path: Path) -> Path:
    """The shipped fp32 weights with their card (no INT8 entry) recording their digest,
    as an export since session 29 would."""
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    card = json.loads(default_weights().with_suffix(".json").read_text())
    card.pop("int8", None)
    card[DIGEST_KEY] = _sha(w)
    w.with_suffix(".json").write_text(json.dumps(card))
    return w


def test_a_card_written_for_other_weights_is_refused(tmp_path: Path) -> None:
    """The state a killed export leaves: the new card beside the old weights."""
    w = _export(tmp_path / "w.onnx")
    DefaultDetector(w)  # a whole pair loads
    other = _export(tmp_path / "other.onnx", seed=8)
    assert _sha(other) != _sha(w)
    shutil.copy(other.with_suffix(".json"), w.with_suffix(".json"))
    with pytest.raises(DetectionError, match=MISMATCH) as err:
        DefaultDetector(w)
    assert "railwatch train" in str(err.value) and "w.json" in str(err.value)
    from railwatch.detect.registry import get_detector

    with pytest.raises(DetectionError, match=MISMATCH):
        get_detector(f"default:{w}")
    with pytest.raises(DetectionError, match=MISMATCH):  # INT8 path: same card
        DefaultDetector(w.with_name("w.int8.onnx"), precision="fp32")


def test_calibrate_and_quantize_refuse_a_mismatched_pair(tmp_path: Path) -> None:
    from railwatch.cli.main import main

    w = _shipped_with_digest(tmp_path)
    card = _card(w)
    card[DIGEST_KEY] = "0" * 64
    w.with_suffix(".json").write_text(json.dumps(card))
    before = w.with_suffix(".json").read_bytes()
    assert main(["calibrate", str(w), "--scenes", "1", "--styles", "temperate"]) != 0
    assert main(["quantize", str(w), "--tiles", "2"]) != 0
    assert w.with_suffix(".json").read_bytes() == before  # nothing written into it
    assert not w.with_name("w.int8.onnx").exists()


def test_cards_without_the_digest_still_load(tmp_path: Path) -> None:
    shipped = DefaultDetector()
    assert DIGEST_KEY not in shipped.card and shipped.precision == "int8"
    assert DefaultDetector(precision="fp32").precision == "fp32"
    w = _export(tmp_path / "w.onnx")
    card = _card(w)
    del card[DIGEST_KEY]  # an export before session 29
    card["threshold"] = 0.45
    w.with_suffix(".json").write_text(json.dumps(card))
    assert DefaultDetector(w).threshold == 0.45
    w.with_suffix(".json").unlink()  # no card at all
    assert DefaultDetector(w).threshold == 0.4


def test_the_digest_is_read_once_per_detector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.detect import default

    w = _shipped_with_digest(tmp_path)
    calls: list[Path] = []
    real = default.weights_sha256

    def counted(path: str | Path) -> str:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(default, "weights_sha256", counted)
    det = DefaultDetector(w)
    det.detect(np.full((300, 300, 3), 120, np.uint8), 0.5)
    det.detect(np.full((300, 300, 3), 90, np.uint8), 0.5)
    assert calls == [w]


def test_a_fresh_export_and_a_re_export_over_it_load(tmp_path: Path) -> None:
    w = _export(tmp_path / "w.onnx")
    assert _card(w)[DIGEST_KEY] == _sha(w)
    _export(w, seed=8)
    assert _card(w)[DIGEST_KEY] == _sha(w)
    DefaultDetector(w)


@pytest.mark.parametrize("layout", ["row", "fine"])
def test_the_covered_head_refit_records_its_own_weights_digest(tmp_path: Path, layout: str) -> None:
    """The re-fit copies the --init card; before, that card's digest (of the --init
    weights) came along, and the re-fitted weights were refused."""
    from railwatch.detect.covered_head import CoveredConfig, refit_covered_head

    src = _export(tmp_path / "src.onnx")
    out = tmp_path / "cov.onnx"
    cfg = CoveredConfig(
        scenes=3, epochs=1, sim_fraction=0.0, threads=1, val_share=0.34, hidden=4, layout=layout
    )
    refit_covered_head(src, out, cfg)
    card = _card(out)
    assert card[DIGEST_KEY] == _sha(out) != _sha(src)
    assert "covered_head" in card and card["config"] == _card(src)["config"]
    DefaultDetector(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cov.json",
        "cov.onnx",
        "src.json",
        "src.onnx",
    ]


def test_the_decoding_carried_from_init_keeps_the_new_digest(tmp_path: Path) -> None:
    """`train --init` carries the parent card's decoding settings, not its digest."""
    from railwatch.cli.train import _keep_decoding

    parent = _card(_export(tmp_path / "parent.onnx"))
    parent["threshold"] = 0.55
    out = _export(tmp_path / "child.onnx", seed=8)
    kept = _keep_decoding(tmp_path / "parent.onnx", out, parent)
    assert "threshold" in kept
    assert _card(out)[DIGEST_KEY] == _sha(out)
    assert DefaultDetector(out).threshold == 0.55


def test_calibrate_and_quantize_keep_the_digest(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from railwatch.cli.main import main

    w = _shipped_with_digest(tmp_path)
    digest = _sha(w)
    assert main(["calibrate", str(w), "--scenes", "1", "--styles", "temperate"]) == 0
    assert _card(w)[DIGEST_KEY] == digest and "calibration" in _card(w)
    assert main(["quantize", str(w), "--tiles", "2", "--seed", "123"]) == 0
    assert _card(w)[DIGEST_KEY] == digest and "int8" in _card(w)
    assert DefaultDetector(w).precision == "int8"
    assert DefaultDetector(w, precision="fp32").precision == "fp32"
