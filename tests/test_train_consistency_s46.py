"""``railwatch train --consistency W`` (2026-12-07, session 46): a loss on the agreement
of the network's turned and mirrored views, opt-in, off by default."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.cli.main import main
from railwatch.detect import covered_head as covered_mod
from railwatch.detect import train as train_mod
from railwatch.detect.train import VIEWS, TrainConfig, _apply_augment, _turn, _unturn, _view_loss
from railwatch.errors import InputError


def test_off_by_default_and_refuses_a_negative_weight() -> None:
    assert TrainConfig().consistency == 0.0
    with pytest.raises(InputError, match="consistency"):
        TrainConfig(consistency=-1.0)
    with pytest.raises(InputError, match="consistency"):
        TrainConfig(consistency=float("nan"))


def _never(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("crops drawn before the options were checked")


def test_the_recipe_and_the_covered_head_refuse_it_before_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(train_mod, "build_bank", _never)
    monkeypatch.setattr(covered_mod, "build_bank", _never)
    monkeypatch.setitem(sys.modules, "torch", None)
    out = str(tmp_path / "w.onnx")
    assert main(["train", "--recipe", "default", "--out", out, "--consistency", "1"]) == 2
    assert "Leave out --consistency," in " ".join(capsys.readouterr().err.split())
    argv = ["train", "--covered-head", "--init", "default", "--out", out, "--consistency", "1"]
    assert main(argv) == 2
    assert "leave out --consistency" in " ".join(capsys.readouterr().err.split())
    assert main(["train", "--out", out, "--consistency", "-1"]) == 2
    assert list(tmp_path.iterdir()) == []


def test_the_seven_views_are_every_turn_and_mirror_but_the_plain_one() -> None:
    assert len(set(VIEWS)) == 7
    assert (0, False) not in VIEWS


@pytest.mark.parametrize(("k", "flip"), VIEWS)
def test_a_view_turns_as_the_augmentation_turns_a_crop(k: int, flip: bool) -> None:
    """The network input turned by ``_turn`` is the crop turned by ``_apply_augment``
    (HWC there, NCHW here), and ``_unturn`` undoes it."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    turned, _ = _apply_augment(img, [], (k, flip, np.ones(3)))
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
    got = _turn(torch, x, k, flip)[0].numpy().transpose(1, 2, 0)
    np.testing.assert_array_equal(got, turned)
    np.testing.assert_array_equal(_unturn(torch, _turn(torch, x, k, flip), k, flip).numpy(), x)


def test_the_view_loss_is_zero_for_maps_that_turn_with_the_image_and_not_otherwise() -> None:
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(1)
    out = torch.randn(2, 14, 16, 16, generator=gen)
    npos = torch.tensor(3.0)
    for k, flip in VIEWS:
        turned = _turn(torch, out, k, flip)  # a network whose maps turn with its input
        assert float(_view_loss(torch, out, turned, k, flip, npos)) == pytest.approx(0.0)
    # a network that ignores the turn: its maps differ from the plain view's turned back
    assert float(_view_loss(torch, out, out, 1, False, npos)) > 0.01
    # only the heat (0) and body (7) maps count
    other = out.clone()
    other[:, 1:7] += 5.0
    other[:, 8:] -= 5.0
    assert float(_view_loss(torch, out, other, 0, False, npos)) == pytest.approx(0.0)


def test_view_maps_are_the_views_the_detector_fuses() -> None:
    """``DefaultDetector.view_maps`` (for ``benchmarks/analyse_view_agreement.py``): its
    plain view is the one-view output, and its eight views fused are the eight-view one."""
    from railwatch.detect.default import DefaultDetector
    from railwatch.detect.model_core import fuse_views

    img = np.random.default_rng(5).integers(0, 256, (160, 200, 3), dtype=np.uint8)
    maps, scale = DefaultDetector().view_maps(img, 0.5)
    one, scale_one = DefaultDetector().predict_maps(img, 0.5)
    assert len(maps) == 8 and scale == scale_one
    np.testing.assert_array_equal(maps[0], one)
    eight, _ = DefaultDetector(views=8).predict_maps(img, 0.5)
    np.testing.assert_allclose(fuse_views(maps, "mean"), eight, rtol=1e-6, atol=1e-6)
