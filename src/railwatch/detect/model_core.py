"""Pre-processing, target encoding and decoding shared by the default detector and its
training code (NumPy + OpenCV only; no torch).

The network sees every image at one working scale (:data:`WORK_GSD` metres per pixel),
after a local contrast normalisation, and predicts on a grid of stride :data:`STRIDE`:

=========  =====  =====================================================================
channels   name   meaning
=========  =====  =====================================================================
0          heat   car-centre heat map (logit)
1-2        off    sub-cell offset of the centre (x, y), in cells
3-4        size   log(length / 14 m), log(width / 3.1 m)
5-6        axis   cos 2θ, sin 2θ of the car axis
7          body   car-body mask (logit)
8-14       cls    class logits, order :data:`CLASSES`
15         cov    covered-by-tarpaulin logit
=========  =====  =====================================================================
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from railwatch.detect.base import CAR_CLASSES

WORK_GSD = 0.5
STRIDE = 4
NORM_WINDOW_M = 32.0
#: Reduction factor of the image on which the normalisation statistics are computed.
NORM_REDUCE = 5
#: Class order of the network's class logits (the shared car-class vocabulary).
CLASSES: tuple[str, ...] = CAR_CLASSES
N_OUT = 8 + len(CLASSES) + 1
REF_LENGTH_M = 14.0
REF_WIDTH_M = 3.1


@dataclass(frozen=True)
class WorkBox:
    """A car in working-scale pixel coordinates (continuous: pixel k spans [k, k+1))."""

    cx: float
    cy: float
    length: float
    width: float
    angle: float
    cls: int
    #: None: unknown (labels in a format without the flag: DOTA, YOLO-OBB), left out of
    #: the covered loss instead of taught as not covered
    covered: bool | None


def band_planes(image: np.ndarray) -> np.ndarray | None:
    """The band-sequential ``(C, H, W)`` array behind an ``(H, W, C)`` image that is a
    view of one (``planes.transpose(1, 2, 0)``, as ``detect.api`` reads windows for the
    default detector), or None when the image is laid out otherwise (interleaved)."""
    if image.ndim != 3:
        return None
    planes = image.transpose(2, 0, 1)
    return planes if planes.flags.c_contiguous else None


#: Working pixels a tile's start may move by and leave the detector's output on the same
#: grid: the network's coarsest stride (2 x :data:`STRIDE`, its stride-8 features) and
#: the normalisation's reduction (:data:`NORM_REDUCE`), least common multiple (20 m).
WORK_PHASE_PX = math.lcm(2 * STRIDE, NORM_REDUCE)
#: Largest tile alignment (input pixels) :func:`tile_alignment` gives for an exact phase.
MAX_ALIGN_PX = 400


def tile_alignment(gsd: float) -> tuple[int, int]:
    """``(align, multiple)`` in input pixels at ``gsd`` metres per pixel: tiles that start
    at multiples of ``align`` pixels and are ``multiple`` pixels wide and high resample
    (:func:`to_work_scale`) onto one working grid, on which the normalisation and the
    network run at the same phase (:data:`WORK_PHASE_PX`), so a pixel away from a tile's
    edges gets the same output in every such tile that holds it. At 0.5 m (40, 1); at
    0.3 m (200, 5): 5 input pixels are 3 working ones. A scale without a small exact ratio
    of working to input pixels (0.31 m: 31 to 50) gives the nearest alignment (the phase
    is then only about the same: ``multiple`` 1)."""
    scale = gsd / WORK_GSD
    if abs(scale - 1.0) < 1e-3:  # to_work_scale leaves the tile as it is
        return WORK_PHASE_PX, 1
    ratio = Fraction(scale).limit_denominator(64)
    p, q = ratio.numerator, ratio.denominator
    align = q * WORK_PHASE_PX // math.gcd(p, WORK_PHASE_PX)
    if abs(p / q - scale) > 1e-9 * scale or align > MAX_ALIGN_PX:
        return max(1, round(WORK_PHASE_PX / scale)), 1
    return align, q


def to_work_scale(image: np.ndarray, gsd: float) -> tuple[np.ndarray, float]:
    """Resample an (H, W, C) image to :data:`WORK_GSD`; return it and the scale factor
    (working pixels per input pixel). A view of band-sequential planes
    (:func:`band_planes`) is resampled plane by plane and returned as such a view again:
    the same pixel values as resampling it interleaved, without interleaving it."""
    scale = gsd / WORK_GSD
    if abs(scale - 1.0) < 1e-3:
        return image, 1.0
    h, w = image.shape[:2]
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    planes = band_planes(image)
    if planes is not None:
        out = np.empty((planes.shape[0], nh, nw), image.dtype)
        for src, dst in zip(planes, out, strict=True):
            cv2.resize(src, (nw, nh), dst=dst, interpolation=interp)
        return out.transpose(1, 2, 0), nw / w
    out = cv2.resize(image, (nw, nh), interpolation=interp)
    if out.ndim == 2 and image.ndim == 3:
        out = out[..., None]
    return out, nw / w


def _reduce_area(a: np.ndarray, reduce: int) -> np.ndarray:
    """A 2-D float32 array reflect-padded at the bottom and right to a multiple of
    ``reduce`` and area-averaged ``reduce`` times smaller: the same numbers as
    ``cv2.resize`` of ``cv2.copyMakeBorder(a, ..., BORDER_REFLECT)`` with ``INTER_AREA``,
    without copying the whole array into a padded one (the padded last row and column of
    blocks are reduced from small padded strips; every block is the same 5 x 5 sum in
    the same order)."""
    h, w = a.shape[:2]
    ph, pw = -h % reduce, -w % reduce
    out = np.empty(((h + ph) // reduce, (w + pw) // reduce), np.float32)
    hm, wm = h - h % reduce, w - w % reduce
    if (ph or pw) and (hm < reduce or wm < reduce):  # under a block a side: pad it all
        a = cv2.copyMakeBorder(a, 0, ph, 0, pw, cv2.BORDER_REFLECT)
        hm, wm, ph, pw = h + ph, w + pw, 0, 0
    inner = (wm // reduce, hm // reduce)
    out[: inner[1], : inner[0]] = cv2.resize(a[:hm, :wm], inner, interpolation=cv2.INTER_AREA)
    if ph:  # the last row of blocks, corner included, from the rows above it and the pad
        strip = cv2.copyMakeBorder(a[hm - reduce :], 0, ph, 0, pw, cv2.BORDER_REFLECT)
        out[-1:] = cv2.resize(strip[-reduce:], (out.shape[1], 1), interpolation=cv2.INTER_AREA)
    if pw:
        strip = cv2.copyMakeBorder(a[:hm, wm - reduce :], 0, 0, 0, pw, cv2.BORDER_REFLECT)
        out[: inner[1], -1:] = cv2.resize(
            strip[:, -reduce:], (1, inner[1]), interpolation=cv2.INTER_AREA
        )
    return out


def _expand(small: np.ndarray, h: int, w: int, reduce: int, key: str | None = None) -> np.ndarray:
    """``small`` brought back bilinearly to the padded size of an ``h`` x ``w`` array
    (a multiple of ``reduce``) and cut to ``h`` x ``w``; into this thread's scratch
    array ``key`` (:func:`_scratch`) when given."""
    size = (w + (-w % reduce), h + (-h % reduce))
    shape = (size[1], size[0], *small.shape[2:])
    dst = None if key is None else _scratch(key, shape)
    full: np.ndarray = cv2.resize(small, size, dst=dst, interpolation=cv2.INTER_LINEAR)
    return full[:h, :w]


_SCRATCH = threading.local()


def _scratch(key: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 array of ``shape`` kept for the calling thread under ``key`` and reused
    by its next call of the same size: a fresh array of tens of megabytes per tile costs
    the kernel a page fault per 4 kB first touched (about 10 % of a tile's time in
    :func:`normalise`). Only for arrays that never leave the function using them."""
    arrays: dict[str, np.ndarray] | None = getattr(_SCRATCH, "arrays", None)
    if arrays is None:
        arrays = _SCRATCH.arrays = {}
    a = arrays.get(key)
    if a is None or a.shape != shape:
        a = arrays[key] = np.empty(shape, np.float32)
    return a


