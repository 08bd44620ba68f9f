"""`railwatch train --exact-paint P`: a share of the training crops painted at true area
(session 42).

The simulator and the procedural drawer both paint past every outline by default (cars
1.05-1.4 times their area), so the shipped network learned cars a little larger than
any real car. ``--exact-paint P`` draws that share of the simulator scenes
(``render_scene(exact_paint=True)``) and procedural yards (``draw_yard(exact=True)``,
new here) at true area. At 0 (the default) no random number is taken for it and the
crops are those of the weights up to v2.9.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.cli.main import main
from railwatch.detect import covered_head as covered_mod
from railwatch.detect import train as train_mod
from railwatch.detect.model_synth import _Canvas, _rect, draw_yard
from railwatch.errors import InputError


@pytest.mark.parametrize("px", [0.15, 0.25, 0.5])
def test_the_drawer_paints_a_car_at_its_true_area_only_when_exact(px: float) -> None:
    poly = _rect(31.3, 30.7, 14.0, 3.0, 23.0)  # 42 m^2
    areas = {}
    for exact in (False, True):
        cv = _Canvas(64, px, np.random.default_rng(0), exact=exact)
        cv.fill(poly, (255, 255, 255))
        areas[exact] = float(cv.img[..., 0].sum()) / 255 * px * px / 42.0
    assert areas[True] == pytest.approx(1.0, abs=0.01)
    assert areas[False] > 1.05  # the default spills, as documented


def test_an_exact_shade_darkens_the_true_area() -> None:
    cv = _Canvas(64, 0.25, np.random.default_rng(0), exact=True)
    cv.img[:] = 200.0
    cv.shade(_rect(32.0, 32.0, 14.0, 3.0, 40.0), 0.5)
    darkened = float((200.0 - cv.img[..., 0]).sum()) / 100.0 * 0.25 * 0.25
    assert darkened == pytest.approx(42.0, rel=0.01)


def test_an_exact_yard_is_the_same_yard_with_truer_outlines() -> None:
    """No random number is taken for the painting: the same cars, the same next draw."""
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    img_a, cars_a = draw_yard(rng_a, 160.0, 0.25)
    img_b, cars_b = draw_yard(rng_b, 160.0, 0.25, exact=True)
    assert cars_a == cars_b and len(cars_a) > 0
    assert rng_a.random() == rng_b.random()
    diff = np.abs(img_a.astype(np.float64) - img_b.astype(np.float64))
    assert 0.0 < diff.mean() < 10.0  # outlines differ, the yard does not


def test_the_share_takes_no_random_number_at_zero() -> None:
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    assert train_mod._exact_draw(train_mod.TrainConfig(), rng) == {}
    assert rng.bit_generator.state == before
    draws = [
        train_mod._exact_draw(train_mod.TrainConfig(exact_paint=0.5), rng)["exact_paint"]
        for _ in range(400)
    ]
    assert 150 < sum(draws) < 250
    assert all(
        train_mod._exact_draw(train_mod.TrainConfig(exact_paint=1.0), rng)["exact_paint"]
        for _ in range(20)
    )


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_the_config_refuses_a_share_outside_0_1(share: float) -> None:
    with pytest.raises(InputError, match="exact_paint"):
        train_mod.TrainConfig(exact_paint=share)


def test_the_synth_crop_passes_the_choice_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = train_mod.draw_yard

    def spy(*a: Any, **k: Any) -> Any:
        seen.append(bool(k.get("exact")))
        return real(*a, **k)

    monkeypatch.setattr(train_mod, "draw_yard", spy)
    train_mod.synth_sample(np.random.default_rng(1), (0.5, 0.5))
    train_mod.synth_sample(np.random.default_rng(1), (0.5, 0.5), exact_paint=True)
    assert seen == [False, True]


def _never(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("crops drawn before the options were checked")


def test_the_recipe_and_the_covered_head_refuse_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(train_mod, "build_bank", _never)
    monkeypatch.setattr(covered_mod, "build_bank", _never)
    monkeypatch.setitem(sys.modules, "torch", None)
    out = str(tmp_path / "w.onnx")
    assert main(["train", "--recipe", "default", "--out", out, "--exact-paint", "0.5"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "Leave out --exact-paint," in err
    argv = ["train", "--covered-head", "--init", "default", "--out", out, "--exact-paint", "1"]
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "leave out --exact-paint" in err
    assert main(["train", "--out", out, "--exact-paint", "2"]) == 2
    assert list(tmp_path.iterdir()) == []
