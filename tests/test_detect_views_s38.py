"""Max-fused and gated views of the default detector (session 38): ``fuse="max"`` takes
each cell from the view with the highest heat (so the plain view's peaks never fall, and
eight views make the boxes the same under quarter turns), ``handicap`` lowers the other
views' heat first, ``gate`` runs the other views only on tiles with a weak peak. Opt-in;
the default stays one view (docs/detection.md, "Max-fused views")."""

from __future__ import annotations

import numpy as np
import pytest

from railwatch.detect.default import DefaultDetector
from railwatch.detect.model_core import FUSE_MODES, STRIDE, decode, fuse_views
from railwatch.errors import DetectionError
from test_default_detector import HELD_OUT_SEED, _yard


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def test_max_fusion_takes_every_map_from_the_strongest_view() -> None:
    """A car only the second view sees above the threshold is kept at that view's heat,
    with that view's offsets and size; a cell where the first view is stronger keeps the
    first view's maps; the mean fusion halves the car below the threshold."""
    a = np.full((16, 10, 10), -8.0, np.float32)
    a[1:8] = 0.0
    b = a.copy()
    a[0, 4, 4], b[0, 4, 4] = _logit(0.2), _logit(0.6)  # the car: weak in the first view
    a[3, 4, 4], b[3, 4, 4] = 0.1, 0.5  # length maps differ
    a[0, 8, 1], b[0, 8, 1] = _logit(0.8), _logit(0.2)  # first view stronger here
    a[1, 8, 1], b[1, 8, 1] = 0.25, 0.75
    fused = fuse_views([a, b], "max")
    assert fused[0, 4, 4] == pytest.approx(_logit(0.6)) and fused[3, 4, 4] == pytest.approx(0.5)
    assert fused[0, 8, 1] == pytest.approx(_logit(0.8)) and fused[1, 8, 1] == pytest.approx(0.25)
    assert np.all(fused[0] >= a[0]) and np.all(fused[0] >= b[0])
    scores = sorted(r.score for r in decode(fused, 0.45))
    assert scores == pytest.approx([0.6, 0.8], abs=1e-4)
    assert [r.score for r in decode(fuse_views([a, b]), 0.45)] == pytest.approx([0.5], abs=0.01)
    # a handicap lowers the views after the first (the plain one) before the maximum
    lowered = fuse_views([a, b], "max", handicap=0.1)
    assert 1 / (1 + np.exp(-lowered[0, 4, 4])) == pytest.approx(0.5, abs=1e-5)
    assert lowered[0, 8, 1] == pytest.approx(_logit(0.8))
    assert fuse_views([a, b], "max", handicap=0.5)[3, 4, 4] == pytest.approx(0.1)  # 0.6 - 0.5 < 0.2
    with pytest.raises(ValueError, match="mean, max"):
        fuse_views([a, b], "median")


@pytest.fixture(scope="module")
def yard() -> np.ndarray:
    """A drawn yard 240 m across at 0.5 m: 480 px, a multiple of 8 working pixels, so
    that padding does not break the square's symmetry."""
    img, _ = _yard(HELD_OUT_SEED + 7, 0.5, size_m=240.0)
    assert img.shape[:2] == (480, 480)
    return img


def _centres(det: DefaultDetector, img: np.ndarray, k: int) -> np.ndarray:
    """The detected centres (x, y) in the square ``img`` turned by ``k`` quarter turns
    (np.rot90), brought back to ``img``'s frame, sorted."""
    side = img.shape[0]
    out = []
    for d in det.detect(np.ascontiguousarray(np.rot90(img, k)), 0.5):
        x, y = d.box.cx, d.box.cy
        for _ in range(k):  # np.rot90 takes (x, y) to (y, side - x)
            x, y = side - y, x
        out.append((x, y))
    return np.array(sorted(out)).reshape(-1, 2)


def _unmatched(a: np.ndarray, b: np.ndarray) -> int:
    """How many centres of ``b`` lie 0.5 px or more from every centre of ``a``."""
    d = np.hypot(b[:, None, 0] - a[None, :, 0], b[:, None, 1] - a[None, :, 1])
    return int(np.sum(d.min(axis=1) >= 0.5))


def test_eight_max_fused_views_give_the_same_cars_under_quarter_turns(
    yard: np.ndarray,
) -> None:
    """With eight views fused by their maximum every quarter turn of a square tile is
    one of its views, so the same cars are found however the yard is turned (up to a
    tie between views now and then); one view finds other counts. Without the
    across-track refiner, which reads the image itself and is not part of the views."""
    det = DefaultDetector(views=8, fuse="max", refine=False)
    plain = DefaultDetector(refine=False)
    found = [_centres(det, yard, k) for k in range(4)]
    assert len(found[0]) > 20
    assert {len(f) for f in found} == {len(found[0])}
    assert all(_unmatched(found[0], f) <= 2 for f in found[1:]), [len(f) for f in found]
    alone = [_centres(plain, yard, k) for k in range(4)]
    assert len({len(f) for f in alone}) > 1, [len(f) for f in alone]
    # the plain view's cars are all still found, within three cells (another view's peak
    # may win a neighbouring cell and place the car there; cars are 20-50 px long)
    d = np.hypot(
        alone[0][:, None, 0] - found[0][None, :, 0], alone[0][:, None, 1] - found[0][None, :, 1]
    )
    assert np.all(d.min(axis=1) < 3 * STRIDE)


def test_gate_runs_the_other_views_only_on_tiles_with_a_weak_peak(
    yard: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gated detector runs one view on a tile whose plain view has no peak between the
    gate and the threshold (and gives the plain view's boxes there), every view on one
    that has such a peak; both options change the version; bad values are refused."""
    plain = DefaultDetector()
    runs: list[int] = []
    gated = DefaultDetector(views=8, fuse="max", gate=0.3)
    original = gated._run

    def counted(path: object, x: np.ndarray) -> np.ndarray:
        runs.append(1)
        return original(path, x)  # type: ignore[arg-type]

    monkeypatch.setattr(gated, "_run", counted)
    out, _ = plain.predict_maps(yard, 0.5)
    heat = 1.0 / (1.0 + np.exp(-out[0]))
    assert np.any((heat >= 0.3) & (heat < plain.threshold))  # a weak peak in this yard
    gated.detect(yard, 0.5)
    assert len(runs) == 8
    runs.clear()
    empty = np.full_like(yard, 120)
    assert gated.detect(empty, 0.5) == plain.detect(empty, 0.5) == []
    assert len(runs) == 1
    high = DefaultDetector(views=8, fuse="max", gate=plain.threshold)
    assert [d.box for d in high.detect(yard, 0.5)] == [d.box for d in plain.detect(yard, 0.5)]
    versions = {
        DefaultDetector(views=8).version,
        DefaultDetector(views=8, fuse="max").version,
        gated.version,
        plain.version,
    }
    assert len(versions) == 4
    with pytest.raises(DetectionError, match="fuse must be one of mean, max"):
        DefaultDetector(views=2, fuse="median")
    with pytest.raises(DetectionError, match=r"handicap must be a heat .* needs fuse='max'"):
        DefaultDetector(views=2, handicap=0.1)
    assert DefaultDetector(views=8, fuse="max", handicap=0.1).version not in versions
    with pytest.raises(DetectionError, match="gate must be a heat between 0 and 1"):
        DefaultDetector(views=2, fuse="max", gate=1.5)
    assert FUSE_MODES == ("mean", "max")
