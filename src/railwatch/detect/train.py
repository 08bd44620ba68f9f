"""Training of the default detector (needs the ``train`` extra: PyTorch).

One seeded command rebuilds the whole thing: draw a bank of training crops (procedural
yards from :mod:`railwatch.detect.model_synth` plus, when available, scenes from the
project simulator restricted to the requested style families), train the tiny network
with randomised photometry and geometry, and export it to ONNX for
:class:`railwatch.detect.default.DefaultDetector`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from railwatch.detect.model_core import (
    CLASSES,
    N_OUT,
    STRIDE,
    WORK_GSD,
    WorkBox,
    encode_targets,
    normalise,
    to_work_scale,
)
from railwatch.detect.model_synth import draw_yard
from railwatch.errors import DetectionError, InputError, lazy_import

if TYPE_CHECKING:
    from railwatch.detect.labels import LabelledSet

CROP = 256  # working pixels (128 m)
#: How a bank's crops are seeded (``TrainConfig.bank_seeding``): "sequential": one
#: ``numpy.random.default_rng(seed)`` for the whole bank, drawn in order in one process
#: (every weights file up to v2.8); "per-draw": draw j of the bank (one simulator scene, one
#: procedural yard or one labelled image) from its own generator,
#: ``default_rng(SeedSequence(seed, spawn_key=(j,)))`` (the j-th child of
#: ``SeedSequence(seed).spawn``), and which source draw j comes from fixed in advance, so
#: the bank is the same whatever the number of processes drawing it.
BANK_SEEDINGS: tuple[str, ...] = ("sequential", "per-draw")
#: Crops taken from one draw of each source (the sequential loop takes them as they come).
CROPS_PER_DRAW: dict[str, int] = {"labels": 4, "sim": 8, "synth": 1}
#: Simulator style families used for training; the others are held out for validation.
TRAIN_STYLES: tuple[str, ...] = ("temperate", "continental", "industrial-dark")
HELD_OUT_STYLES: tuple[str, ...] = ("arid", "winter")
#: Name prefix of the covered branch's nodes in an ONNX file (``detect.covered_head``).
COVERED_BRANCH_PREFIX = "covered/"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (recorded next to the weights)."""

    scenes: int = 800
    epochs: int = 8
    seed: int = 7
    styles: tuple[str, ...] = TRAIN_STYLES
    sim_fraction: float = 0.5
    #: Largest Gaussian blur (sigma, pixels of the source image) in the augmentation.
    blur_max: float = 1.0
    #: Share of simulator scenes rendered nearly empty (0-6 cars) with crops centred on
    #: the tracks: hard negatives (bare track, switches, masts, ballast patterns).
    empty_fraction: float = 0.25
    batch: int = 16
    lr: float = 3e-3
    gsd_range: tuple[float, float] = (0.3, 1.0)
    threads: int = 2
    channels: int = 32
    #: Network layout (:data:`ARCHS`): "s8" (v2.0, context blocks at stride 8) or "s4" (v1.x;
    #: cards without this key).
    arch: str = "s8"
    init: str | None = None  # ONNX weights to continue from (warm start)
    #: Directory of the analyst's labelled images (``railwatch.detect.labels``), or None.
    labels: str | None = None
    #: Share of the crops drawn from ``labels`` (the rest: simulator and procedural).
    labels_share: float = 0.5
    #: Chance that a procedural yard also gets track-side clutter (platforms, car parks,
    #: service roads, sheds, ramps, noise walls beside and parallel to the tracks;
    #: ``model_synth._trackside``). 0: the drawings of the weights up to v2.5.
    trackside: float = 0.0
    #: Share of the procedural yards drawn with empty tracks and track-side clutter (hard
    #: negatives), before ``trackside`` applies to the rest.
    trackside_empty: float = 0.0
    #: Share of the simulator's uncovered hoppers drawn as covered (roofed) hoppers:
    #: grain and cement cars whose roof and hatches are not a tarpaulin
    #: (``SceneParams.roofed_hoppers``). 0: the simulator crops of the weights up to v2.8.
    roofed_hoppers: float = 0.0
    #: Share of the draws (simulator scenes and procedural yards alike) painted at their
    #: true area (``render_scene(exact_paint=True)``, ``draw_yard(exact=True)``) instead
    #: of the default painting, which spills past every outline (cars 1.15-1.4 times
    #: their area in the simulator, 1.05-1.18 in the drawer). 0: the crops of the weights
    #: up to v2.9, and no random number is taken for it.
    exact_paint: float = 0.0
    #: Weight of a loss on the agreement of the network's views (2026-12-07, session 46):
    #: each step also runs the batch turned by a quarter turn or mirrored (every one of the
    #: seven in turn) and penalises where its heat and body maps, turned back, differ from
    #: the plain view's (:func:`_view_loss`). 0: the training of the weights up to v2.9
    #: (one forward pass a step, the same bytes).
    consistency: float = 0.0
    #: Where the network is trained: "cpu" or "cuda" (``resolve_device`` turns "auto"
    #: into one of them before a run). The random draws are the same on either (torch's
    #: CPU generator initialises the weights, numpy draws the data), so a CUDA run differs
    #: from a CPU run only by floating-point rounding.
    device: str = "cpu"
    #: bf16 autocast of the network's forward pass (CUDA only; the loss stays fp32).
    amp: bool = False
    #: How the bank's crops are seeded (:data:`BANK_SEEDINGS`): "sequential" (one
    #: generator in one process: the weights up to v2.8) or "per-draw" (each draw of the
    #: bank from its own seed, the same bank for any number of ``workers``).
    bank_seeding: str = "sequential"
    #: Processes drawing the bank ("per-draw" seeding only) and preparing the training
    #: batches (the same batches for any number: their random draws stay in this process).
    workers: int = 1

    def __post_init__(self) -> None:
        """Refuse settings that would fail (or train nothing) only after minutes of
        drawing crops."""
        if self.device != "cpu" and not self.device.startswith("cuda"):
            raise InputError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if self.amp and not self.device.startswith("cuda"):
            raise InputError(
                "--amp (bf16 autocast) is for training on a CUDA GPU; on the CPU it would only "
                "be slower: leave out --amp, or train with --device cuda"
            )
        if self.bank_seeding not in BANK_SEEDINGS:
            raise InputError(
                f"bank_seeding must be one of {', '.join(BANK_SEEDINGS)}, got {self.bank_seeding!r}"
            )
        if self.workers < 1:
            raise InputError(f"workers (--workers) must be at least 1, got {self.workers}")
        if self.workers > 1 and self.bank_seeding == "sequential":
            raise InputError(
                "the sequential bank is drawn by one generator in one process: several workers "
                "need the per-draw seeding (railwatch train --workers N sets it)"
            )
        if self.epochs < 1:
            raise InputError(f"epochs (--epochs) must be at least 1, got {self.epochs}")
        if self.threads < 1:
            raise InputError(
                f"threads (--threads) must be at least 1, got {self.threads}: give the CPU "
                "threads torch may use, e.g. 2"
            )
        if self.batch < 1:
            raise InputError(f"batch must be at least 1, got {self.batch}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"learning rate must be a positive number (e.g. 0.003), got {self.lr}")
        if not (math.isfinite(self.blur_max) and self.blur_max >= 0):
            raise InputError(f"blur_max must be a number >= 0, got {self.blur_max}")
        shares = {
            "sim_fraction": self.sim_fraction,
            "empty_fraction": self.empty_fraction,
            "labels_share": self.labels_share,
            "trackside": self.trackside,
            "trackside_empty": self.trackside_empty,
            "exact_paint": self.exact_paint,
        }
        if not (math.isfinite(self.consistency) and self.consistency >= 0):
            raise InputError(f"consistency must be a number >= 0, got {self.consistency}")
        for name, value in shares.items():
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name} must be within 0..1, got {value}")


