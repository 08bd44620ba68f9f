"""The 3 m classifier's fit on mixed paint (2026-12-06, session 43).

``benchmarks/fit_coarse_occupancy.py --exact-paint-share P`` draws a share of the
training and tuning scenes with exact paint, chosen by seed; ``--cuts`` widens the
decoding's grid; ``benchmarks/bench_third_renderer.py --coarse-model FILE`` reads the
third renderer's 3 m yards with another classifier file (docs/detection.md, "What to do
next", the session-43 experiment).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers import load_benchmark
from railwatch.detect.coarse_model import load_model

fit = load_benchmark("fit_coarse_occupancy")

TRAIN_SEEDS = [fit.train_params(k).seed for k in range(160)]


def test_share_zero_draws_no_scene_exactly_and_share_one_every_scene() -> None:
    assert not any(fit.exact_for(s, 0.0) for s in TRAIN_SEEDS)
    assert all(fit.exact_for(s, 1.0) for s in TRAIN_SEEDS)


def test_the_choice_is_fixed_per_seed_spread_evenly_and_nested() -> None:
    half = [fit.exact_for(s, 0.5) for s in TRAIN_SEEDS]
    # the same seed the same way, whatever order the scenes are drawn in
    assert [fit.exact_for(s, 0.5) for s in reversed(TRAIN_SEEDS)] == half[::-1]
    assert 78 <= sum(half) <= 82  # about half of 160 consecutive seeds
    assert 0 < sum(half[:10]) < 10  # spread out, not in a block
    # a scene drawn exactly at share 0.3 is so at every larger share
    for s in TRAIN_SEEDS:
        if fit.exact_for(s, 0.3):
            assert fit.exact_for(s, 0.5) and fit.exact_for(s, 0.9)


def test_exact_paint_is_share_one_and_the_options_are_checked() -> None:
    assert fit.paint_share(False, None) == 0.0
    assert fit.paint_share(True, None) == 1.0
    assert fit.paint_share(False, 0.5) == 0.5
    with pytest.raises(SystemExit):
        fit.paint_share(True, 0.5)
    with pytest.raises(SystemExit):
        fit.paint_share(False, 1.5)


def test_collect_draws_the_share_by_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[int, bool]] = []

    def fake_render(params: Any, exact_paint: bool = False) -> Any:
        drawn.append((params.seed, exact_paint))
        return None

    monkeypatch.setattr(fit, "render_scene", fake_render)
    monkeypatch.setattr(fit, "scene_samples", lambda sc: None)
    for share in (0.0, 0.5, 1.0):
        drawn.clear()
        assert list(fit.collect(12, share)) == []
        assert drawn == [(s, fit.exact_for(s, share)) for s in TRAIN_SEEDS[:12]]
    assert {e for _, e in drawn} == {True}
    drawn.clear()
    list(fit.collect(12, 0.5))
    assert {e for _, e in drawn} == {True, False}


def _tiny_model() -> Any:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, len(fit.coarse.FEATURES)))
    y = (x[:, 0] > 0.5).astype(np.float64)
    return fit.fit(x, y, hidden=2, epochs=1)


def test_tuning_draws_the_share_and_tries_the_given_cuts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One real training-style scene (seed 7_300_000, 20 cars), drawn as
    :func:`exact_for` says at share 0.5, decoded with a cut below the default grid."""
    drawn: list[bool] = []
    real = fit.render_scene

    def spy(params: Any, exact_paint: bool = False) -> Any:
        drawn.append(exact_paint)
        return real(params, exact_paint=exact_paint)

    monkeypatch.setattr(fit, "render_scene", spy)
    cut, switch = fit.tune_decoding(_tiny_model(), 0, 1, 0, share=0.5, cuts=(0.2,))
    assert cut == 0.2 and switch in fit.SWITCHES
    assert drawn == [fit.exact_for(fit.train_params(0).seed, 0.5)]
    assert "cut 0.2, switch 0.0: 1 scenes" in capsys.readouterr().out


def test_the_meta_records_the_share_and_the_cut_grid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``main`` end to end with the rendering and the fit replaced: share 0 and the
    default grid leave the meta as the script wrote it before; share 0.5 and a wider
    grid are recorded, reach the tuning, and a sample cache made with another share is
    refused."""
    tuned: list[tuple[float, tuple[float, ...]]] = []

    def fake_collect(n: int, share: float) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        rng = np.random.default_rng(n)
        for k in range(n):
            x = rng.normal(size=(50, len(fit.coarse.FEATURES))).astype(np.float32)
            yield k, x, (x[:, 0] > 0).astype(np.float32)

    def fake_tune(
        model: Any, first: int, n: int, dev: int, share: float = 0.0, cuts: Any = fit.CUTS
    ) -> tuple[float, float]:
        tuned.append((share, tuple(cuts)))
        return min(cuts), 5.0

    monkeypatch.setattr(fit, "collect", fake_collect)
    monkeypatch.setattr(fit, "tune_decoding", fake_tune)
    monkeypatch.setattr(fit, "fit_ensemble", lambda x, y, h, e, s: _tiny_model())
    monkeypatch.setattr(fit, "DENSE_EVERY", 0)
    base = ["fit_coarse_occupancy.py", "--train", "10", "--tune", "3", "--tune-dev", "4"]

    def run(*extra: str) -> dict[str, Any]:
        out = tmp_path / "m.json"
        monkeypatch.setattr("sys.argv", [*base, "--out", str(out), *extra])
        assert fit.main() == 0
        return dict(json.loads(out.read_text())["meta"])

    meta = run()
    assert not [k for k in meta if "exact" in k or "cuts" in k]
    assert tuned[-1] == (0.0, fit.CUTS)

    cache = tmp_path / "samples.npz"
    meta = run("--exact-paint-share", "0.5", "--cuts", "0.2", "0.3", "--cache", str(cache))
    assert meta["exact_paint_share"] == 0.5
    assert meta["exact_paint_scenes"] == fit.paint_meta(0.5, 10, 3, 4)["exact_paint_scenes"]
    assert "exact_paint" not in meta
    assert meta["decoding_cuts"] == [0.2, 0.3]
    assert tuned[-1] == (0.5, (0.2, 0.3))
    assert float(np.load(cache)["exact_paint_share"]) == 0.5
    with pytest.raises(SystemExit):
        run("--exact-paint-share", "0.25", "--cache", str(cache))

    meta = run("--exact-paint")
    assert meta["exact_paint"] is True and meta["exact_paint_share"] == 1.0
    assert meta["exact_paint_scenes"] == "10 of 10 training, 7 of 7 tuning"


def test_third_renderer_reads_3m_yards_with_a_given_classifier_file() -> None:
    """``run_coarse`` with a classifier file: the shipped file paired with the shipped
    crowded classifier gives the shipped estimate to the digit."""
    bench = load_benchmark("bench_third_renderer")
    rows, _ = bench.run_coarse(1, 100, [("shipped", load_model())])
    (row,) = rows
    assert row["model+crowded:shipped"] == row["estimate"]
    assert row["model_crowded:shipped"] in (0.0, 1.0)
    assert "shipped, alone" in bench.models_table(rows, ["shipped"])
