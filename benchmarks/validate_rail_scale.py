"""Validate the scale measured from the rails (railwatch.imagery.scale) where the answer
is known, and write the table into docs/detection.md (between ``<!-- rail-scale:start -->``
and ``<!-- rail-scale:end -->``).

Cases:
- Muttenz (SWISSIMAGE orthophoto, exactly 0.10 m, standard gauge) area-averaged to 0.10,
  0.15, 0.20, 0.25, 0.30, 0.35, 0.40 and 0.50 m: truth exact.
- The China panel (standard gauge): no exact truth; its rails and wagons put it at
  0.22-0.25 m (docs/detection-history.md, correction of 2026-12-02).
- Simulator scenes (railwatch.sim draws two rails per track, 1520 mm gauge, 0.24 m wide
  lines at ±0.79 m, i.e. 1.58 m between centres): measured with 1.58 m so the truth is
  the scene's gsd; several seeds per resolution.
- Muttenz variants: JPEG, rotated, and upsampled 1.5-3× (resampled figures; truth from
  the sizes).
- Images without track, which must not be measured: the gardens above the Muttenz
  tracks, the forest below the China panel's tracks, a fractal ground texture of the
  simulator.

Needs /work/shared/data/real (skips the real cases when absent). Run:

    nice -n 15 .venv/bin/python benchmarks/validate_rail_scale.py [--no-write]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from _images import read_rgb

from railwatch.imagery.scale import RailScale, estimate_gsd_from_rails

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
DOCS = ROOT / "docs" / "detection.md"
START, END = "<!-- rail-scale:start -->", "<!-- rail-scale:end -->"
SIM_RAIL_CENTRES_M = 1.58  # railwatch.sim.render: rails at ±0.79 m from the centreline
MUTTENZ_GSDS = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.50)
SIM_GSDS = (0.15, 0.20, 0.25, 0.30, 0.50)
SIM_SEEDS = (1, 2, 3, 4)


def _down(img: np.ndarray, factor: float) -> np.ndarray:
    if factor == 1.0:
        return img
    h, w = img.shape[:2]
    return cv2.resize(img, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA)


def _up(img: np.ndarray, k: float, interp: int = cv2.INTER_CUBIC) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (round(w * k), round(h * k)), interpolation=interp)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    if out is None:
        raise RuntimeError(f"JPEG round trip at quality {quality} failed (OpenCV)")
    return out


def _rotate(img: np.ndarray, angle: float) -> np.ndarray:
    h, w = img.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, rot, (w, h), flags=cv2.INTER_LINEAR, borderValue=(128, 128, 128))


def _fmt(r: RailScale) -> tuple[str, str, str]:
    if not r.measured or r.gsd is None:
        return "not measured", "", r.reason.split(":")[0].split(" (")[0]
    return (
        f"{r.gsd:.3f} ({r.gsd_low:.3f}–{r.gsd_high:.3f})",
        f"{r.spacing_px:.2f}",
        f"{r.strips} strips",
    )


def run() -> tuple[list[str], dict[str, float]]:
    rows: list[str] = []
    stats: dict[str, float] = {}
    t0 = time.perf_counter()
    errs: list[float] = []
    if (REAL / "muttenz_10cm.png").is_file():
        m = read_rgb(REAL / "muttenz_10cm.png")
        for g in MUTTENZ_GSDS:
            img = _down(m, g / 0.10)
            r = estimate_gsd_from_rails(img)
            est, sp, note = _fmt(r)
            err = "" if r.gsd is None else f"{100 * (r.gsd / g - 1):+.1f} %"
            if r.gsd is not None:
                errs.append(abs(r.gsd / g - 1))
            rows.append(
                f"| Muttenz, area-averaged | {img.shape[1]}×{img.shape[0]} | {g:.2f} "
                f"| {1.505 / g:.2f} | {est} | {sp} | {err} | {note} |"
            )
        variants = (
            ("JPEG quality 40", 0.30, lambda im: _jpeg(im, 40)),
            ("rotated 45°", 0.30, lambda im: _rotate(im, 45.0)),
            ("upsampled 2× (cubic)", 0.30, lambda im: _up(im, 2)),
            ("upsampled 3× (cubic)", 0.30, lambda im: _up(im, 3)),
            ("upsampled 2× (cubic)", 0.20, lambda im: _up(im, 2)),
            ("upsampled 1.5× (linear)", 0.25, lambda im: _up(im, 1.5, cv2.INTER_LINEAR)),
        )
        for what, g0, fn in variants:
            base = _down(m, g0 / 0.10)
            img = fn(base)
            g = 0.10 * m.shape[1] / img.shape[1]  # exact, from the sizes
            r = estimate_gsd_from_rails(img)
            est, sp, note = _fmt(r)
            err = "" if r.gsd is None else f"{100 * (r.gsd / g - 1):+.1f} %"
            rows.append(
                f"| Muttenz at {g0:.2f} m, {what} | {img.shape[1]}×{img.shape[0]} | {g:.3f} "
                f"| {1.505 / g:.2f} | {est} | {sp} | {err} | {note} |"
            )
        c = read_rgb(REAL / "china_freight_panel.png")
        r = estimate_gsd_from_rails(c)
        est, sp, note = _fmt(r)
        rows.append(
            f"| China panel (README: 0.8–1.0) | {c.shape[1]}×{c.shape[0]} | 0.22–0.25 "
            f"(by hand: rails, wagons) | 6.0–6.5 (by hand) | {est} | {sp} | | {note} |"
        )
        native = r.gsd
        for k, interp, label in ((2.0, cv2.INTER_CUBIC, "cubic"), (1.5, cv2.INTER_CUBIC, "cubic")):
            img = _up(c, k, interp)
            r = estimate_gsd_from_rails(img)
            est, sp, note = _fmt(r)
            exp = "" if native is None else f"{native * c.shape[1] / img.shape[1]:.3f}"
            err = (
                ""
                if r.gsd is None or native is None
                else f"{100 * (r.gsd / (native * c.shape[1] / img.shape[1]) - 1):+.1f} % "
                "(against the panel's own)"
            )
            rows.append(
                f"| China panel upsampled {k:g}× ({label}) | {img.shape[1]}×{img.shape[0]} | "
                f"{exp} (panel's measured / {k:g}) | | {est} | {sp} | {err} | {note} |"
            )
        for name, crop in (
            ("Muttenz gardens (rows 0–140, no track)", m[0:140]),
            ("Muttenz gardens at 0.2 m", _down(m[0:140], 2.0)),
            ("China forest (rows 220–303, cols 330–541)", c[220:303, 330:541]),
            ("China forest, upsampled 3× (cubic)", _up(c[220:303, 330:541], 3)),
            ("Muttenz gardens, upsampled 2× (cubic)", _up(m[0:140], 2)),
        ):
            r = estimate_gsd_from_rails(crop)
            est, sp, note = _fmt(r)
            rows.append(
                f"| {name} | {crop.shape[1]}×{crop.shape[0]} | – | – | {est} | {sp} | "
                f"{'**false scale**' if r.measured else 'correct refusal'} | {note} |"
            )
    from railwatch.sim import SceneParams, render_scene
    from railwatch.sim.conditions import fractal

    for g in SIM_GSDS:
        for seed in SIM_SEEDS:
            sc = render_scene(SceneParams(seed=seed, gsd=g, size_px=(600, 600), n_cars=12))
            r = estimate_gsd_from_rails(sc.image, rail_centres_m=SIM_RAIL_CENTRES_M)
            est, sp, note = _fmt(r)
            err = "" if r.gsd is None else f"{100 * (r.gsd / g - 1):+.1f} %"
            rows.append(
                f"| simulator seed {seed} (1.58 m rails) | 600×600 | {g:.2f} | "
                f"{SIM_RAIL_CENTRES_M / g:.2f} | {est} | {sp} | {err} | {note} |"
            )
    rng = np.random.default_rng(7)
    tex = fractal(rng, (512, 512), 0.3)
    tex = (255 * (tex - tex.min()) / max(float(np.ptp(tex)), 1e-6)).astype(np.uint8)
    for name, img in (
        ("simulator fractal ground texture (no track)", np.stack([tex] * 3, axis=-1)),
        ("the same, upsampled 2× (cubic)", _up(np.stack([tex] * 3, axis=-1), 2)),
    ):
        r = estimate_gsd_from_rails(img)
        est, sp, note = _fmt(r)
        rows.append(
            f"| {name} | {img.shape[1]}×{img.shape[0]} | – | – | {est} | {sp} | "
            f"{'**false scale**' if r.measured else 'correct refusal'} | {note} |"
        )
    stats["seconds"] = time.perf_counter() - t0
    stats["muttenz_max_abs_err"] = max(errs) if errs else float("nan")
    return rows, stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    rows, stats = run()
    head = (
        "| image | size px | truth m/px | truth rail spacing px | measured m/px (interval) "
        "| spacing px | error | strips / reason |\n|---|---|---|---|---|---|---|---|"
    )
    body = (
        f"Machine: {platform.node()} ({platform.processor() or platform.machine()}, "
        f"{platform.python_version()}); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load: "
        f"`{load}`; command: `nice -n 15 .venv/bin/python benchmarks/validate_rail_scale.py`; "
        f"{stats['seconds']:.1f} s for all cases.\n\n" + head + "\n" + "\n".join(rows) + "\n"
    )
    print(body)
    if args.no_write:
        return
    text = DOCS.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"markers {START} / {END} not found in {DOCS}")
    a = text.index(START) + len(START)
    b = text.index(END)
    DOCS.write_text(text[:a] + "\n" + body + text[b:])


if __name__ == "__main__":
    main()