@dataclass
class Bank:
    """Training crops at working scale with their cars."""

    images: list[np.ndarray] = field(default_factory=list)
    boxes: list[list[WorkBox]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def degrade(img: np.ndarray, rng: np.random.Generator, blur_max: float = 1.0) -> np.ndarray:
    """Photometric randomisation at the image's own resolution: colour gains, gamma,
    grey, haze, blur (Gaussian, sigma up to ``blur_max`` pixels), noise and JPEG."""
    x: np.ndarray = img.astype(np.float32) / 255.0
    x = x ** rng.uniform(0.7, 1.4)
    x *= rng.uniform(0.75, 1.25, 3)[None, None, :]
    if rng.random() < 0.15:
        x[:] = x.mean(axis=2, keepdims=True)
    if rng.random() < 0.3:
        h = rng.uniform(0.05, 0.4)
        x = x * (1 - h) + h * rng.uniform(0.6, 1.0)
    x = x * rng.uniform(0.6, 1.3) + rng.uniform(-0.1, 0.1)
    if rng.random() < 0.5:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, blur_max))
    x += rng.normal(0, rng.uniform(0, 0.03), x.shape).astype(np.float32)
    out: np.ndarray = np.clip(x * 255, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
        if ok:
            out = np.asarray(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED))
    return out


def to_work_crops(
    img: np.ndarray,
    cars_px: Sequence[tuple[np.ndarray, str, bool | None]],
    gsd: float,
    rng: np.random.Generator,
    n_crops: int = 1,
    focus: float = 0.0,
    anchors_px: np.ndarray | None = None,
) -> list[tuple[np.ndarray, list[WorkBox]]]:
    """Resample an image at ``gsd`` to working scale (with a claimed-gsd error of up to
    ±20 %), cut ``n_crops`` CROP x CROP windows (a share ``focus`` of them centred near a
    random car, or near a random point of ``anchors_px`` (n, 2) (col, row) when given)
    and convert car polygons to WorkBoxes."""
    claimed = gsd * float(np.clip(np.exp(rng.normal(0, 0.08)), 0.8, 1.2))
    work, scale = to_work_scale(img, claimed)
    h, w = work.shape[:2]
    if h < CROP or w < CROP:
        pad = ((0, max(0, CROP - h)), (0, max(0, CROP - w)), (0, 0))
        work = np.pad(work, pad, mode="reflect")
        h, w = work.shape[:2]
    rects = []
    for poly, cls, cov in cars_px:
        if cls not in CLASSES and cls != "railcar":  # railcar: a car without a class target
            continue
        (cx, cy), (a, b), ang = cv2.minAreaRect((poly * scale).astype(np.float32))
        if a < b:
            a, b, ang = b, a, ang + 90.0
        k = CLASSES.index(cls) if cls in CLASSES else -1  # -1: class ignored by the loss
        rects.append((cx, cy, a, b, ang % 180.0, k, cov))
    centres = [(r[0], r[1]) for r in rects]
    if anchors_px is not None and len(anchors_px):
        centres = [(float(x) * scale, float(y) * scale) for x, y in anchors_px]
    out = []
    for _ in range(n_crops):
        if centres and rng.random() < focus:
            cx, cy = centres[int(rng.integers(len(centres)))]
            x0 = int(np.clip(cx - CROP / 2 + rng.uniform(-80, 80), 0, w - CROP))
            y0 = int(np.clip(cy - CROP / 2 + rng.uniform(-80, 80), 0, h - CROP))
        else:
            y0 = int(rng.integers(0, h - CROP + 1))
            x0 = int(rng.integers(0, w - CROP + 1))
        crop = np.ascontiguousarray(work[y0 : y0 + CROP, x0 : x0 + CROP])
        boxes = [
            WorkBox(cx - x0, cy - y0, a, b, ang, c, cov)
            for cx, cy, a, b, ang, c, cov in rects
            if -a < cx - x0 < CROP + a and -a < cy - y0 < CROP + a
        ]
        out.append((crop, boxes))
    return out


def synth_sample(
    rng: np.random.Generator,
    gsd_range: tuple[float, float],
    blur_max: float = 1.0,
    trackside: float = 0.0,
    trackside_empty: float = 0.0,
    exact_paint: bool = False,
) -> tuple[np.ndarray, list[WorkBox]]:
    """One procedural training crop: with chance ``trackside_empty`` a yard with empty
    tracks and track-side clutter, else one that gets track-side clutter with chance
    ``trackside`` (``model_synth.draw_yard``). With both 0 no random number is taken for
    them: the crops of the weights up to v2.5. ``exact_paint``: the yard painted at true
    area (:attr:`TrainConfig.exact_paint`)."""
    gsd = float(np.exp(rng.uniform(np.log(gsd_range[0]), np.log(gsd_range[1]))))
    size_m = CROP * WORK_GSD * 1.25
    if trackside_empty > 0.0 and rng.random() < trackside_empty:
        img, cars = draw_yard(
            rng, size_m, gsd / 2, occupied=False, trackside=1.0, exact=exact_paint
        )
    else:
        img, cars = draw_yard(rng, size_m, gsd / 2, trackside=trackside, exact=exact_paint)
    n = round(size_m / gsd)
    img = cv2.resize(img, (n, n), interpolation=cv2.INTER_AREA)
    img = degrade(img, rng, blur_max)
    polys = []
    for c in cars:
        a = np.deg2rad(c.angle)
        u = np.array([np.cos(a), np.sin(a)]) * c.length / 2
        v = np.array([-np.sin(a), np.cos(a)]) * c.width / 2
        ctr = np.array([c.cx, c.cy])
        poly = np.stack([ctr - u - v, ctr + u - v, ctr + u + v, ctr - u + v]) / gsd
        polys.append((poly, c.cls, c.covered))
    return to_work_crops(img, polys, gsd, rng)[0]


