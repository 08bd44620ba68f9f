"""`railwatch train --init W.onnx` checks W's card before any crop is drawn (session 30).

``train --init`` carries the decoding settings of W's card (W.json) over to the new card,
and ``--covered-head --init`` copies the whole card (calibration included). A card whose
``weights_sha256`` is not the digest of W.onnx (an export stopped between its two moves,
weights replaced by hand) was passed on all the same, and a card that is not a JSON
object was dropped without a word (plain ``--init``: the new weights decoded with the
bare defaults) or failed the covered-head re-fit at its very end, after the crops were
drawn and the features computed. Both are now refused first, with exit status 2, also
without torch or onnx installed; a card without the key is accepted as before.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.detect import covered_head as covered_mod
from railwatch.detect import train as train_mod
from railwatch.detect.default import DIGEST_KEY, default_weights
from railwatch.errors import InputError

MISMATCH = "was written for other weights than"


class _Reached(Exception):
    """Raised by the stubbed bank: the checks let the run through to the crops."""


def _never(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("crops drawn before the --init card was checked")


def _reached(*_a: Any, **_k: Any) -> Any:
    raise _Reached


def _weights(tmp_path: Path, digest: str | None) -> Path:
    """A copy of the shipped fp32 weights with their card (no INT8 entry); ``digest``
    recorded as the card's ``weights_sha256`` (None: no key, as the shipped card)."""
    w = tmp_path / "parent.onnx"
    shutil.copy(default_weights(), w)
    card = json.loads(default_weights().with_suffix(".json").read_text())
    card.pop("int8", None)
    card.pop(DIGEST_KEY, None)
    if digest is not None:
        card[DIGEST_KEY] = digest
    w.with_suffix(".json").write_text(json.dumps(card))
    return w


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _argv(w: Path, out: Path, mode: list[str]) -> list[str]:
    return [
        "train",
        "--init",
        str(w),
        "--out",
        str(out),
        "--scenes",
        "2",
        "--epochs",
        "1",
        "--calibration-scenes",
        "0",
        *mode,
    ]


MODES = [[], ["--covered-head"]]


@pytest.mark.parametrize("mode", MODES, ids=["init", "covered-head"])
@pytest.mark.parametrize("without", [(), ("torch", "onnx")], ids=["extra", "no-extra"])
def test_a_card_for_other_weights_is_refused_before_any_crop(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mode: list[str],
    without: tuple[str, ...],
) -> None:
    monkeypatch.setattr(train_mod, "build_bank", _never)
    monkeypatch.setattr(train_mod, "train_model", _never)
    monkeypatch.setattr(covered_mod, "refit_covered_head", _never)
    for module in without:  # as in CI without the train extra
        monkeypatch.setitem(sys.modules, module, None)
    w = _weights(tmp_path, "0" * 64)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    out = tmp_path / "new.onnx"
    assert main(_argv(w, out, mode)) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert MISMATCH in err and "parent.json" in err and "parent.onnx" in err
    assert "put back the matching card" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written


@pytest.mark.parametrize("mode", MODES, ids=["init", "covered-head"])
@pytest.mark.parametrize("text", ["{not json", "[1, 2]", ""], ids=["bad", "list", "empty"])
def test_an_unreadable_init_card_is_refused_before_any_crop(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mode: list[str],
    text: str,
) -> None:
    monkeypatch.setattr(train_mod, "build_bank", _never)
    monkeypatch.setattr(train_mod, "train_model", _never)
    monkeypatch.setattr(covered_mod, "refit_covered_head", _never)
    monkeypatch.setitem(sys.modules, "torch", None)
    w = _weights(tmp_path, None)
    w.with_suffix(".json").write_text(text)
    assert main(_argv(w, tmp_path / "new.onnx", mode)) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "parent.json" in err and "card" in err and "move it away" in err
    assert w.with_suffix(".json").read_text() == text  # left as it was
    assert not (tmp_path / "new.onnx").exists()


@pytest.mark.parametrize("mode", MODES, ids=["init", "covered-head"])
@pytest.mark.parametrize("digest", ["right", None], ids=["matching", "no-key"])
def test_a_matching_card_or_one_without_the_digest_goes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: list[str], digest: str | None
) -> None:
    pytest.importorskip("onnx")
    monkeypatch.setattr(train_mod, "build_bank", _reached)
    monkeypatch.setattr(covered_mod, "build_bank", _reached)
    monkeypatch.setattr(train_mod, "require_train_extra", lambda: None)
    w = _weights(tmp_path, None if digest is None else _sha(default_weights()))
    from railwatch.cli.train import train

    covered = mode == ["--covered-head"]
    with pytest.raises(_Reached):
        train(
            out=tmp_path / "new.onnx",
            init=w,
            scenes=2,
            epochs=1,
            calibration_scenes=0,
            covered_head=covered,
        )


def test_the_covered_head_refit_checks_the_card_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library's refit_covered_head copies the whole card: same check, before the
    bank is drawn."""
    pytest.importorskip("onnx")
    from railwatch.detect.covered_head import CoveredConfig, refit_covered_head

    monkeypatch.setattr(covered_mod, "build_bank", _never)
    w = _weights(tmp_path, "0" * 64)
    cfg = CoveredConfig(scenes=2, epochs=1, sim_fraction=0.0, threads=1)
    with pytest.raises(InputError, match=MISMATCH):
        refit_covered_head(w, tmp_path / "cov.onnx", cfg)
    w.with_suffix(".json").write_text("{not json")
    with pytest.raises(InputError, match=r"^--init .*: cannot read the card .*\(Expecting"):
        refit_covered_head(w, tmp_path / "cov.onnx", cfg)
    assert not (tmp_path / "cov.onnx").exists()
