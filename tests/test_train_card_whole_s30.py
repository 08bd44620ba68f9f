"""`railwatch train --init` writes the new card whole, the decoding settings carried from
the ``--init`` card (and the ``--labels`` entry) included, in the export's one move
(session 30).

They were added by two more writes after the export had moved the new weights and card
into place. With ``--out`` the ``--init`` file, the export had by then replaced the
``--init`` card, so a Ctrl-C (or a full disk) between the export and those writes lost
the parent's thresholds, string thresholds and refiner for good: the weights were left
under a card without them, and the card they came from was gone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from railwatch.cli.main import main
from railwatch.detect import calibration
from railwatch.detect.default import DIGEST_KEY, DefaultDetector, weights_sha256
from railwatch.detect.train import TrainConfig, build_net, export_onnx


def _interrupted(*_a: Any, **_k: Any) -> Any:
    raise KeyboardInterrupt  # a Ctrl-C right after the export


def test_out_the_same_as_init_keeps_the_parent_decoding_through_a_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = export_onnx(build_net(arch="s8").eval(), tmp_path / "w.onnx", TrainConfig(scenes=1))
    card = json.loads(w.with_suffix(".json").read_text())
    card["threshold"] = 0.55
    card["string_thresholds"] = {"one_side": 0.45, "two_sides": 0.35}
    w.with_suffix(".json").write_text(json.dumps(card))
    monkeypatch.setattr(calibration, "update_card", _interrupted)
    argv = ["train", "--init", str(w), "--out", str(w), "--scenes", "2", "--epochs", "1",
            "--sim-fraction", "0", "--calibration-scenes", "0", "--threads", "1"]  # fmt: skip
    assert main(argv) == 0
    new = json.loads(w.with_suffix(".json").read_text())
    assert new["threshold"] == 0.55 and new["string_thresholds"]["one_side"] == 0.45
    assert new["decoding_from"] == str(w) and new["threshold_from"] == str(w)
    assert new[DIGEST_KEY] == weights_sha256(w)
    det = DefaultDetector(w)
    assert det.threshold == 0.55 and det.string_thresholds == (0.45, 0.35)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json", "w.onnx"]