def sim_samples(
    rng: np.random.Generator,
    gsd_range: tuple[float, float],
    styles: Sequence[str],
    n_crops: int = 8,
    empty: bool = False,
    blur_max: float = 1.0,
    roofed_hoppers: float = 0.0,
    exact_paint: bool = False,
) -> list[tuple[np.ndarray, list[WorkBox]]]:
    """Crops of one scene from the project simulator (``railwatch.sim``), restricted to
    the style families ``styles``. Cars mostly hidden by cloud or outside the data are
    left out of the targets. ``empty`` renders the yard with at most six cars and centres
    the crops on its tracks (hard negatives). ``roofed_hoppers``: see
    :attr:`TrainConfig.roofed_hoppers`; ``exact_paint``: the scene painted at true area
    (:attr:`TrainConfig.exact_paint`)."""
    from railwatch import sim

    gsd = float(np.exp(rng.uniform(np.log(gsd_range[0]), np.log(gsd_range[1]))))
    seed = int(rng.integers(0, 2**31 - 1))
    params = sim.random_params(seed, gsd, styles=tuple(styles) if styles else None)
    if roofed_hoppers > 0:
        params = replace(params, roofed_hoppers=roofed_hoppers)
    anchors = None
    if empty:
        params = replace(params, n_cars=int(rng.integers(0, 7)), cars_by_class=None)
    scene = sim.render_scene(params, exact_paint=exact_paint)
    if empty:
        from railwatch.imagery._geo import xy_to_pixels

        pts = [
            line.interpolate(float(d)).coords[0]
            for line in scene.tracks
            for d in np.arange(0.0, line.length, 40.0)
        ]
        anchors = xy_to_pixels(scene.transform, np.asarray(pts, dtype=np.float64).reshape(-1, 2))
    img = degrade(np.ascontiguousarray(np.asarray(scene.image)[..., :3]), rng, blur_max)
    polys = [
        (np.asarray(t.polygon_px.exterior.coords, dtype=np.float64)[:4], t.cls, bool(t.covered))
        for t in scene.truth
        if t.clear_fraction >= 0.6 and t.valid_fraction >= 0.6
    ]
    return to_work_crops(img, polys, gsd, rng, n_crops=n_crops, focus=0.8, anchors_px=anchors)


def sim_available() -> bool:
    """True when the project simulator exposes ``random_params`` and ``render_scene``."""
    try:
        from railwatch import sim
    except ImportError:
        return False
    return hasattr(sim, "random_params") and hasattr(sim, "render_scene")


def build_bank(
    cfg: TrainConfig,
    progress: Callable[[int, int], None] | None = None,
    labelled: LabelledSet | None = None,
) -> Bank:
    """Draw ``cfg.scenes`` training crops, seeded by ``cfg.seed``: a share
    ``cfg.labels_share`` from the labelled images of ``cfg.labels`` (``labelled`` when
    already loaded; 4 crops per drawn image, source ``labels``) when given, and of the
    rest a share ``cfg.sim_fraction`` from the simulator (8 crops per rendered scene).
    Seeded as ``cfg.bank_seeding`` says (:data:`BANK_SEEDINGS`); with "per-draw" the
    draws run in ``cfg.workers`` processes."""
    rng = np.random.default_rng(cfg.seed)
    use_sim = sim_available() and cfg.sim_fraction > 0
    draw_labelled = None
    if labelled is None and cfg.labels is not None:
        from railwatch.detect.labels import load_labelled_dir

        labelled = load_labelled_dir(cfg.labels)
    if labelled is not None:
        if not 0.0 < cfg.labels_share <= 1.0:
            raise InputError(f"--labels-share must be in (0, 1], got {cfg.labels_share}")
        from railwatch.detect.labels import crop_drawer

        draw_labelled = crop_drawer(labelled, cfg.gsd_range, n_crops=CROPS_PER_DRAW["labels"])
    if cfg.bank_seeding == "per-draw":
        return _build_bank_per_draw(cfg, use_sim, draw_labelled, progress)
    bank = Bank()
    while len(bank.images) < cfg.scenes:
        n_lab = bank.sources.count("labels")
        n_sim = bank.sources.count("sim") + bank.sources.count("sim-empty")
        if draw_labelled is not None and n_lab < cfg.labels_share * (len(bank.images) + 1):
            crops = draw_labelled(rng)
            src = "labels"
        elif use_sim and n_sim < cfg.sim_fraction * (len(bank.images) - n_lab + 1):
            empty = bool(rng.random() < cfg.empty_fraction)
            crops = sim_samples(
                rng,
                cfg.gsd_range,
                cfg.styles,
                empty=empty,
                blur_max=cfg.blur_max,
                roofed_hoppers=cfg.roofed_hoppers,
                **_exact_draw(cfg, rng),
            )
            src = "sim-empty" if empty else "sim"
        else:
            # the track-side options only when set: the call of the weights up to v2.5
            extra: dict[str, Any] = (
                {"trackside": cfg.trackside, "trackside_empty": cfg.trackside_empty}
                if cfg.trackside > 0 or cfg.trackside_empty > 0
                else {}
            )
            crops = [
                synth_sample(rng, cfg.gsd_range, cfg.blur_max, **extra, **_exact_draw(cfg, rng))
            ]
            src = "synth"
        for img, boxes in crops[: cfg.scenes - len(bank.images)]:
            bank.images.append(img)
            bank.boxes.append(boxes)
            bank.sources.append(src)
        if progress is not None:
            progress(len(bank.images), cfg.scenes)
    return bank


def _exact_draw(cfg: TrainConfig, rng: np.random.Generator) -> dict[str, bool]:
    """Whether this draw is painted at true area (``cfg.exact_paint`` of them), as the
    keyword of :func:`sim_samples` and :func:`synth_sample`: nothing, and no random number
    taken, when ``cfg.exact_paint`` is 0 (the crops of the weights up to v2.9)."""
    if cfg.exact_paint <= 0.0:
        return {}
    return {"exact_paint": bool(rng.random() < cfg.exact_paint)}


def draw_plan(cfg: TrainConfig, use_sim: bool, use_labels: bool) -> list[str]:
    """The source of each draw of a "per-draw" bank ("labels", "sim" or "synth"), in
    order: the sequential loop's choice by the counts so far, with each draw giving
    :data:`CROPS_PER_DRAW` crops (the last one cut to ``cfg.scenes``). Fixed before any
    crop is drawn, so that the draws can run in any process."""
    plan: list[str] = []
    n = n_lab = n_sim = 0
    while n < cfg.scenes:
        if use_labels and n_lab < cfg.labels_share * (n + 1):
            src = "labels"
        elif use_sim and n_sim < cfg.sim_fraction * (n - n_lab + 1):
            src = "sim"
        else:
            src = "synth"
        take = min(CROPS_PER_DRAW[src], cfg.scenes - n)
        n += take
        n_lab += take if src == "labels" else 0
        n_sim += take if src == "sim" else 0
        plan.append(src)
    return plan


def draw_rng(seed: int, j: int) -> np.random.Generator:
    """The generator of draw ``j`` of a "per-draw" bank seeded by ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(j,)))


def _draw(
    cfg: TrainConfig, task: tuple[int, str]
) -> tuple[str, list[tuple[np.ndarray, list[WorkBox]]]]:
    """Draw ``j`` of a "per-draw" bank from the simulator or the procedural drawer (run in
    a worker process): its source as recorded ("sim-empty" for a hard-negative scene) and
    its crops."""
    j, src = task
    rng = draw_rng(cfg.seed, j)
    if src == "sim":
        empty = bool(rng.random() < cfg.empty_fraction)
        crops = sim_samples(
            rng,
            cfg.gsd_range,
            cfg.styles,
            n_crops=CROPS_PER_DRAW["sim"],
            empty=empty,
            blur_max=cfg.blur_max,
            roofed_hoppers=cfg.roofed_hoppers,
            **_exact_draw(cfg, rng),
        )
        return ("sim-empty" if empty else "sim"), crops
    extra: dict[str, Any] = (
        {"trackside": cfg.trackside, "trackside_empty": cfg.trackside_empty}
        if cfg.trackside > 0 or cfg.trackside_empty > 0
        else {}
    )
    return "synth", [
        synth_sample(rng, cfg.gsd_range, cfg.blur_max, **extra, **_exact_draw(cfg, rng))
    ]


def _worker_init() -> None:
    """A drawing or batch worker: one OpenCV thread (the processes share the cores); a
    Ctrl-C is the main process's to handle (it stops the pool)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cv2.setNumThreads(1)


