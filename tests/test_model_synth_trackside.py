"""Track-side clutter in the procedural drawer (``model_synth.draw_yard(trackside=...)``):
off by default without touching the drawings or the random stream of the shipped
weights' recipe; when on, drawn beside the tracks and never over a car; threaded through
the training bank and ``railwatch train``. Detailed track (``track_detail``): off by
default the same way; when on, sleepers every 0.6 m."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from railwatch.detect import model_synth as ms
from railwatch.detect import train as train_mod
from railwatch.detect.model_synth import CAR_CLEARANCE, SynthCar, draw_yard
from railwatch.detect.train import TrainConfig, build_bank


def _digest(seeds: range, **kw: Any) -> str:
    h = hashlib.sha256()
    for s in seeds:
        rng = np.random.default_rng(s)
        img, cars = draw_yard(rng, 96.0, 0.3, **kw)
        h.update(img.tobytes())
        h.update(repr(cars).encode())
        h.update(rng.integers(0, 2**62, 2).tobytes())  # the stream after the drawing
    return h.hexdigest()


def test_default_is_the_drawer_of_the_shipped_weights() -> None:
    """trackside=0 (the default) takes no random number: the same images, cars and
    generator state as without the option, and as before the option existed (the
    digest of these drawings was taken before the track-side code was added, with the
    numpy and OpenCV of this project's lock; the recipe and `detect/quantize.py`
    depend on it)."""
    plain = _digest(range(6))
    assert _digest(range(6), trackside=0.0) == plain
    assert plain == "d4a39c41c01e4b160e1e0097019df78850001ddb95d5586ab658e768792596c4"
    assert _digest(range(6), trackside=1.0) != plain


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[np.ndarray], list[SynthCar]]]:
    calls: list[tuple[list[np.ndarray], list[SynthCar]]] = []
    real = ms._trackside

    def spy(*args: Any, **kw: Any) -> list[np.ndarray]:
        drawn = real(*args, **kw)
        calls.append((drawn, list(args[5])))
        return drawn

    monkeypatch.setattr(ms, "_trackside", spy)
    return calls


def test_clutter_is_drawn_and_never_over_a_car(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch)
    n_yards = 24
    for s in range(n_yards):
        draw_yard(np.random.default_rng(100 + s), 160.0, 0.25, trackside=1.0)
    # every yard with tracks gets the clutter step (one in ten has no tracks)
    assert len(calls) >= n_yards * 0.75
    drawn_yards = 0
    for drawn, cars in calls:
        if drawn:
            drawn_yards += 1
        bodies = [Polygon(ms._rect(c.cx, c.cy, c.length, c.width, c.angle)) for c in cars]
        for p in drawn:
            poly = Polygon(p).buffer(0)
            for b in bodies:
                # shadows included: at least CAR_CLEARANCE (less a little rounding) away
                assert poly.distance(b) >= CAR_CLEARANCE - 0.05
    assert drawn_yards >= len(calls) * 0.7
    assert sum(len(d) for d, _ in calls) > 20 * drawn_yards  # rows of parked cars etc.


def test_clutter_changes_the_image_beside_the_tracks(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``_trackside`` reports as drawn is in the image: the drawn area differs from
    the same yard drawn again with the clutter step turned into a no-op."""
    size, px = 160.0, 0.25
    calls = _spy(monkeypatch)
    for seed in range(7, 17):  # the first yard with tracks and clutter
        with_clutter, cars = draw_yard(np.random.default_rng(seed), size, px, trackside=1.0)
        if calls and calls[-1][0] and cars:
            break
    else:
        pytest.fail("no yard with cars and track-side clutter in ten seeds")
    monkeypatch.setattr(ms, "_trackside", lambda *a, **k: [])
    without, cars2 = draw_yard(np.random.default_rng(seed), size, px, trackside=1.0)
    # the no-op takes no random numbers, so the final distractors differ; the cars do not
    assert cars == cars2
    diff = np.abs(with_clutter.astype(int) - without.astype(int)).sum(axis=2) > 0
    assert diff.mean() > 0.02
    # the cars' pixels (away from their outlines) are untouched by the clutter (and by
    # the final distractors, which keep away from the tracks)
    mask = np.zeros(diff.shape, np.uint8)
    for c in cars:
        shrunk = ms._rect(c.cx, c.cy, c.length - 1.0, c.width - 1.0, c.angle) / px
        cv2.fillPoly(mask, [np.round(shrunk).astype(np.int32)], 1)
    assert not (diff & (mask > 0)).any()


def test_empty_yards_get_clutter_and_no_cars(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch)
    for s in range(8):
        _, cars = draw_yard(np.random.default_rng(200 + s), 128.0, 0.3, occupied=False, trackside=1)
        assert cars == []
    assert sum(1 for d, _ in calls if d) >= 5


