"""``export_onnx`` moves the card and the weights into place so that a stop between the
two moves leaves a state that can be told apart, and that the detector refuses to load
(session 29; the check at load is ``tests/test_card_digest_s29.py``'s).

Before, the weights were moved first and the card second: a process killed between the
two left the new weights beside the old card, whose calibration (and INT8, coarse
entries) then applied to them unseen, and ``railwatch quantize`` wrote its entry into
that stale card. Now the card, which records the SHA-256 of its weights
(``weights_sha256``), goes first: killed between the moves, the new card sits beside the
old weights, whose digest differs from the card's; a move that fails with an error puts
the old card back.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from railwatch.detect import train
from railwatch.detect.train import TrainConfig, build_net, export_onnx

pytest.importorskip("torch")
pytest.importorskip("onnx")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _card(weights: Path) -> dict[str, object]:
    data = json.loads(weights.with_suffix(".json").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def old(tmp_path: Path) -> Path:
    """Weights of an earlier run with a card an analyst has calibrated since."""
    w = export_onnx(build_net(arch="s8").eval(), tmp_path / "w.onnx", TrainConfig(scenes=1))
    card = _card(w)
    card["threshold"] = 0.61  # as `railwatch calibrate` leaves it
    w.with_suffix(".json").write_text(json.dumps(card))
    return w


def test_the_card_records_the_digest_of_its_weights(old: Path) -> None:
    assert _card(old)["weights_sha256"] == _sha(old)
    export_onnx(build_net(arch="s8").eval(), old, TrainConfig(scenes=1, seed=8))
    card = _card(old)
    assert card["weights_sha256"] == _sha(old) and "threshold" not in card
    assert sorted(p.name for p in old.parent.iterdir()) == ["w.json", "w.onnx"]


def test_a_killed_export_leaves_the_new_card_beside_the_old_weights(old: Path) -> None:
    """The process is killed (``os._exit``: no ``finally``, no handler) right after the
    first move: the half-done state is told apart by the card's digest."""
    before = old.read_bytes()
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from railwatch.detect import train
        real = os.replace
        def replace(src, dst):
            real(src, dst)
            os._exit(9)  # killed after the first move
        train.os.replace = replace
        train.export_onnx(
            train.build_net(arch="s8").eval(), Path({str(old)!r}),
            train.TrainConfig(scenes=1, seed=8),
        )
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert run.returncode == 9, run.stderr.decode()
    assert old.read_bytes() == before  # the old weights, whole
    card = _card(old)
    assert card["config"]["seed"] == 8  # type: ignore[index]  # the new card
    assert card["weights_sha256"] != _sha(old)  # ... which says they are not its weights
    assert "threshold" not in card  # the old calibration does not apply to other weights
    # exporting again makes a whole pair and clears the leftover
    export_onnx(build_net(arch="s8").eval(), old, TrainConfig(scenes=1, seed=8))
    assert _card(old)["weights_sha256"] == _sha(old)
    assert sorted(p.name for p in old.parent.iterdir()) == ["w.json", "w.onnx"]


@pytest.mark.parametrize("stop", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_weights_move_puts_the_old_card_back(
    old: Path, monkeypatch: pytest.MonkeyPatch, stop: BaseException
) -> None:
    before = old.read_bytes(), old.with_suffix(".json").read_bytes()
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == old:
            raise stop
        real(src, dst)

    monkeypatch.setattr(train.os, "replace", replace)
    with pytest.raises(type(stop)):
        export_onnx(build_net(arch="s8").eval(), old, TrainConfig(scenes=1, seed=8))
    assert (old.read_bytes(), old.with_suffix(".json").read_bytes()) == before
    assert sorted(p.name for p in old.parent.iterdir()) == ["w.json", "w.onnx"]
