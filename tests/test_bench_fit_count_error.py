"""benchmarks/fit_count_error.py: recovers known error-model parameters from counts
simulated with bench_alerts.NoiseModel, and its output feeds bench_alerts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from helpers import load_benchmark

fit_count_error = load_benchmark("fit_count_error")
bench_alerts = load_benchmark("bench_alerts")


def simulate(model, n_groups: int, per_group: int, seed: int):  # type: ignore[no-untyped-def]
    """Scenes seen through ``model``: each group (a resolution) a site with its own bias,
    true counts 15-90 (as in the detection benchmark)."""
    rng = np.random.default_rng(seed)
    true, det, groups, low, high = [], [], [], [], []
    for g in range(n_groups):
        t = rng.integers(15, 91, per_group).astype(float)
        d = model.observe(t, model.site_bias(rng), rng)
        lo, hi = model.intervals(d, rng)
        true += list(t)
        det += list(d)
        low += list(lo)
        high += list(hi)
        groups += [g] * per_group
    return np.array(true), np.array(det), groups, np.array(low), np.array(high)


KNOWN = {
    "bias_mean": -0.20,
    "bias_sd": 0.10,
    "slope": -0.30,
    "df": 5.0,
    "scale": 0.20,
    "low_ratio": 0.50,
    "high_ratio": 2.00,
}


def test_recovers_known_parameters() -> None:
    model = bench_alerts.NoiseModel("known", "known", **KNOWN)
    true, det, groups, low, high = simulate(model, n_groups=40, per_group=60, seed=11)
    got = fit_count_error.fit_band(true, det, groups, low, high, bootstrap=0)
    # tolerances: 3-4 standard deviations of each estimate at this sample size (over 30
    # simulation seeds: bias mean 0.016, bias sd 0.010, slope 0.008, scale 0.004, df 0.5,
    # interval ratios 0.01; 40 site biases, 2,400 images)
    assert got["bias_mean"] == pytest.approx(KNOWN["bias_mean"], abs=0.05)
    assert got["bias_sd"] == pytest.approx(KNOWN["bias_sd"], abs=0.035)
    assert got["slope"] == pytest.approx(KNOWN["slope"], abs=0.025)
    assert got["scale"] == pytest.approx(KNOWN["scale"], abs=0.015)
    assert got["df"] == pytest.approx(KNOWN["df"], abs=1.5)
    lo_df, hi_df = got["df_ci95"]
    assert lo_df <= KNOWN["df"] <= hi_df
    # stored intervals: floor/ceil of count x ratio (jittered +-10 %; floor costs ~0.016)
    assert got["low_ratio"] == pytest.approx(KNOWN["low_ratio"], abs=0.03)
    assert got["high_ratio"] == pytest.approx(KNOWN["high_ratio"], abs=0.05)
    # the fitted model reproduces the data's mean absolute error and total error
    assert got["simulated"]["mape"] == pytest.approx(got["measured"]["mape"], rel=0.06)
    assert got["simulated"]["total_error"] == pytest.approx(
        got["measured"]["total_error"], abs=0.015
    )
    assert got["scenes_used"] == len(true)


def test_likelihood_is_student_t_and_gradient_is_right() -> None:
    rng = np.random.default_rng(0)
    g = rng.integers(0, 3, 200)
    x = rng.normal(0, 0.5, 200)
    y = np.array([-0.1, 0.0, 0.2])[g] - 0.3 * x + 0.2 * rng.standard_t(4, 200)
    params = np.array([-0.05, 0.1, 0.15, -0.2, np.log(0.25), np.log(6.0)])
    nll, grad = fit_count_error.t_nll(params, y, x, g)
    resid = y - params[:3][g] - params[3] * x
    assert nll == pytest.approx(-stats.t.logpdf(resid, 6.0, 0.0, 0.25).sum(), rel=1e-10)
    numeric = optimize.approx_fprime(params, lambda p: fit_count_error.t_nll(p, y, x, g)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_tails_tell_gaussian_from_heavy() -> None:
    """The df estimate follows the tails: Gaussian-like errors give a large df, a
    Student-t with 2.5 degrees of freedom a small one (the same scale otherwise)."""
    fits = {}
    for df in (200.0, 2.5):
        model = bench_alerts.NoiseModel("t", "t", bias_mean=-0.1, bias_sd=0.05, scale=0.2, df=df)
        true, det, groups, low, high = simulate(model, n_groups=10, per_group=150, seed=3)
        fits[df] = fit_count_error.fit_band(true, det, groups, low, high, bootstrap=0)
    assert fits[200.0]["df"] > 20
    assert fits[2.5]["df"] < 4
    assert fits[2.5]["df_ci95"][1] < fits[200.0]["df_ci95"][0]


def _report(seed: int = 5) -> dict[str, object]:
    """A bench_detect_accuracy-style report from two known models (one per band)."""
    rows: list[list[object]] = []
    rng = np.random.default_rng(seed)
    for gsds, bias in (((0.3, 0.4, 0.5), -0.05), ((0.75, 1.0), -0.3)):
        model = bench_alerts.NoiseModel("m", "m", bias_mean=bias, bias_sd=0.05, scale=0.2, df=6)
        for gsd in gsds:
            t = rng.integers(15, 91, 30).astype(float)
            d = model.observe(t, model.site_bias(rng), rng)
            lo, hi = model.intervals(d, rng)
            rows += [
                [gsd, "arid", int(a), int(b), float(b), float(c), float(e)]
                for a, b, c, e in zip(t, d, lo, hi, strict=True)
            ]
    rows.append([0.3, "arid", 0, 2, 2.0, 0.0, 4.0])  # no cars: left out
    rows.append([1.0, "arid", 20, 0, 0.0, 0.0, 3.0])  # cars, no detection: left out, counted
    return {
        "meta": {"detector": "default", "detector_version": "9.9.9", "date": "2026-01-01"},
        "objects": {"calibrated_counts": rows},
    }


def test_main_writes_provenance_and_bench_alerts_reads_it(tmp_path: Path) -> None:
    src, out = tmp_path / "detect.json", tmp_path / "count_error.json"
    src.write_text(json.dumps(_report()))
    assert fit_count_error.main([str(src), "--out", str(out), "--bootstrap", "5"]) == 0
    data = json.loads(out.read_text())
    assert data["source"]["detector_version"] == "9.9.9"
    assert data["source"]["benchmark_date"] == "2026-01-01"
    assert data["source"]["scenes"] == 152
    fine, coarse = data["models"]["measured"], data["models"]["measured-coarse"]
    assert (fine["scenes"], fine["scenes_used"]) == (91, 90)
    assert (coarse["scenes_used"], coarse["excluded_zero_detections"]) == (60, 1)
    assert fine["bias_mean"] > coarse["bias_mean"] + 0.1
    models = bench_alerts.load_noise_models(out)
    assert set(models) == {"measured", "measured-coarse", "gauss"}
    for name, fitted in (("measured", fine), ("measured-coarse", coarse)):
        m = models[name]
        for key in ("bias_mean", "bias_sd", "slope", "df", "scale", "low_ratio", "high_ratio"):
            assert getattr(m, key) == fitted[key]
        assert "9.9.9" in m.label
    assert models["gauss"] == bench_alerts.GAUSS


def test_missing_inputs_name_the_command(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"fit_count_error\.py"):
        bench_alerts.load_noise_models(tmp_path / "absent.json")
    with pytest.raises(SystemExit, match=r"bench_detect_accuracy\.py --coarse 60 --json"):
        fit_count_error.main([str(tmp_path / "absent.json"), "--out", str(tmp_path / "o")])


def test_length_model_from_the_3m_scenes_grouped_by_style(tmp_path: Path) -> None:
    """The report's 3 m scenes (``coarse.counts``) give a ``measured-3m`` model whose
    per-site bias spread is taken between styles, and bench_alerts runs it at 3 m."""
    report = _report()
    rng = np.random.default_rng(11)
    model = bench_alerts.NoiseModel("m", "m", bias_mean=-0.1, bias_sd=0.1, scale=0.3, df=8)
    counts: list[list[object]] = []
    for style in ("arid", "winter", "temperate", "continental"):
        t = rng.integers(20, 150, 15).astype(float)
        d = model.observe(t, model.site_bias(rng), rng)
        lo, hi = model.intervals(d, rng)
        counts += [
            [3.0, style, int(a), float(b), float(c), float(e)]
            for a, b, c, e in zip(t, d, lo, hi, strict=True)
        ]
    report["coarse"] = {"counts": counts}
    src, out = tmp_path / "detect.json", tmp_path / "count_error.json"
    src.write_text(json.dumps(report))
    assert fit_count_error.main([str(src), "--out", str(out), "--bootstrap", "5"]) == 0
    length = json.loads(out.read_text())["models"]["measured-3m"]
    assert length["groups"] == "style" and length["band_m"] == [3.0, 3.0]
    assert set(length["group_sizes"]) == {"arid", "winter", "temperate", "continental"}
    assert length["scale"] == pytest.approx(0.3, abs=0.1)
    models = bench_alerts.load_noise_models(out)
    assert models["measured-3m"].gsds == (3.0,)
    assert models["measured"].gsds == (0.3, 0.4, 0.5)