def _box_mean(
    a: np.ndarray,
    reduce: int,
    k: int,
    then: Callable[[np.ndarray], np.ndarray] | None = None,
    key: str | None = None,
) -> np.ndarray:
    """Box mean over about ``k * reduce`` pixels of a 2-D float32 array, computed on a
    ``reduce``-times smaller copy (area averaging of the reflect-padded array),
    optionally mapped by ``then`` there, and brought back to full size bilinearly (into
    the scratch array ``key`` when given, see :func:`_scratch`). Far cheaper than a
    full-resolution box filter; the result is smooth at this scale anyway."""
    small = cv2.blur(_reduce_area(a, reduce), (k, k), borderType=cv2.BORDER_REFLECT)
    if then is not None:
        small = then(small)
    return _expand(small, a.shape[0], a.shape[1], reduce, key)


def _inverse_std(var: np.ndarray) -> np.ndarray:
    """1 / (standard deviation + 4 grey levels) from a variance map."""
    out: np.ndarray = (1.0 / (np.sqrt(np.maximum(var, 0.0)) + 4.0)).astype(np.float32)
    return out


def _box_mean_planes(
    planes: list[np.ndarray], reduce: int, k: int, key: str | None = None
) -> list[np.ndarray]:
    """:func:`_box_mean` of several 2-D float32 planes at once (the same numbers as on
    their ``cv2.merge``), without interleaving them at full resolution: each plane is
    reduced alone, the small planes are box-filtered together and each is brought back
    to full size as a contiguous plane (scratch arrays ``key0``, ``key1``... when
    ``key`` is given)."""
    h, w = planes[0].shape[:2]
    small = cv2.blur(
        cv2.merge([_reduce_area(p, reduce) for p in planes]), (k, k), borderType=cv2.BORDER_REFLECT
    )
    return [
        _expand(np.ascontiguousarray(small[..., c]), h, w, reduce, key and f"{key}{c}")
        for c in range(len(planes))
    ]