def test_bank_draws_with_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    real = train_mod.draw_yard

    def spy(rng: np.random.Generator, size_m: float, px: float, **kw: Any) -> Any:
        seen.append(kw)
        return real(rng, size_m, px, **kw)

    monkeypatch.setattr(train_mod, "draw_yard", spy)
    build_bank(TrainConfig(scenes=6, seed=3, sim_fraction=0.0))
    assert all(kw.get("trackside", 0.0) == 0.0 and kw.get("occupied", True) for kw in seen)
    seen.clear()
    cfg = TrainConfig(scenes=40, seed=3, sim_fraction=0.0, trackside=0.6, trackside_empty=0.25)
    bank = build_bank(cfg)
    assert len(bank.images) == 40
    empty = [kw for kw in seen if kw.get("occupied") is False]
    assert 3 <= len(empty) <= 20
    assert all(kw["trackside"] == 1.0 for kw in empty)
    assert all(kw["trackside"] == 0.6 for kw in seen if kw.get("occupied", True))


def test_default_bank_is_unchanged() -> None:
    """The bank of a configuration without the options is the one drawn before them."""
    a = build_bank(TrainConfig(scenes=3, seed=11, sim_fraction=0.0))
    b = build_bank(TrainConfig(scenes=3, seed=11, sim_fraction=0.0, trackside=0.0))
    assert all((x == y).all() for x, y in zip(a.images, b.images, strict=True))


@pytest.mark.slow
def test_cli_records_the_options_in_the_card(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from typer.testing import CliRunner

    from railwatch.cli.main import build_app

    out = tmp_path / "w.onnx"
    args = ["train", "--out", str(out), "--scenes", "2", "--epochs", "1", "--threads", "1"]
    args += ["--sim-fraction", "0", "--calibration-scenes", "0"]
    r = CliRunner().invoke(build_app(), [*args, "--trackside", "0.6", "--trackside-empty", "0.2"])
    assert r.exit_code == 0, r.output
    config = json.loads(out.with_suffix(".json").read_text())["config"]
    assert config["trackside"] == 0.6
    assert config["trackside_empty"] == 0.2
    r = CliRunner().invoke(build_app(), [*args, "--trackside", "1.5"])
    assert r.exit_code != 0


def test_track_detail_off_by_default() -> None:
    """track_detail=0 keeps the drawings and stream of the shipped recipe (the digest
    above); when on, the drawings change."""
    plain = _digest(range(6))
    assert _digest(range(6), track_detail=0.0) == plain
    assert _digest(range(6), track_detail=1.0) != plain


def test_detailed_track_has_sleepers_every_0_6_m() -> None:
    """Along a drawn track (angle and offsets taken from the drawer's own call) the
    brightness repeats every 0.6 m: the sleepers."""
    calls: list[tuple[np.ndarray, float, list[float]]] = []
    real = ms._detailed_track

    def spy(cv: Any, centre: np.ndarray, ang: float, offsets: list[float], *a: Any) -> None:
        calls.append((centre.copy(), ang, list(offsets)))
        real(cv, centre, ang, offsets, *a)

    mp = pytest.MonkeyPatch()
    mp.setattr(ms, "_detailed_track", spy)
    try:
        for seed in range(30):
            calls.clear()
            img, _ = draw_yard(
                np.random.default_rng(seed), 60.0, 0.1, occupied=False, track_detail=1.0
            )
            if calls:
                break
    finally:
        mp.undo()
    assert calls, "no yard with detailed track in 30 seeds"
    centre, ang, offsets = calls[0]
    a = np.deg2rad(ang)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    o = centre + v * offsets[0] + v * 1.0  # on the sleepers, beside the rail
    t = np.arange(-12.0, 12.0, 0.05)
    pts = (o + t[:, None] * u) / 0.1
    inside = (pts >= 0).all(axis=1) & (pts < img.shape[0] - 1).all(axis=1)
    assert inside.sum() > 200, "the track runs through the image"
    g = img.astype(np.float32).mean(axis=2)
    prof = cv2.remap(
        g,
        pts[inside, 0].astype(np.float32).reshape(1, -1),
        pts[inside, 1].astype(np.float32).reshape(1, -1),
        cv2.INTER_LINEAR,
    ).ravel()
    spec = np.abs(np.fft.rfft(prof - prof.mean()))
    freq = np.fft.rfftfreq(len(prof), d=0.05)  # cycles per metre
    peak = freq[1 + int(np.argmax(spec[1:]))]
    assert abs(1.0 / peak - 0.6) < 0.05