def _pool(workers: int) -> Any:
    """A pool of ``workers`` processes started by 'spawn' (a fork of a process that runs
    threads, torch's or OpenCV's, can deadlock)."""
    import multiprocessing

    return multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init)


def _build_bank_per_draw(
    cfg: TrainConfig,
    use_sim: bool,
    draw_labelled: Callable[[np.random.Generator], list[tuple[np.ndarray, list[WorkBox]]]] | None,
    progress: Callable[[int, int], None] | None,
) -> Bank:
    """:func:`build_bank` with "per-draw" seeding: the plan (:func:`draw_plan`) fixes each
    draw's source, draw j takes :func:`draw_rng` (seed, j); the simulator and procedural
    draws run in ``cfg.workers`` processes (results taken in order), the labelled ones
    here. The same bank for any number of workers."""
    import functools

    plan = draw_plan(cfg, use_sim, draw_labelled is not None)
    remote = [(j, src) for j, src in enumerate(plan) if src != "labels"]
    bank = Bank()
    pool = _pool(cfg.workers) if cfg.workers > 1 and remote else None
    try:
        draw = functools.partial(_draw, cfg)
        results = (
            pool.imap(draw, remote, chunksize=4 if cfg.sim_fraction < 1 else 1)
            if pool is not None
            else map(draw, remote)
        )
        for j, src in enumerate(plan):
            if src == "labels" and draw_labelled is not None:
                got, crops = "labels", draw_labelled(draw_rng(cfg.seed, j))
            else:
                got, crops = next(results)
            take = min(CROPS_PER_DRAW[src], cfg.scenes - len(bank.images))
            if len(crops) < take:  # the plan counted on CROPS_PER_DRAW
                raise RuntimeError(f"draw {j} ({src}) gave {len(crops)} crops, expected {take}")
            for img, boxes in crops[:take]:
                bank.images.append(img)
                bank.boxes.append(boxes)
                bank.sources.append(got)
            if progress is not None:
                progress(len(bank.images), cfg.scenes)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return bank


def _aug_params(rng: np.random.Generator) -> tuple[int, bool, np.ndarray]:
    """The random draws of :func:`augment_crop`, in its order: quarter turns, flip, gains."""
    k = int(rng.integers(0, 4))
    flip = bool(rng.random() < 0.5)
    return k, flip, rng.uniform(0.85, 1.15, 3)


def augment_crop(
    img: np.ndarray, boxes: list[WorkBox], rng: np.random.Generator
) -> tuple[np.ndarray, list[WorkBox]]:
    """Random flips and quarter turns (boxes follow) plus per-channel gains."""
    return _apply_augment(img, boxes, _aug_params(rng))


def _apply_augment(
    img: np.ndarray, boxes: list[WorkBox], params: tuple[int, bool, np.ndarray]
) -> tuple[np.ndarray, list[WorkBox]]:
    """:func:`augment_crop` with its random draws given (:func:`_aug_params`)."""
    k, flip, gains = params
    n = img.shape[0]
    out = np.rot90(img, k) if k else img
    if flip:
        out = out[:, ::-1]
    res = []
    for b in boxes:
        x, y, ang = b.cx, b.cy, b.angle
        for _ in range(k):  # np.rot90 turns counter-clockwise: (x, y) -> (y, n - x)
            x, y, ang = y, n - x, ang - 90.0
        if flip:
            x, ang = n - x, 180.0 - ang
        res.append(WorkBox(x, y, b.length, b.width, ang % 180.0, b.cls, b.covered))
    out = np.clip(out.astype(np.float32) * gains, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out), res


#: How the shipped weights (v2.0; the covered output since v2.2) were made, run by
#: ``railwatch train --recipe default``: training stages (each continues from the previous
#: one's weights), the covered-head re-fit, and the thresholds the calibration then
#: records (``coarse_*``: the string thresholds from 0.6 m on, since v2.4, from 0.75 m in
#: v2.3; passed to ``railwatch calibrate --coarse-from --coarse-one-side
#: --coarse-two-sides``). About 57 minutes on 2 CPU cores.
DEFAULT_RECIPE: dict[str, Any] = {
    "stages": (
        {"arch": "s8", "scenes": 4000, "epochs": 10, "seed": 61, "lr": 3e-3},
        {"arch": "s8", "scenes": 6000, "epochs": 10, "seed": 62, "lr": 1e-3},
    ),
    # v2.2: the covered (tarpaulin) output re-fitted on the frozen network (a branch that
    # also reads the first stem activation; ``detect.covered_head``), about 7 min
    "covered_head": {
        "scenes": 6000,
        "epochs": 15,
        "seed": 71,
        "lr": 0.005,
        "styles": ",".join(TRAIN_STYLES),
        "sim_fraction": 1.0,
    },
    # v2.3: from 0.75 m per pixel a peak of 0.35 with one string neighbour is a car;
    # v2.4: from 0.6 m
    "calibrate": {
        "threshold": 0.45,
        "one_side": 0.4,
        "two_sides": 0.3,
        "coarse_from": 0.6,
        "coarse_one_side": 0.35,
        "coarse_two_sides": 0.3,
        "scenes": 60,  # v2.7.1; until v2.7 6, whose recall per resolution was noisy
        # v2.5: the across-track refiner (reads only the image: the shipped one is copied
        # into the card); v2.7: two weak cars may continue a string together. Until
        # session 27 the recipe's card decoded without both, unlike the shipped card.
        "refine": True,
        "string_pairs": True,
        # v2.8: no "class_threshold" (0.5 for every class until v2.7.2): the fitted one
        # per class
    },
    # v2.1: then the INT8 weights (``railwatch quantize``, see ``detect.quantize``)
    "quantize": {"tiles": 32, "seed": 6_000_000, "exclude": "head"},
}


#: Network layouts ``build_net`` knows, with what they are.
ARCHS: dict[str, str] = {
    "s4": "two stride-2 convolutions, five residual dilated 3x3 blocks of `channels` at "
    "stride 4 (2 m cells; dilations 1, 2, 4, 8, 1), 1x1 head (v1.0-v1.3; about 52 k "
    "parameters at 32 channels)",
    "s8": "the same stem and one residual block at stride 4, then a stride-2 convolution to "
    "2x `channels` and four residual dilated blocks at stride 8 (4 m cells; dilations 1, 2, "
    "4, 1), projected back (1x1) and upsampled onto the stride-4 features; about 1.1x the "
    "multiply-adds of s4 for 3.5x its parameters",
}


