"""Detection accuracy benchmark: simulated scenes from held-out seeds, 3 m scenes, real images.

1. Objects: >= 200 simulated scenes (``railwatch.sim``) from seeds 7_000_000 + k (never
   used for training), across 0.3–1 m, all seasons, styles and paints, with haze, thin
   cloud, noise, blur, off-nadir and JPEG compression drawn at random. Each scene runs
   through ``detect_array`` (tiling + seam merge) with the named detector; truth is
   every car with at least half of its body visible (data present and clear); the
   other cars (under opaque or thin cloud, haze, cloud shadow, outside the data) are
   neither hits nor misses, and detections on them are dropped before scoring (as in
   ``validate_default_detector.py`` and the count calibration). Scored with
   ``railwatch.detect.eval`` (oriented-polygon IoU matching). Extra rows score only the
   scenes at least 80 % clear, the ones the pipeline counts (the others are stored as
   unusable, never counted).
2. Coarse: 3 m scenes (seeds 7_010_000 + k), car equivalents from
   ``coarse.estimate_occupancy`` with the scene's track centrelines and without them,
   against the visible truth count; pixels under haze or cloud shadow are not read and
   scenes under 80 % clear are left out, as in the pipeline; then where the length along
   the centrelines goes (found, missed, false beside a string, at its ends, elsewhere:
   ``length_breakdown``). ``--coarse-only`` runs just these and writes their own section
   of docs/benchmarks.md. ``--centrelines`` measures instead how the count along the
   centrelines suffers when they are drawn off the track (each line moved across it or
   turned, ``run_centrelines``; session 41) and writes its own section.
3. Real images in /work/shared/data/real (or ``--real DIR``): the Muttenz 10 cm
   orthophoto area-averaged to 0.3 and 0.5 m (README: about 21 wagons ± 3 and
   2 locomotives, 23 in all) and the China freight panel (about 6 ± 2) at its stated 0.9 m
   and at the scale its rails show (measured, and both ends of the measured interval).

    python benchmarks/bench_detect_accuracy.py [--detector default] [--scenes 210]
        [--coarse 60] [--coarse-only] [--centrelines] [--write-docs]

Targets (issue 4): F1 (IoU 0.3) >= 0.95 and count error <= 5 % at 0.3–0.5 m; F1 >= 0.90
and count error <= 10 % at 0.75–1 m; covered accuracy >= 90 %; 3 m within ±15 % on
>= 90 % of scenes; real images count error <= 10 %.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
import shapely
import shapely.affinity
from _images import read_rgb
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from railwatch.detect.api import detect_array
from railwatch.detect.base import Detection
from railwatch.detect.coarse import CONVENTIONAL_CAR_M, LineProfile, estimate_occupancy
from railwatch.detect.eval import evaluate_scene, summarise, without_matches
from railwatch.detect.geojson import FeatureSet, box_from_polygon
from railwatch.detect.registry import get_detector
from railwatch.detect.train import HELD_OUT_STYLES
from railwatch.imagery.scale import estimate_gsd_from_rails
from railwatch.sim.cars import COUPLER_GAP
from railwatch.sim.conditions import MASK_CLEAR, MASK_SNOW
from railwatch.sim.params import PAINTS, SEASONS, STYLES, SceneParams
from railwatch.sim.scene import RenderedScene, TruthCar, render_scene

SEED0 = 7_000_000
GSDS = (0.3, 0.4, 0.5, 0.75, 1.0)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- detect:start -->", "<!-- detect:end -->"
REAL_DEFAULT = Path("/work/shared/data/real")


def fig(value: float | None, digits: int = 3) -> str:
    """A precision, recall or F1 for a table: "–" where there was nothing to measure
    (``detect.eval`` gives None: no detection, or no true car)."""
    return "–" if value is None else f"{value:.{digits}f}"


def update_docs(key: str, body: str, docs: Path = DOCS) -> None:
    """Replace the ``key`` sub-section inside the detection section of docs/benchmarks.md."""
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    if START not in text:
        text = text.rstrip() + "\n\n## Detection\n\n" + START + "\n" + END + "\n"
    a, b = text.index(START) + len(START), text.index(END)
    section = text[a:b].strip("\n")
    s, e = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    if s in section and e in section:
        section = (
            section[: section.index(s) + len(s)]
            + "\n"
            + body.strip()
            + "\n"
            + section[section.index(e) :]
        )
    else:
        section = (section + "\n\n" if section else "") + s + "\n" + body.strip() + "\n" + e
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text[:a] + "\n" + section.strip("\n") + "\n" + text[b:])


def scene_params(k: int, gsd: float) -> SceneParams:
    """Held-out scene ``k``: conditions drawn from its own seed. Resolution (``k`` mod 5),
    season (``k`` mod 4), style (``k`` // 5 mod 5) and paint (``k`` // 25 mod 3) are
    crossed, so every style is seen at every resolution (until 2026-12-02 style and
    resolution both cycled with ``k`` mod 5: each style was seen at one resolution only,
    e.g. the held-out *winter* style only at 1 m)."""
    rng = np.random.default_rng(SEED0 + k)
    size = int(min(1024, max(384, round(400.0 / gsd / 32) * 32)))
    season = SEASONS[k % len(SEASONS)]
    return SceneParams(
        seed=SEED0 + k,
        gsd=gsd,
        size_px=(size, size),
        n_cars=int(rng.integers(15, 90)),
        covered_fraction=float(rng.uniform(0.0, 0.6)),
        season=season,
        snow=float(rng.uniform(0.3, 0.9)) if season == "winter" and rng.random() < 0.5 else 0.0,
        sun_elevation=float(rng.uniform(20, 70)),
        sun_azimuth=float(rng.uniform(90, 270)),
        haze=float(rng.choice([0.0, 0.0, 0.1, 0.25, 0.4])),
        cloud_cover=float(rng.choice([0.0, 0.0, 0.0, 0.05, 0.12])),
        off_nadir=float(rng.uniform(0, 20)),
        noise=float(rng.uniform(1.0, 4.0)),
        blur=float(rng.uniform(0.3, 0.9)),
        jpeg_quality=int(rng.integers(60, 95)) if rng.random() < 0.3 else None,
        style=sorted(STYLES)[(k // len(GSDS)) % len(STYLES)],
        paint=sorted(PAINTS)[(k // (len(GSDS) * len(STYLES))) % len(PAINTS)],
    )


def visible_truth(sc: RenderedScene) -> list[Detection]:
    return [
        Detection(box_from_polygon(t.polygon_px), cls=t.cls, covered=t.covered)
        for t in sc.truth
        if t.valid_fraction >= 0.5 and t.clear_fraction >= 0.5
    ]


def without_hidden(sc: RenderedScene, dets: list[Detection]) -> list[Detection]:
    """``dets`` minus those on cars the truth leaves out (less than half clear: under
    cloud, haze or cloud shadow, or outside the data). Such cars are neither hits nor
    misses; a detection of a real car under thin haze is not a false alarm."""
    hidden = [
        Detection(box_from_polygon(t.polygon_px))
        for t in sc.truth
        if not (t.valid_fraction >= 0.5 and t.clear_fraction >= 0.5)
    ]
    return without_matches(dets, hidden)


CountRow = tuple[float, str, int, int, float, float, float, bool]


def _count_rows(counts: list[CountRow]) -> list[str]:
    """Raw and calibrated scene counts against the truth, by resolution band (all scenes,
    then the usable ones: at least 80 % clear)."""
    rows = [
        "",
        "| scene counts | scenes | MAPE (detections) | MAPE (calibrated estimate) | "
        "total error (detections) | total error (calibrated) | truth inside stored 90 % interval |",
        "|---|---|---|---|---|---|---|",
    ]
    bands = {
        "0.3–0.5 m": [c for c in counts if c[0] <= 0.5],
        "0.75–1 m": [c for c in counts if c[0] > 0.5],
        "0.3–0.5 m, usable scenes": [c for c in counts if c[0] <= 0.5 and c[7]],
        "0.75–1 m, usable scenes": [c for c in counts if c[0] > 0.5 and c[7]],
    }
    for label, group in bands.items():
        g = [c for c in group if c[2] > 0]
        if not g:
            continue
        truth = np.array([c[2] for c in g], float)
        raw = np.array([c[3] for c in g], float)
        cal = np.array([c[4] for c in g], float)
        inside = np.mean([c[5] <= c[2] <= c[6] for c in g])
        rows.append(
            f"| {label} | {len(g)} | {100 * np.mean(np.abs(raw - truth) / truth):.1f} % | "
            f"{100 * np.mean(np.abs(cal - truth) / truth):.1f} % | "
            f"{100 * (raw.sum() - truth.sum()) / truth.sum():+.1f} % | "
            f"{100 * (cal.sum() - truth.sum()) / truth.sum():+.1f} % | {100 * inside:.0f} % |"
        )
    return rows


def run_objects(detector_name: str, n: int) -> tuple[dict[str, object], list[str]]:
    det = get_detector(detector_name)
    calibration = getattr(det, "calibration", None)
    scenes = []
    styles: list[str] = []
    usable: list[bool] = []  # at least 80 % clear: what the pipeline counts
    counts: list[CountRow] = []
    t_render = t_detect = 0.0
    for k in range(n):
        gsd = GSDS[k % len(GSDS)]
        t0 = time.perf_counter()
        params = scene_params(k, gsd)
        sc = render_scene(params)
        t1 = time.perf_counter()
        dets = without_hidden(sc, detect_array(sc.image, gsd, detector=det, valid=sc.valid))
        t2 = time.perf_counter()
        t_render += t1 - t0
        t_detect += t2 - t1
        truth = FeatureSet(tuple(visible_truth(sc)), None, gsd)
        scenes.append(evaluate_scene(f"sim{k}", truth, FeatureSet(tuple(dets), None, gsd)))
        styles.append(params.style)
        clear = sc.valid & np.isin(sc.mask, (MASK_CLEAR, MASK_SNOW))
        usable.append(bool(clear.sum() >= 0.8 * sc.valid.sum()))
        if calibration is not None:
            est, low, high = calibration.estimate([d.score for d in dets], gsd)
            low, high = min(low, len(dets)), max(high, len(dets))  # as counting stores it
        else:
            est = low = high = float(len(dets))
        counts.append(
            (gsd, params.style, len(truth.detections), len(dets), est, low, high, usable[-1])
        )
        if (k + 1) % 10 == 0:
            print(
                f"  {k + 1}/{n} scenes (render {t_render:.0f} s, detect {t_detect:.0f} s)",
                flush=True,
            )
    rep = summarise(scenes)
    rows = [
        "| GSD (m) | scenes | cars | P @0.3 | R @0.3 | F1 @0.3 | F1 @0.5 | count MAPE | "
        "summed abs. count error | covered acc. | class acc. | typed | typed right |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups = dict(rep["by_resolution"])
    bands = {"0.3–0.5": [], "0.75–1": []}  # type: dict[str, list]
    for s in scenes:
        bands["0.3–0.5" if (s.gsd or 0) <= 0.5 else "0.75–1"].append(s)
    held = [s for s, st in zip(scenes, styles, strict=True) if st in HELD_OUT_STYLES]
    seen = [s for s, st in zip(scenes, styles, strict=True) if st not in HELD_OUT_STYLES]
    extra = {
        f"styles {','.join(HELD_OUT_STYLES)} (never trained on)": held,
        "styles used in training": seen,
    }
    for band in ("0.3–0.5", "0.75–1"):
        extra[f"{band}, usable scenes (>= 80 % clear)"] = [
            s
            for s, u in zip(scenes, usable, strict=True)
            if u and ((s.gsd or 0) <= 0.5) == (band == "0.3–0.5")
        ]
    for label, group in [
        *groups.items(),
        *((b, summarise(v)["overall"]) for b, v in bands.items() if v),
        *((b, summarise(v)["overall"]) for b, v in extra.items() if v),
    ]:
        c = group["count"]
        i3, i5 = group.get("iou0.3", {}), group.get("iou0.5", {})
        rows.append(
            f"| {label} | {c['scenes']} | {i3.get('tp', 0) + i3.get('fn', 0)} | "
            f"{fig(i3.get('precision'))} | {fig(i3.get('recall'))} | {fig(i3.get('f1'))} | "
            f"{fig(i5.get('f1'))} | {100 * (c['mape'] or 0):.1f} % | "
            f"{100 * (c['total_relative_error'] or 0):.1f} % | "
            f"{100 * group.get('covered_accuracy', 0):.1f} % | "
            f"{100 * group.get('class_accuracy', 0):.1f} % | "
            f"{100 * group.get('typed_share', 0):.1f} % | "
            f"{100 * group.get('typed_accuracy', 0):.1f} % |"
        )
    if calibration is not None:
        rows += _count_rows(counts)
        rep["calibrated_counts"] = counts
    rows.append(f"\nRender {t_render:.0f} s, detection {t_detect:.0f} s for {n} scenes.")
    return rep, rows


def clear_and_truth(sc: RenderedScene) -> tuple[np.ndarray, int] | None:
    """A coarse scene's clear pixels (clear or snow in its quality mask) and its number
    of visible cars (at least half clear), or None when it is under 80 % clear (the
    pipeline leaves such a scene out)."""
    clear = sc.valid & np.isin(sc.mask, (MASK_CLEAR, MASK_SNOW))
    if clear.sum() < 0.8 * sc.valid.sum():
        return None
    return clear, len(_visible(sc))


def _visible(sc: RenderedScene) -> list[TruthCar]:
    """The cars a coarse scene's truth counts: at least half inside the data and clear."""
    return [t for t in sc.truth if t.valid_fraction >= 0.5 and t.clear_fraction >= 0.5]


def equivalents(lengths_m: Iterable[float]) -> float:
    """True car equivalents of cars with these body lengths: their length over couplers
    (body + ``COUPLER_GAP``) / 14 m, the quantity the occupied-length estimate measures.
    Cars longer than 14 m on average make more car equivalents than cars (the second
    renderer's average 15.4 m: about 1.17 each)."""
    return sum(float(v) + COUPLER_GAP for v in lengths_m) / CONVENTIONAL_CAR_M


def truth_equivalents(sc: RenderedScene) -> float:
    """:func:`equivalents` of a coarse scene's visible cars (those its truth counts)."""
    return equivalents(t.length_m for t in _visible(sc))


#: Where :func:`length_breakdown` puts the length along the centrelines.
BREAKDOWN = ("found", "missed", "beside", "ends", "elsewhere")
#: False length further than this from every car is "elsewhere" (metres: two track
#: spacings, beyond a string's shadow at a sun above 30 degrees).
BREAKDOWN_NEAR_M = 9.0


def car_samples(sc: RenderedScene, gsd: float) -> BaseGeometry | None:
    """The area whose samples are a car's in a coarse scene (the training label of
    ``fit_coarse_occupancy.py`` and :func:`length_breakdown`): every car's body extended
    by half the coupler gap at either end, as one geometry in pixels; None without cars."""
    pad = 0.5 * COUPLER_GAP / gsd
    cars = [t.polygon_px.buffer(pad, join_style="mitre") for t in sc.truth]
    return shapely.union_all(cars) if cars else None


def length_breakdown(
    sc: RenderedScene, profiles: Iterable[LineProfile], gsd: float
) -> dict[str, float]:
    """Where a coarse estimate's length along the centrelines goes, in metres: the
    cars' length it found and missed, and its false length beside a string (the nearest
    car lies more across the track than along it: a string's spill or shadow on the next
    line), at a string's ends (more along than across) and elsewhere (no car within
    ``BREAKDOWN_NEAR_M``). A sample is a car's when it lies in :func:`car_samples`, as
    ``fit_coarse_occupancy.py`` labels its training samples; samples without data are
    left out. Every sample stands for its spacing along the
    line."""
    out = dict.fromkeys(BREAKDOWN, 0.0)
    union = car_samples(sc, gsd)
    for prof in profiles:
        if len(prof.points) < 2:
            continue
        step_m = float(np.linalg.norm(prof.points[1] - prof.points[0])) * gsd
        ok = prof.valid
        pts = np.asarray(shapely.points(prof.points))
        on = (
            np.asarray(shapely.contains(union, pts), dtype=np.bool_)
            if union is not None
            else np.zeros(len(prof.points), dtype=np.bool_)
        )
        occ = prof.occupied & ok
        out["found"] += step_m * float((occ & on).sum())
        out["missed"] += step_m * float((~occ & on & ok).sum())
        for key, n in false_samples(prof, pts, occ & ~on, union, gsd).items():
            out[key] += step_m * n
    return out


def false_samples(
    prof: LineProfile,
    pts: np.ndarray,
    false_mask: np.ndarray,
    union: BaseGeometry | None,
    gsd: float,
) -> dict[str, int]:
    """How many of a line's false samples (``false_mask``: read occupied, no car's) lie
    beside a string (the nearest car more across the track than along it), at a
    string's ends, and elsewhere (no car within ``BREAKDOWN_NEAR_M``; all of them
    without cars): :func:`length_breakdown`'s split. ``pts``: the line's samples as
    shapely points (pixels)."""
    false = np.flatnonzero(false_mask)
    if not len(false) or union is None:
        return {"elsewhere": len(false), "beside": 0, "ends": 0}
    near = shapely.shortest_line(pts[false], union)
    coords = shapely.get_coordinates(near).reshape(-1, 2, 2)
    vec = coords[:, 1] - coords[:, 0]
    dist_m = np.hypot(vec[:, 0], vec[:, 1]) * gsd
    tang = prof.tangents[false]
    along = np.abs((vec * tang).sum(axis=1))
    across = np.abs(vec[:, 0] * tang[:, 1] - vec[:, 1] * tang[:, 0])
    far = dist_m > BREAKDOWN_NEAR_M
    return {
        "elsewhere": int(far.sum()),
        "beside": int((~far & (across >= along)).sum()),
        "ends": int((~far & (across < along)).sum()),
    }


def _breakdown_row(name: str, parts: list[dict[str, float]]) -> str:
    truth = sum(p["found"] + p["missed"] for p in parts)
    shares = [
        f"{100 * sum(p[k] for p in parts) / truth:.1f} %" if truth > 0 else "-" for k in BREAKDOWN
    ]
    return f"| {name} | {len(parts)} | " + " | ".join(shares) + " |"


def _coarse_scenes(
    n: int, start: int
) -> Iterator[tuple[SceneParams, RenderedScene, np.ndarray, int, MultiLineString] | None]:
    """The 3 m scenes of the coarse benchmark, ``n`` from ``start``: (params, scene, clear
    map, cars in the truth, track centrelines in pixels) for each scene at least 80 %
    clear, None for the others (left out as in the pipeline)."""
    for k in range(n):
        p = scene_params(start + k, 3.0).with_(
            size_px=(512, 512), n_cars=int(20 + (k * 37) % 130), cloud_cover=0.0
        )
        sc = render_scene(p)
        usable = clear_and_truth(sc)
        if usable is None:
            yield None
            continue
        clear, truth = usable
        inv = ~sc.transform
        tracks = MultiLineString(
            [LineString([inv @ xy for xy in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
        )
        yield p, sc, clear, truth, tracks


def run_coarse(n: int, start: int = 10_000) -> tuple[dict[str, object], list[str]]:
    """3 m scenes from seeds SEED0 + start + k: car equivalents along the scene's track
    centrelines (with the sun's position, as the pipeline reads it from the scene's
    metadata, and without it) and along lines found in the image, against the visible
    truth count.

    As in the object benchmark, pixels under haze, cloud or cloud shadow (the quality
    mask) are not read and cars less than half clear are not in the truth; scenes less
    than 80 % clear are unusable in the pipeline (``Settings.usable_threshold``) and
    are left out (their number is reported)."""
    errs_t, errs_s, errs_n, errs_q, inside_t = [], [], [], [], []
    counts: list[list[object]] = []  # per usable scene, for fit_count_error.py's 3 m model
    breakdown: list[tuple[float, dict[str, float]]] = []  # (sun elevation, lengths)
    skipped = 0
    for item in _coarse_scenes(n, start):
        if item is None:
            skipped += 1
            continue
        p, sc, clear, truth, tracks = item
        profiles: list[LineProfile] = []
        est_t = estimate_occupancy(
            sc.image,
            3.0,
            clear,
            tracks,
            sun=(p.sun_azimuth, p.sun_elevation),
            diagnostics=profiles,
        )
        breakdown.append((p.sun_elevation, length_breakdown(sc, profiles, 3.0)))
        no_sun = estimate_occupancy(sc.image, 3.0, clear, tracks).car_equivalents
        without = estimate_occupancy(sc.image, 3.0, clear).car_equivalents
        errs_t.append((est_t.car_equivalents - truth) / max(truth, 1))
        errs_s.append((no_sun - truth) / max(truth, 1))
        errs_n.append((without - truth) / max(truth, 1))
        eq = truth_equivalents(sc)
        errs_q.append((est_t.car_equivalents - eq) / max(eq, 1))
        inside_t.append(est_t.low <= truth <= est_t.high)
        counts.append(
            [
                3.0,
                p.style,
                truth,
                round(est_t.car_equivalents, 3),
                round(est_t.low, 3),
                round(est_t.high, 3),
            ]
        )
    et, es, en, eq_ = np.abs(errs_t), np.abs(errs_s), np.abs(errs_n), np.abs(errs_q)
    used = len(errs_t)
    rep = {
        "scenes": n,
        "usable": used,
        "seeds": f"{SEED0 + start}..{SEED0 + start + n - 1}",
        "with_tracks_within_15pct": float((et <= 0.15).mean()) if used else None,
        "with_tracks_mape": float(et.mean()) if used else None,
        "with_tracks_bias": float(np.median(errs_t)) if used else None,
        "with_tracks_interval_coverage": float(np.mean(inside_t)) if used else None,
        # against the visible cars' true car equivalents (length over couplers / 14 m)
        "with_tracks_vs_equivalents_within_15pct": float((eq_ <= 0.15).mean()) if used else None,
        "with_tracks_vs_equivalents_bias": float(np.median(errs_q)) if used else None,
        "with_tracks_no_sun_within_15pct": float((es <= 0.15).mean()) if used else None,
        "with_tracks_no_sun_mape": float(es.mean()) if used else None,
        "no_tracks_within_15pct": float((en <= 0.15).mean()) if used else None,
        "no_tracks_mape": float(en.mean()) if used else None,
        # [gsd, style, true count, car equivalents along the centrelines (with the
        # sun), low, high]
        "counts": counts,
    }
    if not used:
        return rep, [f"3 m scenes: none of {n} usable (all under 80 % clear)."]
    rows = [
        f"3 m scenes from seeds {rep['seeds']} (512 x 512 px; {used} of {n} usable, "
        f"{skipped} under 80 % clear left out as in the pipeline); pixels under haze or "
        "cloud shadow not read, truth = cars at least half clear (their number; one row "
        "against their car equivalents, the quantity the estimate measures).",
        "",
        "| 3 m, car equivalents | scenes | within ±15 % | median abs. error | mean abs. error "
        "| bias (median) | truth inside the interval |",
        "|---|---|---|---|---|---|---|",
        f"| along the scene's track centrelines, sun from the metadata | {used} | "
        f"{100 * float((et <= 0.15).mean()):.0f} % | "
        f"{100 * float(np.median(et)):.0f} % | "
        f"{100 * float(et.mean()):.0f} % | {100 * float(np.median(errs_t)):+.0f} % | "
        f"{100 * float(np.mean(inside_t)):.0f} % |",
        f"| the same, against the true car equivalents (length over couplers / 14 m) | "
        f"{used} | {100 * float((eq_ <= 0.15).mean()):.0f} % | "
        f"{100 * float(np.median(eq_)):.0f} % | "
        f"{100 * float(eq_.mean()):.0f} % | {100 * float(np.median(errs_q)):+.0f} % | - |",
        f"| along the centrelines, without the sun | {used} | "
        f"{100 * float((es <= 0.15).mean()):.0f} % | "
        f"{100 * float(np.median(es)):.0f} % | "
        f"{100 * float(es.mean()):.0f} % | {100 * float(np.median(errs_s)):+.0f} % | - |",
        f"| tracks found in the image | {used} | {100 * float((en <= 0.15).mean()):.0f} % | "
        f"{100 * float(np.median(en)):.0f} % | "
        f"{100 * float(en.mean()):.0f} % | {100 * float(np.median(errs_n)):+.0f} % | - |",
        "",
        "Where the length along the centrelines goes (first row above: with the sun), as "
        "shares of the true cars' length along the lines (samples in a car's body "
        "extended by half the coupler gap, as the classifier's training labels): found "
        "and missed; false length beside a string (the nearest car more across the track "
        "than along it: spill or shadow on the next line), at a string's ends, and "
        f"elsewhere (no car within {BREAKDOWN_NEAR_M:.0f} m).",
        "",
        "| scenes | n | found | missed | false, beside a string | false, at its ends "
        "| false, elsewhere |",
        "|---|---|---|---|---|---|---|",
        _breakdown_row("all", [b for _, b in breakdown]),
        _breakdown_row("sun below 30°", [b for e, b in breakdown if e < 30.0]),
        _breakdown_row("sun at 30° or higher", [b for e, b in breakdown if e >= 30.0]),
    ]
    rep["length_breakdown_m"] = [{"sun_elevation": e, **b} for e, b in breakdown]
    return rep, rows


def _perturbed(
    tracks: MultiLineString,
    size: tuple[int, int],
    gsd: float,
    rng: np.random.Generator,
    offset_m: float = 0.0,
    turn_deg: float = 0.0,
) -> MultiLineString:
    """A scene's centrelines (pixels) as an analyst might draw them: each line, clipped
    to the image, moved across the track by ``offset_m`` and turned about its middle by
    ``turn_deg``, each with its own random sign (session 41)."""
    box = shapely.box(0, 0, size[1], size[0])
    out: list[LineString] = []
    for line in tracks.geoms:
        part = line.intersection(box)
        pieces = [g for g in getattr(part, "geoms", [part]) if isinstance(g, LineString)]
        for piece in pieces:
            if piece.length < 2:
                continue
            g: BaseGeometry = piece
            if offset_m:
                g = piece.offset_curve(float(rng.choice((-1.0, 1.0))) * offset_m / gsd)
            if turn_deg:
                g = shapely.affinity.rotate(
                    g, float(rng.choice((-1.0, 1.0))) * turn_deg, origin="centroid"
                )
            if isinstance(g, LineString) and not g.is_empty:
                out.append(g)
    return MultiLineString(out)


#: Centreline errors ``--centrelines`` measures: (label, across-track offset in metres,
#: turn in degrees). A 0.1° turn moves the ends of a 1.4 km line by 1.2 m.
CENTRELINE_ERRORS = (
    ("exact", 0.0, 0.0),
    ("moved 0.5 m", 0.5, 0.0),
    ("moved 1 m", 1.0, 0.0),
    ("moved 1.5 m", 1.5, 0.0),
    ("moved 2 m", 2.0, 0.0),
    ("moved 3 m", 3.0, 0.0),
    ("turned 0.1°", 0.0, 0.1),
    ("turned 0.2°", 0.0, 0.2),
    ("moved 1 m and turned 0.1°", 1.0, 0.1),
)


def run_centrelines(n: int, start: int = 10_000) -> tuple[dict[str, object], list[str]]:
    """How accurate the centrelines must be (session 41): the 3 m scenes of
    :func:`run_coarse`, car equivalents along the scene's exact centrelines (with the
    sun) and along the same lines each moved across the track and/or turned
    (:data:`CENTRELINE_ERRORS`, random sign per line, drawn from the scene's seed)."""
    errs: dict[str, list[float]] = {label: [] for label, _, _ in CENTRELINE_ERRORS}
    sums = dict.fromkeys(errs, 0.0)
    truth_sum = 0
    skipped = 0
    for item in _coarse_scenes(n, start):
        if item is None:
            skipped += 1
            continue
        p, sc, clear, truth, tracks = item
        truth_sum += truth
        for label, off, turn in CENTRELINE_ERRORS:
            rng = np.random.default_rng(p.seed + 1)
            lines = _perturbed(tracks, sc.image.shape[:2], 3.0, rng, off, turn)
            est = estimate_occupancy(
                sc.image, 3.0, clear, lines, sun=(p.sun_azimuth, p.sun_elevation)
            ).car_equivalents
            errs[label].append((est - truth) / max(truth, 1))
            sums[label] += est
    used = len(errs["exact"])
    rep: dict[str, object] = {
        "scenes": n,
        "usable": used,
        "seeds": f"{SEED0 + start}..{SEED0 + start + n - 1}",
        "truth_sum": truth_sum,
        "errors": {
            label: {
                "within_15pct": float((np.abs(e) <= 0.15).mean()) if used else None,
                "median_abs": float(np.median(np.abs(e))) if used else None,
                "bias": float(np.median(e)) if used else None,
                "sum": round(sums[label], 1),
            }
            for label, e in errs.items()
        },
    }
    rows = [
        f"3 m scenes from seeds {rep['seeds']} ({used} of {n} usable, {skipped} under 80 % "
        "clear left out), car equivalents with the sun's position, along the scene's exact "
        "centrelines and along the same lines each moved across the track and/or turned "
        "about its middle (random sign per line; the lines are clipped to the 1.5 km image, "
        "so a 0.1° turn moves a line's ends by up to about 1.3 m).",
        "",
        "| centrelines | within ±15 % | median abs. error | bias (median) | sum / truth |",
        "|---|---|---|---|---|",
    ]
    for label, e in errs.items():
        a = np.abs(e)
        rows.append(
            f"| {label} | {100 * float((a <= 0.15).mean()):.0f} % | "
            f"{100 * float(np.median(a)):.0f} % | {100 * float(np.median(e)):+.0f} % | "
            f"{sums[label]:.0f} / {truth_sum} ({100 * sums[label] / max(truth_sum, 1):.0f} %) |"
        )
    return rep, rows


def run_real(detector_name: str, real: Path) -> tuple[list[dict[str, object]], list[str]]:
    det = get_detector(detector_name)
    cases = []
    mutt = real / "muttenz_10cm.png"
    if mutt.is_file():
        img = read_rgb(mutt)
        for gsd in (0.3, 0.5):
            f = gsd / 0.1
            small = cv2.resize(
                img,
                (round(img.shape[1] / f), round(img.shape[0] / f)),
                interpolation=cv2.INTER_AREA,
            )
            cases.append((f"muttenz_10cm.png → {gsd} m", small, gsd, 23, 3))
    china = real / "china_freight_panel.png"
    if china.is_file():
        img = read_rgb(china)
        cases.append(("china_freight_panel.png (0.9 m, as its README states)", img, 0.9, 6, 2))
        # its rails show about 0.235 m per pixel (railwatch.imagery.scale; by hand 0.23-0.25
        # m, docs/detection-history.md "Real development images"); the count is unstable within that
        # interval, so both ends are reported too
        scale = estimate_gsd_from_rails(img)
        if scale.measured and scale.gsd is not None:
            for what, g in (
                ("measured from its rails", scale.gsd),
                ("low end of that interval", scale.gsd_low),
                ("high end of that interval", scale.gsd_high),
            ):
                if g is not None:
                    g = round(float(g), 3)
                    cases.append((f"china_freight_panel.png ({g} m, {what})", img, g, 6, 2))
    out, rows = (
        [],
        [
            "| image | GSD (m) | README count | detected | error | calibrated count (90 %) |",
            "|---|---|---|---|---|---|",
        ],
    )
    calibration = getattr(det, "calibration", None)
    for name, img, gsd, truth, tol in cases:
        dets = detect_array(img, gsd, detector=det)
        n = len(dets)
        est = calibration.estimate([d.score for d in dets], gsd) if calibration else None
        err = (n - truth) / truth
        out.append(
            {
                "image": name,
                "gsd": gsd,
                "truth": truth,
                "tolerance": tol,
                "detected": n,
                "error": err,
                "calibrated": est,
            }
        )
        cal_txt = f"{est[0]:.0f} ({est[1]:.0f}–{est[2]:.0f})" if est else "-"
        rows.append(f"| {name} | {gsd} | {truth} (±{tol}) | {n} | {100 * err:+.0f} % | {cal_txt} |")
    return out, rows


def _detector_version(name: str) -> str | None:
    """The named detector's version (recorded in the ``--json`` report), None if it
    cannot be loaded (the object scenes then report why)."""
    try:
        version = getattr(get_detector(name), "version", None)
    except Exception:
        return None
    return None if version is None else str(version)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="default")
    ap.add_argument("--scenes", type=int, default=210)
    ap.add_argument("--coarse", type=int, default=60)
    ap.add_argument(
        "--coarse-only",
        action="store_true",
        help="run only the 3 m scenes (no object scenes, no real images)",
    )
    ap.add_argument(
        "--coarse-start",
        type=int,
        default=10_000,
        help="first 3 m scene index (seed = 7_000_000 + index); development used 50_000+",
    )
    ap.add_argument(
        "--centrelines",
        action="store_true",
        help="run only the 3 m scenes' sensitivity to centrelines drawn off the track "
        "(moved across it, turned; --coarse scenes from --coarse-start)",
    )
    ap.add_argument("--real", type=Path, default=REAL_DEFAULT)
    ap.add_argument("--json", type=Path, help="also write the full report here")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()} {os.cpu_count()} cores, CPython {platform.python_version()}"
    t0 = time.perf_counter()
    report: dict[str, object] = {
        "meta": {
            "detector": args.detector,
            "detector_version": _detector_version(args.detector),
            "date": stamp,
            "machine": machine,
            "load_average_start": os.getloadavg()[0],
            "scenes": args.scenes,
            "coarse_scenes": args.coarse,
        }
    }
    lines = [
        f"Detection accuracy (`benchmarks/bench_detect_accuracy.py --detector {args.detector}`), "
        f"{stamp}, {machine}. Simulated scenes from held-out seeds {SEED0}+k; truth = cars at "
        "least half clear and inside the data; detections on the other cars (under cloud, "
        "haze or cloud shadow) are neither hits nor false alarms. Resolution, season, style "
        "and paint are crossed (`scene_params`; before 2026-12-02 style and resolution cycled "
        "together, so each style was seen at one resolution only).",
        "",
    ]
    coarse_lines: list[str] = []
    if args.centrelines:
        tc = time.perf_counter()
        rep_l, rows = run_centrelines(args.coarse, args.coarse_start)
        text = "\n".join(
            [
                f"Centreline accuracy (`benchmarks/bench_detect_accuracy.py --centrelines "
                f"--coarse {args.coarse}"
                + (f" --coarse-start {args.coarse_start}" if args.coarse_start != 10_000 else "")
                + f"`), {stamp}, {machine}, load average {os.getloadavg()[0]:.1f} at the start.",
                "",
                *rows,
                "",
                f"Run time {time.perf_counter() - tc:.0f} s.",
            ]
        )
        print(text)
        if args.json:
            args.json.write_text(json.dumps({**report, "centrelines": rep_l}, indent=2))
        if args.write_docs:
            update_docs("detect-centrelines", text)
        return 0
    if args.scenes and not args.coarse_only:
        try:
            rep, rows = run_objects(args.detector, args.scenes)
            report["objects"] = rep
            lines += rows
        except Exception as err:  # e.g. the default detector's weights are missing
            lines.append(f"Object scenes not run: {type(err).__name__}: {err}")
        lines.append("")
    if args.coarse:
        tc = time.perf_counter()
        rep_c, rows = run_coarse(args.coarse, args.coarse_start)
        report["coarse"] = rep_c
        coarse_lines = [
            f"Coarse estimate (`benchmarks/bench_detect_accuracy.py --coarse {args.coarse}"
            + (" --coarse-only" if args.coarse_only else "")
            + (f" --coarse-start {args.coarse_start}" if args.coarse_start != 10_000 else "")
            + f"`), {stamp}, {machine}, load average {os.getloadavg()[0]:.1f} at the start.",
            "",
            *rows,
            "",
            f"Run time {time.perf_counter() - tc:.0f} s.",
        ]
    if not args.coarse_only:
        try:
            rep_r, rows = run_real(args.detector, args.real)
            report["real"] = rep_r
            lines += rows
        except Exception as err:
            lines.append(f"Real images not run: {type(err).__name__}: {err}")
    lines.append(f"\nTotal run time {time.perf_counter() - t0:.0f} s.")
    text = "\n".join(lines)
    coarse_text = "\n".join(coarse_lines)
    if not args.coarse_only:
        print(text)
    if coarse_lines:
        print(coarse_text)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    if args.write_docs:
        if not args.coarse_only:
            update_docs("detect-accuracy", text)
        if coarse_lines:
            update_docs("detect-coarse", coarse_text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