#: Rows per block in the element-wise steps of :func:`normalise` (a block of all its
#: planes stays in the cache between the steps).
NORM_ROWS = 32


def normalise(
    image: np.ndarray, valid: np.ndarray | None = None, *, reuse: bool = False
) -> np.ndarray:
    """Local contrast normalisation at working scale: subtract the local mean of each
    channel and divide by the local luminance standard deviation (window
    :data:`NORM_WINDOW_M`, plus a floor of 4 grey levels). Both statistics are box means
    computed on a :data:`NORM_REDUCE`-times reduced copy and upsampled (they are smooth
    over the window). Returns (3, H, W) float32; invalid pixels are 0.

    Works plane by plane in the output array (since v2.1; the same numbers as the
    interleaved version before it, about 1.7x faster on a 1688 px tile), and since
    2026-12-03 on blocks of :data:`NORM_ROWS` rows in its element-wise steps, without
    padded copies of the planes for the statistics (the same numbers again, about 20 %
    faster). ``image`` may be interleaved or a view of band-sequential planes
    (:func:`band_planes`, as the tiled API reads windows): its planes are copied into the
    output as they are, the latter without a strided de-interleave.

    With ``reuse`` the result is written into this thread's scratch array (see
    :func:`_scratch`), which its next ``reuse`` call overwrites: for a caller that is done
    with it by then (the detector runs the network on it and drops it)."""
    h, w = image.shape[:2]
    out = _scratch("normalised", (3, h, w)) if reuse else np.empty((3, h, w), np.float32)
    for c in range(3):
        out[c] = image[..., c]
    planes = list(out)
    if valid is not None and not valid.all():
        if valid.any():
            mask = np.ascontiguousarray(valid, dtype=np.uint8)
            fill = cv2.mean(np.ascontiguousarray(image[..., :3]), mask=mask)[:3]
        else:
            fill = (0.0, 0.0, 0.0)
        for p, v in zip(planes, fill, strict=True):
            np.copyto(p, np.float32(v), where=~valid)
    k = max(1, round(NORM_WINDOW_M / WORK_GSD / NORM_REDUCE)) | 1
    means = _box_mean_planes(planes, NORM_REDUCE, k, "mean")
    dd = _scratch("dd", (h, w))
    tmp = _scratch("tmp", (min(h, NORM_ROWS), w))
    third = np.float32(1.0 / 3.0)
    for r in range(0, h, NORM_ROWS):  # blocks of rows: each step finds them in the cache
        rows = slice(r, r + NORM_ROWS)
        d, t = dd[rows], tmp[: min(NORM_ROWS, h - r)]
        for c in range(3):
            np.subtract(out[c, rows], means[c][rows], out=out[c, rows])
        np.multiply(out[0, rows], out[0, rows], out=d)
        np.multiply(out[1, rows], out[1, rows], out=t)
        d += t
        np.multiply(out[2, rows], out[2, rows], out=t)
        d += t
        d *= third
    inv = _box_mean(dd, NORM_REDUCE, k, _inverse_std, "inv")
    if valid is not None:
        inv *= valid
    for r in range(0, h, NORM_ROWS):
        o = out[:, r : r + NORM_ROWS]
        o *= inv[None, r : r + NORM_ROWS]
        np.clip(o, -6.0, 6.0, out=o)
    return out