def build_net(channels: int = 32, arch: str = "s8") -> Any:
    """The network (layouts in :data:`ARCHS`); output :data:`N_OUT` maps at stride 4.
    Convolutions are registered in execution order (``load_onnx_init`` relies on it)."""
    if arch not in ARCHS:
        raise InputError(f"unknown network layout {arch!r}: choose one of {', '.join(ARCHS)}")
    torch = lazy_import("torch", "train", "training the default detector")
    nn = torch.nn  # type: ignore[attr-defined]
    fn = torch.nn.functional  # type: ignore[attr-defined]

    def cbr(i: int, o: int, s: int = 1, d: int = 1) -> Any:
        return nn.Sequential(
            nn.Conv2d(i, o, 3, s, padding=d, dilation=d, bias=False),
            nn.BatchNorm2d(o),
            nn.ReLU(inplace=True),
        )

    class Res(nn.Module):  # type: ignore[name-defined]
        def __init__(self, c: int, d: int) -> None:
            super().__init__()
            self.body = cbr(c, c, 1, d)

        def forward(self, x: Any) -> Any:
            return x + self.body(x)

    def init_head(head: Any) -> None:
        with torch.no_grad():  # type: ignore[attr-defined]
            head.bias.zero_()
            head.bias[0] = -2.2

    class Net(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            c = channels
            self.stem = nn.Sequential(cbr(3, 16, 2), cbr(16, c, 2))
            self.blocks = nn.Sequential(Res(c, 1), Res(c, 2), Res(c, 4), Res(c, 8), Res(c, 1))
            self.head = nn.Conv2d(c, N_OUT, 1)
            init_head(self.head)

        def forward(self, x: Any) -> Any:
            return self.head(self.blocks(self.stem(x)))

    class Net8(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            c = channels
            self.stem = nn.Sequential(cbr(3, 16, 2), cbr(16, c, 2), Res(c, 1))
            self.down = cbr(c, 2 * c, 2)
            self.blocks = nn.Sequential(Res(2 * c, 1), Res(2 * c, 2), Res(2 * c, 4), Res(2 * c, 1))
            self.up = nn.Sequential(nn.Conv2d(2 * c, c, 1, bias=False), nn.BatchNorm2d(c))
            self.head = nn.Conv2d(c, N_OUT, 1)
            init_head(self.head)

        def forward(self, x: Any) -> Any:
            f4 = self.stem(x)
            f8 = self.up(self.blocks(self.down(f4)))
            up = fn.interpolate(f8, size=f4.shape[-2:], mode="bilinear", align_corners=False)
            return self.head(fn.relu(f4 + up))

    return Net() if arch == "s4" else Net8()


def read_init_weights(path: Path) -> Any:
    """The ONNX model of ``--init`` weights, or an :class:`InputError` when the file is
    not ONNX (checked before any crop is drawn)."""
    onnx: Any = lazy_import("onnx", "train", "warm-starting from ONNX weights")
    try:
        return onnx.load(str(path))
    except Exception as err:  # protobuf's DecodeError for a file that is not ONNX
        raise InputError(
            f"--init {path} is not ONNX weights ({err}): give the .onnx file that "
            "railwatch train wrote, or 'default'"
        ) from err


def read_init_card(path: Path) -> dict[str, Any]:
    """The card of ``--init`` weights (``path.with_suffix(".json")``; empty when there is
    none), or an :class:`InputError` before any crop is drawn when it is not a JSON object
    or records (:data:`~railwatch.detect.default.DIGEST_KEY`) the digest of other weights
    (an export stopped between its two moves, weights replaced by hand): its decoding
    settings (``train --init``) or the whole card (``--covered-head``) would be passed on
    to the new weights. A card without the key is not checked, as at load. Needs neither
    torch nor onnx."""
    from railwatch.detect.calibration import read_card
    from railwatch.detect.default import DIGEST_KEY, weights_sha256

    card_path = path.with_suffix(".json")
    try:
        card = read_card(
            path,
            todo="put back the card that railwatch train wrote, or move it away to "
            "continue from the weights without it (then decoded with the default settings "
            "until `railwatch calibrate`)",
        )
    except InputError as err:
        raise InputError(f"--init {path}: {err}") from err
    if DIGEST_KEY in card and card[DIGEST_KEY] != weights_sha256(path):
        raise InputError(
            f"--init {path}: its card {card_path} was written for other weights than "
            f"{path} (an export stopped between its two files, or the weights were "
            "replaced), and its decoding settings would be passed on: put back the "
            "matching card, train those weights again, or move the card away to continue "
            "from the weights without it"
        )
    return card


#: Convolutions of each layout in an exported file (a covered branch left out).
ARCH_CONVS: dict[str, int] = {"s4": 8, "s8": 10}


def init_layout(model: Any, path: Path) -> str:
    """The layout (:data:`ARCHS`) of ``--init`` weights from their graph, or an
    :class:`InputError` saying what the file is instead (INT8 weights, a model of another
    kind such as YOLO-OBB), before any crop is drawn: such files were refused only after
    the bank was drawn, and weights without a card recording their layout (a card that
    ``railwatch calibrate`` made, or none) were taken for the old ``s4`` layout and
    refused although they were ``s8``."""
    nodes = list(model.graph.node)
    if any(n.op_type in ("QuantizeLinear", "DequantizeLinear", "QLinearConv") for n in nodes):
        raise InputError(
            f"--init {path} holds INT8 (quantised) weights: continue from the fp32 file they "
            "were made from (NAME.onnx beside NAME.int8.onnx)"
        )
    outputs = list(model.graph.output)
    dims = (
        [d.dim_value if d.HasField("dim_value") else None for d in _dims(outputs[0])]
        if outputs
        else []
    )
    convs = len(_network_convs(model))
    layout = next((a for a, k in ARCH_CONVS.items() if k == convs), None)
    if len(dims) != 4 or dims[1] != N_OUT or layout is None:
        raise InputError(
            f"--init {path} is not weights of railwatch's default detector (output "
            f"{tuple(dims)}, {convs} convolutions): give the .onnx file that railwatch train "
            "wrote, or 'default'; a YOLO-OBB model cannot be continued here (fine-tune it "
            "with Ultralytics and run it with --detector onnx:PATH)"
        )
    return layout


def _network_convs(model: Any) -> list[Any]:
    """The graph's convolution nodes in order, a covered branch (``detect.covered_head``,
    nodes ``covered/*``) left out: it is not part of the layout, the network continues
    with the head's own covered row."""
    return [
        n
        for n in model.graph.node
        if n.op_type == "Conv" and not n.name.startswith(COVERED_BRANCH_PREFIX)
    ]


def _through_identities(values: dict[str, Any], model: Any) -> dict[str, Any]:
    """``values`` (by initializer name) also under the names of the Identity nodes that
    pass them on: the exporter shares equal tensors through Identity nodes."""
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values


def init_channels(model: Any) -> int:
    """The ``channels`` of ``--init`` weights (a layout :func:`init_layout` accepted): the
    output channels of the second stem convolution."""
    shapes = _through_identities({i.name: tuple(i.dims) for i in model.graph.initializer}, model)
    return int(shapes[_network_convs(model)[1].input[1]][0])


def _dims(value_info: Any) -> list[Any]:
    return list(value_info.type.tensor_type.shape.dim)


def load_onnx_init(net: Any, path: Path, bank: Bank, rng: np.random.Generator) -> None:
    """Warm start: copy the (BatchNorm-folded) convolutions of an exported ONNX model
    into ``net`` (a covered branch, ``detect.covered_head``, is left out: the network's
    covered output is the head's own row again). Each BatchNorm is re-derived from the
    statistics of its convolution's output on a batch of ``bank`` so that the network
    computes the same function as the ONNX file, in eval mode exactly and in train mode
    up to batch statistics."""
    torch: Any = lazy_import("torch", "train", "training the default detector")
    lazy_import("onnx", "train", "warm-starting from ONNX weights")
    from onnx import numpy_helper

    model = read_init_weights(path)
    inits = _through_identities(
        {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}, model
    )
    convs_onnx = _network_convs(model)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if len(convs_onnx) != len(convs) or len(bns) != len(convs) - 1:
        raise InputError(f"{path} does not have this network's layout; train from scratch.")
    biases = []
    with torch.no_grad():
        for node, conv in zip(convs_onnx, convs, strict=True):
            w = np.array(inits[node.input[1]])
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise InputError(f"{path} has other layer sizes than this network.")
            conv.weight.copy_(torch.from_numpy(w))
            b = torch.from_numpy(np.array(inits[node.input[2]])) if len(node.input) > 2 else None
            if conv.bias is not None and b is not None:
                conv.bias.copy_(b)
            else:
                biases.append(b if b is not None else torch.zeros(conv.out_channels))
        for bn, b in zip(bns, biases, strict=True):
            bn.weight.fill_(1.0)
            bn.bias.copy_(b)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        stats: list[tuple[Any, Any]] = []
        hooks = [
            c.register_forward_hook(
                lambda _m, _i, o: stats.append((o.mean((0, 2, 3)), o.std((0, 2, 3))))
            )
            for c in convs[:-1]
        ]
        net.eval()
        idx = rng.choice(len(bank.images), size=min(32, len(bank.images)), replace=False)
        net(torch.from_numpy(_batch(bank, idx, rng)["x"]))
        for h in hooks:
            h.remove()
        for bn, b, (m, sd) in zip(bns, biases, stats, strict=True):
            sd = sd.clamp(min=1e-3)
            bn.weight.copy_(sd)
            bn.bias.copy_(m + b)
            bn.running_mean.copy_(m)
            bn.running_var.copy_(sd**2 - bn.eps)
    net.train()


def _batch(bank: Bank, idx: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    params = [_aug_params(rng) for _ in idx]
    return _prepare_batch(bank.images, bank.boxes, idx, params)


def _prepare_batch(
    images: Sequence[np.ndarray],
    boxes: Sequence[list[WorkBox]],
    idx: np.ndarray,
    params: Sequence[tuple[int, bool, np.ndarray]],
) -> dict[str, np.ndarray]:
    """The network's input and targets for crops ``idx`` augmented with ``params``."""
    xs, tg = [], []
    for i, p in zip(idx, params, strict=True):
        img, bx = _apply_augment(images[i], boxes[i], p)
        xs.append(normalise(img))
        tg.append(encode_targets(bx, img.shape[:2]))
    batch = {k: np.stack([t[k] for t in tg]) for k in tg[0]}
    batch["x"] = np.stack(xs)
    return batch


def _batch_plan(
    rng: np.random.Generator, n: int, batch: int, steps: int, epochs: int
) -> Iterator[tuple[np.ndarray, list[tuple[int, bool, np.ndarray]]]]:
    """The training loop's random draws in its order: each epoch's permutation of the
    ``n`` crops, then each step's crops and their augmentation."""
    for _ in range(epochs):
        order = rng.permutation(n)
        for s in range(steps):
            idx = order[s * batch : (s + 1) * batch]
            yield idx, [_aug_params(rng) for _ in idx]


#: The bank of a batch worker process (``_batch_worker_init``).
_WORKER_BANK: dict[str, Any] = {}


def _batch_worker_init(images_path: str, boxes: list[list[WorkBox]]) -> None:
    _worker_init()
    _WORKER_BANK["images"] = np.load(images_path, mmap_mode="r")
    _WORKER_BANK["boxes"] = boxes


def _batch_task(
    task: tuple[np.ndarray, list[tuple[int, bool, np.ndarray]]],
) -> dict[str, np.ndarray]:
    idx, params = task
    return _prepare_batch(_WORKER_BANK["images"], _WORKER_BANK["boxes"], idx, params)


def _batches(
    bank: Bank,
    plan: Iterator[tuple[np.ndarray, list[tuple[int, bool, np.ndarray]]]],
    workers: int,
    tmp: Path | None,
) -> Generator[dict[str, np.ndarray], None, None]:
    """The training batches of ``plan``, prepared here (``workers`` 1) or in ``workers``
    processes a few batches ahead (the crops shared through a memory-mapped file in
    ``tmp``). The same arrays either way: every random draw was made in ``plan``."""
    if workers <= 1 or tmp is None:
        for idx, params in plan:
            yield _prepare_batch(bank.images, bank.boxes, idx, params)
        return
    import collections
    import multiprocessing

    images_path = tmp / "bank-images.npy"
    np.save(images_path, np.stack(bank.images))
    pool = multiprocessing.get_context("spawn").Pool(
        workers, initializer=_batch_worker_init, initargs=(str(images_path), bank.boxes)
    )
    try:
        pending: collections.deque[Any] = collections.deque()
        for task in plan:
            pending.append(pool.apply_async(_batch_task, (task,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
    finally:
        pool.terminate()
        pool.join()


def _loss(torch: Any, out: Any, t: dict[str, Any]) -> tuple[Any, dict[str, float]]:
    F = torch.nn.functional
    heat = torch.sigmoid(out[:, 0]).clamp(1e-4, 1 - 1e-4)
    gt = t["heat"]
    pos = (gt >= 1.0).float()
    npos = pos.sum().clamp(min=1.0)
    l_heat = (
        -(
            pos * (1 - heat) ** 2 * torch.log(heat)
            + (1 - pos) * (1 - gt) ** 4 * heat**2 * torch.log(1 - heat)
        ).sum()
        / npos
    )
    rm = t["reg_mask"].unsqueeze(1)
    l_reg = (F.l1_loss(out[:, 1:5], t["reg"], reduction="none") * rm).sum() / npos / 2
    body = t["body"]
    nb = body.sum().clamp(min=1.0)
    l_axis = (F.l1_loss(out[:, 5:7], t["axis"], reduction="none") * body.unsqueeze(1)).sum() / nb
    l_body = F.binary_cross_entropy_with_logits(out[:, 7], body)
    l_cls = F.cross_entropy(out[:, 8 : 8 + len(CLASSES)], t["cls"], ignore_index=-1)
    if not torch.isfinite(l_cls):
        l_cls = out.sum() * 0
    # the covered flag's loss where it is known: every rendered car, but not the cars of
    # labels in a format without the flag (DOTA, YOLO-OBB), which it taught as not
    # covered until session 25 (on renders alone the loss is the same as before)
    known = body * t["cov_known"]
    l_cov = (
        F.binary_cross_entropy_with_logits(out[:, -1], t["cov"], reduction="none") * known
    ).sum() / known.sum().clamp(min=1.0)
    total = l_heat + l_reg + 0.5 * l_axis + 0.5 * l_body + 0.3 * l_cls + 0.5 * l_cov
    named = {"heat": l_heat, "reg": l_reg, "axis": l_axis, "body": l_body, "cls": l_cls}
    named["cov"] = l_cov
    # one device-to-host copy for all parts (each float() waits for a CUDA device)
    values = torch.stack([v.detach() for v in named.values()]).tolist()
    parts = dict(zip(named, values, strict=True))
    return total, parts


#: The views of :func:`_view_loss`, one a step in this order: (quarter turns, mirrored).
VIEWS = ((1, False), (2, False), (3, False), (0, True), (1, True), (2, True), (3, True))


def _turn(torch: Any, x: Any, k: int, flip: bool) -> Any:
    """``x`` (N, C, H, W) turned as :func:`_apply_augment` turns a crop: ``k`` quarter
    turns counter-clockwise, then mirrored left to right."""
    out = torch.rot90(x, k, dims=(2, 3)) if k else x
    return torch.flip(out, dims=(3,)) if flip else out


def _unturn(torch: Any, x: Any, k: int, flip: bool) -> Any:
    """The inverse of :func:`_turn`."""
    out = torch.flip(x, dims=(3,)) if flip else x
    return torch.rot90(out, -k, dims=(2, 3)) if k else out


def _view_loss(torch: Any, out: Any, turned_out: Any, k: int, flip: bool, npos: Any) -> Any:
    """How far the turned view's heat and body probabilities, turned back, are from the
    plain view's: the heat's squared difference summed and divided by the number of car
    centres (as the heat loss is), plus the body map's mean squared difference. Both views
    get its gradient. Only these two maps: the offsets, sizes and axis of a turned view
    are not the plain view's values turned back, and the peaks are what the count reads."""
    maps = torch.sigmoid(out[:, [0, 7]].float())
    back = torch.sigmoid(_unturn(torch, turned_out[:, [0, 7]].float(), k, flip))
    diff = (maps - back) ** 2
    return diff[:, 0].sum() / npos + diff[:, 1].mean()


def train_model(
    bank: Bank,
    cfg: TrainConfig,
    log: Callable[[str], None] | None = None,
) -> Any:
    """Train the network on ``bank``; returns the torch module in eval mode."""
    torch: Any = lazy_import("torch", "train", "training the default detector")
    if not bank.images:
        raise InputError("The training bank is empty: ask for at least one scene.")
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed + 1)
    # built and warm-started on the CPU (torch's CPU generator, the same draws on any
    # device), then moved
    net = build_net(cfg.channels, cfg.arch)
    if cfg.init:
        load_onnx_init(net, Path(cfg.init), bank, rng)
    device = torch.device(cfg.device)
    net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    steps_per_epoch = max(1, len(bank.images) // cfg.batch)
    total = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total)
    net.train()
    t0 = time.time()
    plan = _batch_plan(rng, len(bank.images), cfg.batch, steps_per_epoch, cfg.epochs)
    with tempfile.TemporaryDirectory(prefix="railwatch-train-") as tmp:
        batches = _batches(bank, plan, cfg.workers, Path(tmp))
        try:
            _epochs(torch, net, opt, sched, batches, device, cfg, steps_per_epoch, log, t0)
        finally:
            batches.close()  # stops the batch workers
    bad = [
        k for k, v in net.state_dict().items() if v.is_floating_point() and not v.isfinite().all()
    ]
    if bad:  # the last step's update (its loss was finite)
        raise DetectionError(diverged(cfg, f"in its last step (not finite: {', '.join(bad[:3])})"))
    net.eval()
    return net


def diverged(cfg: TrainConfig, where: str) -> str:
    """What to say when training gave a loss or weights that are not finite: nothing is
    written (NaN weights detect nothing, and the calibration after them ran on them)."""
    return (
        f"training diverged {where}: no weights written (a file already at the output is "
        f"kept as it was); train again with a lower --lr than {cfg.lr:g} (the default is "
        f"{TrainConfig.lr:g}; 0.0005 to fine-tune with --init)"
    )


def _epochs(
    torch: Any,
    net: Any,
    opt: Any,
    sched: Any,
    batches: Iterator[dict[str, np.ndarray]],
    device: Any,
    cfg: TrainConfig,
    steps_per_epoch: int,
    log: Callable[[str], None] | None,
    t0: float,
) -> None:
    """The training loop of :func:`train_model` on ``device``."""
    for epoch in range(cfg.epochs):
        agg: dict[str, float] = {}
        for step in range(steps_per_epoch):
            b = next(batches)
            t = {k: torch.from_numpy(v).to(device) for k, v in b.items()}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.amp):
                out = net(t["x"])
            loss, parts = _loss(torch, out.float(), t)  # the loss in fp32 (amp: bf16 maps)
            if cfg.consistency > 0:
                turns, flip = VIEWS[(epoch * steps_per_epoch + step) % len(VIEWS)]
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.amp):
                    turned_out = net(_turn(torch, t["x"], turns, flip))
                npos = (t["heat"] >= 1.0).float().sum().clamp(min=1.0)
                l_view = _view_loss(torch, out, turned_out, turns, flip, npos)
                loss = loss + cfg.consistency * l_view
                parts["view"] = float(l_view.detach())
            if not all(math.isfinite(v) for v in parts.values()):
                losses = " ".join(f"{k}={v:.3g}" for k, v in parts.items())
                where = f"at epoch {epoch + 1}/{cfg.epochs}, step {step + 1}/{steps_per_epoch}"
                raise DetectionError(diverged(cfg, f"{where} ({losses})"))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
            for k, v in parts.items():
                agg[k] = agg.get(k, 0.0) + v / steps_per_epoch
        if log is not None:
            msg = " ".join(f"{k}={v:.3f}" for k, v in agg.items())
            log(f"epoch {epoch + 1}/{cfg.epochs} ({time.time() - t0:.0f}s) {msg}")


def require_train_extra() -> None:
    """A :class:`~railwatch.errors.MissingDependencyError` naming the ``train`` extra
    unless torch (training) and onnx (torch's ONNX export needs it) are installed: said
    before any crop is drawn (without onnx the export failed after the whole training,
    as an internal error, and the trained network was lost)."""
    lazy_import("torch", "train", "training the default detector")
    lazy_import("onnx", "train", "exporting the trained weights to ONNX")


def export_onnx(
    net: Any,
    path: Path,
    cfg: TrainConfig,
    bank: Bank | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Export the trained network to ONNX (dynamic height/width) plus a JSON card, with
    the ``extra`` entries (``train --labels``' entry, the decoding settings carried from
    ``--init``) in it: written in the one move of the card, not after it."""
    torch: Any = lazy_import("torch", "train", "exporting the default detector")
    lazy_import("onnx", "train", "exporting the default detector to ONNX")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if any(p.device.type != "cpu" for p in net.parameters()):
        import copy

        # exported from a CPU copy: the file does not depend on the device trained on
        net = copy.deepcopy(net).to("cpu").eval()
    x = torch.zeros(1, 3, CROP, CROP)
    # written beside the target first (a Ctrl-C or a full disk during the export left a
    # truncated file where the weights of an earlier run were), then moved over it with
    # its card by move_pair_into_place (the card first, with the weights' digest)
    tmp = path.with_name(path.name + ".tmp")
    try:
        torch.onnx.export(
            net,
            x,
            str(tmp),
            input_names=["image"],
            output_names=["maps"],
            dynamic_axes={"image": {2: "h", 3: "w"}, "maps": {2: "gh", 3: "gw"}},
            opset_version=17,
            dynamo=False,
        )
        move_pair_into_place(tmp, path, {**_card(cfg, bank), **(extra or {})})
    finally:
        tmp.unlink(missing_ok=True)
    return path


def move_pair_into_place(tmp: Path, path: Path, card: dict[str, Any]) -> None:
    """Move the weights written to ``tmp`` over ``path`` with ``card`` as their card
    (``path.with_suffix(".json")``), which records their SHA-256 (``weights_sha256``,
    :data:`railwatch.detect.default.DIGEST_KEY`; any such key ``card`` was copied with,
    the digest of other weights, is replaced).

    The card is written beside its target, then moved into place first, the weights
    second: the one half-done state, a process killed between the two moves, is a new
    card beside the old weights, told apart by the digest (the detector refuses the
    pair). The other order left new weights beside the old card, whose calibration then
    applied to them unseen (an old card without the digest is not checked), and
    `railwatch quantize` wrote its entry into that stale card. A move that fails (an
    error, Ctrl-C) puts the old card back."""
    from railwatch.detect.default import DIGEST_KEY, weights_sha256

    target = path.with_suffix(".json")
    card_tmp = path.with_name(target.name + ".tmp")
    try:
        card_tmp.write_text(json.dumps({**card, DIGEST_KEY: weights_sha256(tmp)}, indent=2))
        old_card = target.read_bytes() if target.is_file() else None
        os.replace(card_tmp, target)
        try:
            os.replace(tmp, path)
        except BaseException:
            restore_card(target, old_card)
            raise
    finally:
        card_tmp.unlink(missing_ok=True)


def restore_card(card: Path, old: bytes | None) -> None:
    """The card as it was before (``old``; None: there was none, removed), written
    whole: after a write of weights whose move into place failed (an export here, the
    INT8 file of ``railwatch quantize``), so that the old weights keep their own card."""
    if old is None:
        card.unlink(missing_ok=True)
        return
    back = card.with_name(card.name + ".back")
    try:
        back.write_bytes(old)
        os.replace(back, card)
    finally:
        back.unlink(missing_ok=True)


def _card(cfg: TrainConfig, bank: Bank | None) -> dict[str, Any]:
    """The card of freshly exported weights: configuration and bank statistics."""
    card: dict[str, Any] = {
        "config": asdict(cfg),
        "stride": STRIDE,
        "work_gsd": WORK_GSD,
        "classes": list(CLASSES),
    }
    if cfg.device != "cpu":
        card["trained_on"] = device_description(cfg.device)
    if bank is not None:
        card["bank"] = {
            "crops": len(bank.images),
            "cars": int(sum(len(b) for b in bank.boxes)),
            "sources": {s: bank.sources.count(s) for s in sorted(set(bank.sources))},
        }
    return card


#: ``--device`` choices: "auto" is CUDA when torch sees a GPU, else the CPU.
DEVICES: tuple[str, ...] = ("cpu", "cuda", "auto")


def resolve_device(name: str) -> str:
    """``--device`` as "cpu" or "cuda": "auto" is CUDA when torch sees a GPU; "cuda"
    without one is an :class:`InputError` saying why (checked before any crop is drawn)."""
    if name not in DEVICES:
        raise InputError(f"unknown --device {name!r}: choose one of {', '.join(DEVICES)}")
    if name == "cpu":
        return "cpu"
    torch: Any = lazy_import("torch", "train", "training the default detector")
    if torch.cuda.is_available():
        return "cuda"
    if name == "auto":
        return "cpu"
    build = (
        f"a CUDA {torch.version.cuda} build, but no GPU is visible"
        if torch.version.cuda
        else "a CPU-only build"
    )
    raise InputError(
        f"--device cuda: torch {torch.__version__} is {build}: train on a machine with an "
        "NVIDIA GPU and a CUDA build of torch, or use --device cpu (or auto: the GPU when "
        "there is one)"
    )


def device_description(device: str) -> dict[str, Any]:
    """What a card records of the device trained on: the device, the GPU's name and the
    CUDA version of torch (none for the CPU, whose thread count is ``config.threads``)."""
    entry: dict[str, Any] = {"device": device}
    if device.startswith("cuda"):
        torch: Any = lazy_import("torch", "train", "training the default detector")
        entry["gpu"] = torch.cuda.get_device_name(torch.device(device))
        entry["cuda"] = torch.version.cuda
        entry["torch"] = torch.__version__
    return entry


def stage_entries(stage_paths: Sequence[Path]) -> list[dict[str, Any]]:
    """A card's ``stages`` entry: each training stage's file name, configuration and bank
    from its own card, in order, and the GPU it trained on when it did (``trained_on``);
    an :class:`InputError` for a stage that left no readable card: none, an empty one, or
    one that :func:`~railwatch.detect.calibration.read_card` refuses (in its words, since
    session 31: a folder, not JSON, not a JSON object, not a regular file)."""
    from railwatch.detect.calibration import read_card

    recorded: list[dict[str, Any]] = []
    for k, path in enumerate(stage_paths, start=1):
        lead = f"training stage {k} left no readable card next to {path}"
        todo = "train the stage again (railwatch train writes the card beside its weights)"
        try:
            card = read_card(path, todo=todo)
        except InputError as err:
            raise InputError(f"{lead}: {err}") from err
        if not card:
            card_path = Path(path).with_suffix(".json")
            what = "is an empty JSON object" if card_path.exists() else "is missing"
            raise InputError(f"{lead}: the card {card_path} {what}; {todo}")
        entry = {"file": Path(path).name, "config": card.get("config"), "bank": card.get("bank")}
        if "trained_on" in card:  # absent on the CPU: the CPU recipe's card as before
            entry["trained_on"] = card["trained_on"]
        recorded.append(entry)
    return recorded


def record_stages(out: Path, stage_paths: Sequence[Path]) -> Path:
    """Put every stage's configuration and bank (:func:`stage_entries`) into the card of
    ``out`` under ``stages``: the card of the last stage holds only its own."""
    from railwatch.detect.calibration import update_card

    return update_card(out, {"stages": stage_entries(stage_paths)})


#: The numerical libraries whose versions a run's card records (the bytes depend on them).
RECORDED_LIBRARIES: tuple[str, ...] = (
    "torch",
    "numpy",
    "opencv-python-headless",
    "onnxruntime",
    "onnx",
)


def library_versions() -> dict[str, str]:
    """The installed versions of :data:`RECORDED_LIBRARIES` (those installed)."""
    import importlib.metadata as md

    versions = {}
    for dist in RECORDED_LIBRARIES:
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return versions


def machine_description() -> str:
    """``x86_64, <CPU model>, CPython 3.x.y``: the machine a run's card names."""
    import platform

    model = "CPU model unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.machine()}, {model}, {platform.python_implementation()} "
        f"{platform.python_version()}"
    )


def record_script_run(
    out: Path,
    stage_paths: Sequence[Path],
    *,
    script: str,
    commands: Sequence[str],
    settings: dict[str, str],
    seconds: dict[str, float],
) -> Path:
    """The card of weights that a script made in several ``railwatch train`` stages
    (``benchmarks/gpu/train_on_device.sh``): ``stages`` (:func:`record_stages`) and a
    ``recipe`` entry naming the script, its settings, each stage's command and wall time,
    the machine, the library versions and the device of the last stage, so that the
    weights say later which device, GPU, seeding, workers and width made them (also after
    the covered-head re-fit, calibration and INT8, which keep the card's entries)."""
    from railwatch.detect.calibration import update_card

    stages = stage_entries(stage_paths)
    last = stages[-1]
    config = last.get("config") or {}
    entry: dict[str, Any] = {
        "name": script,
        "commands": list(commands),
        "settings": dict(settings),
        "seconds": dict(seconds),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_description(),
        "versions": library_versions(),
        "device": last.get("trained_on") or {"device": config.get("device", "cpu")},
    }
    return update_card(out, {"stages": stages, "recipe": entry})