def encode_targets(boxes: list[WorkBox], size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Training targets on the stride grid for an image of ``size`` (H, W) working pixels."""
    gh, gw = size[0] // STRIDE, size[1] // STRIDE
    heat = np.zeros((gh, gw), np.float32)
    reg = np.zeros((4, gh, gw), np.float32)
    reg_mask = np.zeros((gh, gw), np.float32)
    ids = np.zeros((gh, gw), np.int32)
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    for i, b in enumerate(boxes):
        poly = _corners(b) / STRIDE * 8
        cv2.fillPoly(ids, [np.round(poly).astype(np.int32)], i + 1, shift=3)
        gx, gy = b.cx / STRIDE, b.cy / STRIDE
        a = np.deg2rad(b.angle)
        dx, dy = xx + 0.5 - gx, yy + 0.5 - gy
        along = dx * np.cos(a) + dy * np.sin(a)
        across = -dx * np.sin(a) + dy * np.cos(a)
        sa = max(0.8, b.length / STRIDE / 8.0)
        sc = max(0.6, b.width / STRIDE / 4.0)
        g = np.exp(-0.5 * ((along / sa) ** 2 + (across / sc) ** 2))
        heat = np.maximum(heat, g)
        ix, iy = int(np.floor(gx)), int(np.floor(gy))
        if 0 <= ix < gw and 0 <= iy < gh:
            heat[iy, ix] = 1.0
            reg[:, iy, ix] = (
                gx - ix,
                gy - iy,
                np.log(b.length * WORK_GSD / REF_LENGTH_M),
                np.log(b.width * WORK_GSD / REF_WIDTH_M),
            )
            reg_mask[iy, ix] = 1.0
    body = (ids > 0).astype(np.float32)
    axis = np.zeros((2, gh, gw), np.float32)
    cls = np.full((gh, gw), -1, np.int64)
    cov = np.zeros((gh, gw), np.float32)
    cov_known = body.copy()  # where the covered flag is known (every car of a render)
    for i, b in enumerate(boxes):
        m = ids == i + 1
        a = np.deg2rad(2 * b.angle)
        axis[0][m], axis[1][m] = np.cos(a), np.sin(a)
        cls[m] = b.cls
        if b.covered is None:
            cov_known[m] = 0.0
        else:
            cov[m] = float(b.covered)
    return {
        "heat": heat,
        "reg": reg,
        "reg_mask": reg_mask,
        "body": body,
        "axis": axis,
        "cls": cls,
        "cov": cov,
        "cov_known": cov_known,
    }


def _corners(b: WorkBox) -> np.ndarray:
    a = np.deg2rad(b.angle)
    u = np.array([np.cos(a), np.sin(a)]) * b.length / 2
    v = np.array([-np.sin(a), np.cos(a)]) * b.width / 2
    c = np.array([b.cx, b.cy])
    return np.stack([c - u - v, c + u - v, c + u + v, c - u + v])


@dataclass(frozen=True)
class RawDetection:
    """A decoded car at working scale, before conversion to a :class:`Detection`."""

    box: WorkBox
    score: float
    cls_probs: np.ndarray
    covered_score: float


#: Test-time views: (transpose, flip left-right, flip up-down), in the order used.
#: One view is the plain image; 2 adds its mirror, 4 all flips, 8 the eight symmetries
#: of the square grid.
VIEWS: tuple[tuple[bool, bool, bool], ...] = (
    (False, False, False),
    (False, True, False),
    (False, False, True),
    (False, True, True),
    (True, False, False),
    (True, True, False),
    (True, False, True),
    (True, True, True),
)
#: View counts :func:`view_input` / :func:`unview_output` support.
VIEW_COUNTS = (1, 2, 4, 8)


def view_input(x: np.ndarray, view: tuple[bool, bool, bool]) -> np.ndarray:
    """The network input (N, C, H, W) seen under ``view`` (see :data:`VIEWS`); H and W
    must be multiples of :data:`STRIDE` so that the output grid maps cell to cell."""
    transpose, flip_lr, flip_ud = view
    if transpose:
        x = x.transpose(0, 1, 3, 2)
    if flip_lr:
        x = x[..., ::-1]
    if flip_ud:
        x = x[..., ::-1, :]
    return np.ascontiguousarray(x)


def unview_output(out: np.ndarray, view: tuple[bool, bool, bool]) -> np.ndarray:
    """Output maps (N_OUT, gh, gw) of a view's input brought back to the plain image's
    grid and frame: cells moved back, the centre offsets mirrored (an offset ``o`` in
    [0, 1) of its cell becomes ``1 - o``) or swapped, and the axis (cos 2θ, sin 2θ)
    turned with the view (a mirror negates sin 2θ, a transpose negates cos 2θ)."""
    transpose, flip_lr, flip_ud = view
    o = out.copy()
    if flip_ud:
        o = o[:, ::-1, :]
        o[2] = 1.0 - o[2]
        o[6] = -o[6]
    if flip_lr:
        o = o[:, :, ::-1]
        o[1] = 1.0 - o[1]
        o[6] = -o[6]
    if transpose:
        o = o.transpose(0, 2, 1)
        o[[1, 2]] = o[[2, 1]]
        o[5] = -o[5]
    return np.ascontiguousarray(o)


#: How :func:`fuse_views` combines the views: ``mean`` (the heat's peaks and every other
#: map averaged) or ``max`` (each cell from the view with the highest heat there).
FUSE_MODES = ("mean", "max")


def fuse_views(outs: list[np.ndarray], how: str = "mean", handicap: float = 0.0) -> np.ndarray:
    """One set of output maps from several views' (each already :func:`unview_output`).

    ``how="max"``: each cell takes every map from the view whose centre heat is highest
    there (the first such view on ties), the views after the first with their heat
    probability lowered by ``handicap`` first: a peak's offsets, size, axis, class and
    tarp come from the view that saw it best, and no cell's heat falls below the first
    view's (the plain one), whose peaks stay as they are unless another view sees more
    than ``handicap`` more there. ``how="mean"`` (the default): every map is averaged,
    except the centre heat. Its peaks are placed by the mean of
    the views' heat probabilities, but a peak's height is the mean over views of each
    view's highest heat within one cell: views that put the same car's peak one cell
    apart (a car centre near a cell edge) then agree instead of halving each other, while
    a peak that only one view sees is still divided by the number of views. Elsewhere the
    heat stays below that of the peak it surrounds, so no new peaks appear."""
    if how not in FUSE_MODES:
        raise ValueError(f"fuse must be one of {', '.join(FUSE_MODES)}, got {how!r}")
    if len(outs) == 1:
        return outs[0]
    if how == "max":
        stack = np.stack(outs)  # (views, N_OUT, gh, gw)
        if handicap:
            p = np.clip(sigmoid(stack[1:, 0]) - np.float32(handicap), 1e-6, 1.0 - 1e-6)
            stack[1:, 0] = np.log(p / (1.0 - p))
        best = np.argmax(stack[:, 0], axis=0)  # the logit orders as the probability
        return np.ascontiguousarray(np.take_along_axis(stack, best[None, None], axis=0)[0])
    mean = np.asarray(np.mean(outs, axis=0, dtype=np.float32))
    probs = [sigmoid(o[0]) for o in outs]
    placed = np.asarray(np.mean(probs, axis=0, dtype=np.float32))
    kernel = np.ones((3, 3), np.uint8)
    height = np.asarray(np.mean([cv2.dilate(p, kernel) for p in probs], axis=0, dtype=np.float32))
    peak = placed == cv2.dilate(placed, kernel)
    fused = np.where(peak, height, np.minimum(placed, height * 0.999))
    p = np.clip(fused, 1e-6, 1.0 - 1e-6)
    mean[0] = np.log(p / (1.0 - p))
    return mean


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function of a network's logits, as float32 (clipped to +-30 first, so
    no overflow warning); the ONNX and the quantized models' outputs go through it."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30, 30))), dtype=np.float32)


#: The 3 x 3 neighbourhood of a grid cell, row by row, as (row, column) steps.
_NEIGHBOURS = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)], np.intp)


def _neighbourhood_sums(v: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """Sums over the last axis of ``v`` (float32, the 9 cells of 3 x 3 neighbourhoods row
    by row, cells outside the map -0.0) in the order in which NumPy sums such a
    neighbourhood cut out of the map: pairwise for the 9 cells of a neighbourhood
    ``whole`` inside the map, one after the other for one cut by the map's edge (-0.0
    adds nothing), both added to 0.0. Float32 throughout, so each sum is the same number
    bit for bit as ``map[y0:y1, x0:x1].sum()``."""
    c = [v[..., k] for k in range(9)]
    pairwise = (((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]))) + c[8]
    in_turn = c[0]
    for k in range(1, 9):
        in_turn = in_turn + c[k]
    out: np.ndarray = np.float32(0.0) + np.where(whole, pairwise, in_turn)
    return out


def decode(out: np.ndarray, threshold: float) -> list[RawDetection]:
    """Turn the network output (N_OUT, gh, gw) into cars: local maxima of the centre heat
    map above ``threshold``, with offsets, sizes, axis, class and tarp averaged near the
    peak (each map weighted by the heat over the peak's 3 x 3 neighbourhood, cut at the
    map's edge).

    All peaks at once (since 2026-12-03; before, peak by peak in Python): the same
    operations on the same float32 and float64 numbers, the sums in NumPy's order (see
    :func:`_neighbourhood_sums`), so every car is the same bit for bit."""
    heat = sigmoid(out[0])
    peak = heat == cv2.dilate(heat, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(peak & (heat >= threshold))
    if not len(ys):
        return []
    gh, gw = heat.shape
    ny, nx = ys[:, None] + _NEIGHBOURS[:, 0], xs[:, None] + _NEIGHBOURS[:, 1]
    inside = (ny >= 0) & (ny < gh) & (nx >= 0) & (nx < gw)
    whole = inside.all(axis=1)
    ny, nx = np.clip(ny, 0, gh - 1), np.clip(nx, 0, gw - 1)
    minus_zero = np.float32(-0.0)
    w = np.where(inside, heat[ny, nx], minus_zero)  # (N, 9)
    ws = _neighbourhood_sums(w, whole)

    def weighted(maps: np.ndarray) -> np.ndarray:
        """Heat-weighted means of ``maps`` (M, gh, gw) over each peak's neighbourhood
        (M, N), float32: sum of map x heat, divided by the sum of the heat."""
        products = np.where(inside, maps[:, ny, nx] * w, minus_zero)
        mean: np.ndarray = _neighbourhood_sums(products, whole) / ws
        return mean

    c2, s2 = weighted(out[5:7]).astype(np.float64)
    angle = np.rad2deg(np.arctan2(s2, c2)) / 2.0
    at = out[:, ys, xs]  # every map at the peak cell, (N_OUT, N)
    length = REF_LENGTH_M * np.exp(np.clip(at[3], -1.5, 1.5)).astype(np.float64) / WORK_GSD
    width = REF_WIDTH_M * np.exp(np.clip(at[4], -0.7, 0.7)).astype(np.float64) / WORK_GSD
    cx = (xs + at[1].astype(np.float64)) * STRIDE
    cy = (ys + at[2].astype(np.float64)) * STRIDE
    logits = weighted(out[8 : 8 + len(CLASSES)]).T  # (N, classes)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    total = e[:, 0]
    for k in range(1, e.shape[1]):  # as e.sum() adds fewer than 8 numbers: in turn
        total = total + e[:, k]
    probs = e / total[:, None]
    cls = np.argmax(probs, axis=1)
    cov = sigmoid(weighted(out[-1:])[0])
    score = heat[ys, xs]
    return [
        RawDetection(WorkBox(*box, k, c >= 0.5), sc, pr, c)
        for box, k, c, sc, pr in zip(
            zip(
                cx.tolist(),
                cy.tolist(),
                length.tolist(),
                width.tolist(),
                angle.tolist(),
                strict=True,
            ),
            cls.tolist(),
            cov.tolist(),
            score.tolist(),
            probs,
            strict=True,
        )
    ]
