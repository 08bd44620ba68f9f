"""Image chips: a site image with its detections drawn, a scale bar and a north arrow.

Chips are drawn in the pixel coordinates of the site grid (``imagery.SiteGrid``),
so two images of the same site read on the same grid and shown through the same
window cover exactly the same ground: the before/after pair is aligned by
construction. Pixel coordinates follow rasterio: (0, 0) is the top-left corner
of the top-left pixel, x = column, y = row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.patches import Polygon as PolygonPatch
from matplotlib.transforms import Affine2DBase, ScaledTranslation
from mpl_toolkits.axes_grid1.anchored_artists import (  # type: ignore[import-untyped]
    AnchoredSizeBar,
)

from railwatch.detect.base import Detection
from railwatch.imagery.register import phase_shift
from railwatch.report import fonts
from railwatch.report.charts import new_figure, plain_text
from railwatch.report.model import ChipImage
from railwatch.report.style import (
    ANALYST_COLOUR,
    OCCUPIED_COLOUR,
    car_equivalent_m,
    class_colour,
    class_order,
    length_range,
)

_OCCUPIED_OUTLINE = [patheffects.withStroke(linewidth=2.4, foreground="black")]


def occupied_label() -> str:
    """Legend label of a length count's occupied track (:attr:`ChipImage.occupied`): its
    resolutions and car length from the counting's settings, as the chart's legend and
    caption say them. Until 2026-12-05 (session 33) it was written out ("1.5-10 m"), a
    range the rest of the report writes "1.5–10 m" and would not follow."""
    return (
        f"track read as occupied ({length_range()}: car equivalents = length / "
        f"{car_equivalent_m():g} m)"
    )


#: The grey of a chip where it has no image (outside the image's footprint, or masked as
#: no data), and its legend label (:func:`has_nodata`; unexplained until 2026-12-07,
#: session 45).
NODATA_COLOUR = "#d9d9d9"
NODATA_LABEL = "no image data"

#: Legend label of the site's outline (the white dashed line on a chip).
OUTLINE_LABEL = "site boundary"
#: The site outline's dash pattern, on the chips and in their legend.
_OUTLINE_DASHES = (0, (3, 2))


def outline_rings(chip: ChipImage) -> tuple[tuple[tuple[float, float], ...], ...]:
    """The rings of the site's boundary a chip draws (three points or more each): every
    part's exterior and holes (:attr:`ChipImage.site_rings`), else its ``site_outline``."""
    rings = chip.site_rings or (chip.site_outline,)
    return tuple(r for r in rings if len(r) >= 3)


def has_nodata(chip: ChipImage) -> bool:
    """Whether a chip shows grey where it has no image (:data:`NODATA_COLOUR`): pixels of
    its window that are not valid."""
    if chip.valid is None:
        return False
    r0, r1, c0, c1 = chip.window
    return not bool(np.asarray(chip.valid[r0:r1, c0:c1], dtype=bool).all())


def has_outline(chip: ChipImage) -> bool:
    """Whether a chip draws its site's outline (a ring of three points or more)."""
    return bool(outline_rings(chip))


def crop_window(
    shape: tuple[int, int],
    *,
    inside: np.ndarray | None = None,
    detections: Iterable[Detection] = (),
    pad: float = 0.08,
    min_size: int = 32,
) -> tuple[int, int, int, int]:
    """The window ``(row0, row1, col0, col1)`` around the site (pixels inside it)
    and every detection, padded by ``pad`` of its size and clamped to the grid."""
    height, width = shape
    rows: list[float] = []
    cols: list[float] = []
    if inside is not None and inside.any():
        rr = np.flatnonzero(inside.any(axis=1))
        cc = np.flatnonzero(inside.any(axis=0))
        rows += [float(rr[0]), float(rr[-1] + 1)]
        cols += [float(cc[0]), float(cc[-1] + 1)]
    for det in detections:
        corners = det.box.corners()
        cols += [float(corners[:, 0].min()), float(corners[:, 0].max())]
        rows += [float(corners[:, 1].min()), float(corners[:, 1].max())]
    if not rows:
        return (0, height, 0, width)
    r0, r1, c0, c1 = min(rows), max(rows), min(cols), max(cols)
    pr = max((r1 - r0) * pad, (min_size - (r1 - r0)) / 2.0, 0.0)
    pc = max((c1 - c0) * pad, (min_size - (c1 - c0)) / 2.0, 0.0)
    return (
        max(math.floor(r0 - pr), 0),
        min(math.ceil(r1 + pr), height),
        max(math.floor(c0 - pc), 0),
        min(math.ceil(c1 + pc), width),
    )


def nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k metres) about a fifth of ``span_m``."""
    target = max(span_m / 5.0, 1e-9)
    exp = math.floor(math.log10(target))
    best = 10.0**exp
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * 10.0**exp <= target:
            best = step * 10.0**exp
    return best


def north_vector(chip: ChipImage) -> tuple[float, float]:
    """Unit vector (d_col, d_row) pointing to true north in the chip's pixel grid.

    Uses the grid's CRS and transform when known (UTM grid north differs from
    true north by the meridian convergence); otherwise assumes north is up.
    """
    if chip.crs is None or chip.transform is None:
        return (0.0, -1.0)
    from pyproj import Transformer

    r0, r1, c0, c1 = chip.window
    col, row = (c0 + c1) / 2.0, (r0 + r1) / 2.0
    t = chip.transform
    x, y = t.a * col + t.b * row + t.c, t.d * col + t.e * row + t.f
    to_geo = Transformer.from_crs(chip.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_geo.transform(x, y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return (0.0, -1.0)
    x2, y2 = to_geo.transform(lon, min(lat + 1e-3, 89.9), direction="INVERSE")
    inv = ~t
    col2 = inv.a * x2 + inv.b * y2 + inv.c
    row2 = inv.d * x2 + inv.e * y2 + inv.f
    d_col, d_row = col2 - col, row2 - row
    norm = math.hypot(d_col, d_row)
    if norm == 0.0 or not math.isfinite(norm):
        return (0.0, -1.0)
    return (d_col / norm, d_row / norm)


#: The colours of a chip's picture in the PDF (:func:`draw_chip`'s ``palette``).
PDF_COLOURS = 256


def palette_rgb(img: np.ndarray, colours: int = PDF_COLOURS) -> np.ndarray:
    """``img`` (rows × columns × 3, uint8) in at most ``colours`` colours (Pillow's fast
    octree, no dithering), which a PDF stores as one byte a pixel: matplotlib writes an
    image of 256 colours or fewer indexed, and the demo's chips then take about a third of
    their RGB bytes. The octree keeps small saturated patches (car and container colours),
    which median cut gave grey (2026-12-07, session 50)."""
    from PIL import Image

    quantised = Image.fromarray(np.ascontiguousarray(img)).quantize(
        colors=colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    return np.asarray(quantised.convert("RGB"), dtype=np.uint8)


def _rgba(chip: ChipImage, *, palette: bool = False) -> np.ndarray:
    r0, r1, c0, c1 = chip.window
    img = np.asarray(chip.image[r0:r1, c0:c1])
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = img[:, :, :3].astype(np.uint8)
    if palette:
        img = palette_rgb(img)
    alpha = np.full(img.shape[:2], 255, dtype=np.uint8)
    if chip.valid is not None:
        alpha[~np.asarray(chip.valid[r0:r1, c0:c1], dtype=bool)] = 0
    return np.dstack([img, alpha])


def draw_detections(
    ax: Axes,
    detections: Sequence[Detection],
    *,
    linewidth: float = 1.2,
    colour: str | None = None,
    alpha: float = 1.0,
    zorder: float = 3,
) -> None:
    """Outline each detection in its class colour (or ``colour``); covered loads
    hatched and dashed."""
    for det in detections:
        ax.add_patch(
            PolygonPatch(
                det.box.corners(),
                closed=True,
                fill=False,
                edgecolor=colour or class_colour(det.cls),
                linewidth=linewidth,
                linestyle="--" if det.covered else "-",
                hatch="////" if det.covered else None,
                alpha=alpha,
                zorder=zorder,
            )
        )


#: Line width (points) of a car's outline on a chip drawn large enough for it.
OUTLINE_PT = 1.2
#: The outline is at most this share of a car's width as drawn (the gap between two
#: coupled cars is about a third of it), and never under :data:`MIN_OUTLINE_PT`.
OUTLINE_SHARE = 0.25
MIN_OUTLINE_PT = 0.3


def outline_scale(ax: Axes, chip: ChipImage) -> float:
    """How much to thin the cars' outlines (1.0: as :data:`OUTLINE_PT`) for the size the
    chip is drawn at in ``ax``: an outline at most :data:`OUTLINE_SHARE` of the median
    car's width on the page, so that each car and the gap to the next stay visible, and
    the vector outlines of a PDF show each car when zoomed in. (Until 2026-12-06, session
    35, always 1.2 pt, as the HTML's chips still are: the PDF's chips, about 5 inches for
    800 m, drew a 3 m car 1.5 pt wide, and its strings of cars were solid bars of
    colour.)"""
    cars = [*chip.detections, *chip.analyst]
    if not cars:
        return 1.0
    r0, r1, c0, c1 = chip.window
    box = ax.get_position()
    fig = ax.get_figure(root=True)
    if fig is None:
        return 1.0
    width_in, height_in = box.width * fig.get_figwidth(), box.height * fig.get_figheight()
    pt_per_px = 72.0 * min(width_in / max(c1 - c0, 1), height_in / max(r1 - r0, 1))
    car_pt = float(np.median([min(d.box.width, d.box.length) for d in cars])) * pt_per_px
    width = min(OUTLINE_PT, max(MIN_OUTLINE_PT, OUTLINE_SHARE * car_pt))
    return width / OUTLINE_PT


def draw_chip(
    ax: Axes, chip: ChipImage, *, fit_outlines: bool = False, palette: bool = False
) -> None:
    """Draw one chip into ``ax``: image, site outline, detections, scale bar, north arrow
    (its title and caption as written: :func:`~railwatch.report.charts.plain_text`).
    ``fit_outlines`` thins the cars' outlines to the size the chip is drawn at
    (:func:`outline_scale`), for vector output that a reader zooms into (the PDF); a
    picture of fixed pixels (the HTML's JPEG) keeps them at :data:`OUTLINE_PT`, where
    thinner lines fade into the image. ``palette`` draws the picture in
    :data:`PDF_COLOURS` colours (:func:`palette_rgb`), which the PDF stores at a third of
    the bytes, so that it can hold the chip at its own pixels."""
    with plain_text():
        _draw_chip(ax, chip, fit_outlines=fit_outlines, palette=palette)


def _draw_chip(
    ax: Axes, chip: ChipImage, *, fit_outlines: bool = False, palette: bool = False
) -> None:
    r0, r1, c0, c1 = chip.window
    ax.set_facecolor(NODATA_COLOUR)
    ax.imshow(
        _rgba(chip, palette=palette), extent=(c0, c1, r1, r0), interpolation="nearest", zorder=1
    )
    for ring in outline_rings(chip):  # each yard of the site, and any hole
        xs, ys = zip(*ring, strict=True)
        ax.plot(xs, ys, color="white", linewidth=1.0, linestyle=_OUTLINE_DASHES, zorder=2)
    # outlines thin enough for the cars as drawn: a PDF page's chip draws a car 1.5 pt
    # wide, and 1.2 pt outlines made every string of cars one solid bar at any zoom
    scale = outline_scale(ax, chip) if fit_outlines else 1.0
    if chip.analyst:
        # a scene reviewed with outlines: the analyst's cars (its count) in their own
        # colour over the detector's boxes, which stay faint to show what was corrected
        draw_detections(ax, chip.detections, linewidth=0.8 * scale, alpha=0.45)
        draw_detections(ax, chip.analyst, linewidth=1.8 * scale, colour=ANALYST_COLOUR, zorder=4)
    else:
        draw_detections(ax, chip.detections, linewidth=OUTLINE_PT * scale)
    for line in chip.occupied:  # a length count: where along the track it read cars
        xs, ys = zip(*line, strict=True)
        ax.plot(
            xs,
            ys,
            color=OCCUPIED_COLOUR,
            linewidth=1.3,  # thin: the cars under it stay visible
            solid_capstyle="butt",
            path_effects=_OCCUPIED_OUTLINE,
            zorder=3,
        )
    ax.set_xlim(c0, c1)
    ax.set_ylim(r1, r0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])

    span_m = (c1 - c0) * chip.gsd
    length = nice_length(span_m)
    label = f"{length:g} m" if length < 1000 else f"{length / 1000:g} km"
    bar = AnchoredSizeBar(
        ax.transData,
        length / chip.gsd,
        label,
        "lower left",
        pad=0.4,
        color="white",
        frameon=True,
        size_vertical=max((r1 - r0) / 120.0, 1.0),
        label_top=True,
        fontproperties={"size": 8},
    )
    bar.patch.set_facecolor("black")
    bar.patch.set_alpha(0.55)
    bar.patch.set_edgecolor("none")
    ax.add_artist(bar)

    _draw_north(ax, chip)
    # the axes' title and label texts exist before plain_text(): set it on them
    ax.set_title(chip.title, fontsize=10, loc="left").set_parse_math(False)
    caption = ax.set_xlabel("\n".join(chip.caption), fontsize=8, loc="left", linespacing=1.4)
    caption.set_parse_math(False)


#: The north arrow's box (inches), in the chip's upper right corner, and its background:
#: the scale bar's. Until 2026-12-07 (session 45) the arrow stood on the image itself,
#: 9 % in from the right edge, where a whole site's boundary line ran through it.
NORTH_BOX_IN = 0.5
NORTH_MARGIN_IN = 0.06
NORTH_FACE = "black"
NORTH_ALPHA = 0.75


def _draw_north(ax: Axes, chip: ChipImage) -> None:
    """The north arrow and its "N" in a dark box in the chip's upper right corner, over
    the image, its site boundary and its cars (:func:`north_vector`)."""
    fig = ax.get_figure(root=True)
    assert fig is not None
    # inches from the axes' upper right corner, however the axes is sized
    corner = fig.dpi_scale_trans + ScaledTranslation(1.0, 1.0, cast(Affine2DBase, ax.transAxes))
    side, margin = NORTH_BOX_IN, NORTH_MARGIN_IN
    x0, y0 = -margin - side, -margin - side
    ax.add_patch(
        Rectangle(
            (x0, y0),
            side,
            side,
            transform=corner,
            facecolor=NORTH_FACE,
            alpha=NORTH_ALPHA,
            edgecolor="none",
            zorder=6,
            clip_on=False,
        )
    )
    d_col, d_row = north_vector(chip)
    dx, dy = d_col, -d_row  # rows run down the page
    cx, cy = x0 + side / 2.0, y0 + side / 2.0 - 0.04
    arrow_len = 0.26
    tail = (cx - dx * arrow_len / 2.0, cy - dy * arrow_len / 2.0)
    head = (cx + dx * arrow_len / 2.0, cy + dy * arrow_len / 2.0)
    ax.annotate(
        "",
        xy=head,
        xytext=tail,
        xycoords=corner,
        textcoords=corner,
        zorder=7,
        annotation_clip=False,
        arrowprops={
            "arrowstyle": "-|>",
            "color": "white",
            "linewidth": 1.6,
            "mutation_scale": 9,
        },
    )
    ax.text(
        head[0] + dx * 0.08,
        head[1] + dy * 0.08,
        "N",
        transform=corner,
        color="white",
        ha="center",
        va="center",
        fontsize=8,
        fontweight="bold",
        zorder=7,
        clip_on=False,
    )


def draw_legend(
    fig: Figure,
    detections: Iterable[Detection],
    analyst: Iterable[Detection] = (),
    *,
    occupied: bool = False,
    outline: bool = False,
    nodata: bool = False,
    bottom: float = 0.0,
    top: float | None = None,
) -> Legend | None:
    """A figure legend for the classes present (and covered loads, if any), the
    analyst's outlines when a chip draws them, ``occupied`` track when one does, and
    the site's boundary when a chip draws it (``outline``: its white dashed line was
    explained nowhere until 2026-12-05). ``bottom``: the figure fraction it stands on
    (above a list at a PDF page's foot); by default the figure's lower edge. ``top``: the
    figure fraction it hangs from instead (a PDF page's legend right under its chips,
    since 2026-12-07, session 45: it stood at the page's foot). ``nodata``: a chip shows
    grey where it has no image (:func:`has_nodata`)."""
    with plain_text():
        return _draw_legend(
            fig,
            detections,
            analyst,
            occupied=occupied,
            outline=outline,
            nodata=nodata,
            bottom=bottom,
            top=top,
        )


def _draw_legend(
    fig: Figure,
    detections: Iterable[Detection],
    analyst: Iterable[Detection] = (),
    *,
    occupied: bool = False,
    outline: bool = False,
    nodata: bool = False,
    bottom: float = 0.0,
    top: float | None = None,
) -> Legend | None:
    dets = list(detections)
    drawn = list(analyst)
    classes = class_order({d.cls for d in dets})
    handles: list[Patch | Line2D] = [
        Patch(facecolor="none", edgecolor=class_colour(c), linewidth=1.5, label=c) for c in classes
    ]
    if drawn:
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=ANALYST_COLOUR,
                linewidth=1.8,
                label="analyst's outline (counted; detector's boxes faint)",
            )
        )
    if any(d.covered for d in [*dets, *drawn]):
        handles.append(
            Patch(
                facecolor="none",
                edgecolor="#444444",
                hatch="////",
                linestyle="--",
                label="covered load",
            )
        )
    if occupied:
        handles.append(Patch(facecolor=OCCUPIED_COLOUR, edgecolor="black", label=occupied_label()))
    if outline:
        # white as on the chips, edged in grey to show on the page
        handles.append(
            Line2D(
                [],
                [],
                color="white",
                linewidth=1.0,
                linestyle=_OUTLINE_DASHES,
                path_effects=[patheffects.withStroke(linewidth=2.6, foreground="#555555")],
                label=OUTLINE_LABEL,
            )
        )
    if nodata:
        handles.append(
            Patch(facecolor=NODATA_COLOUR, edgecolor="#999999", linewidth=0.6, label=NODATA_LABEL)
        )
    if not handles:
        return None
    if top is not None:
        place: dict[str, Any] = {"loc": "upper center", "bbox_to_anchor": (0.5, top)}
    else:
        place = {"loc": "outside lower center"}
        if bottom:
            place["bbox_to_anchor"] = (0.5, bottom)
    # as many columns as the figure's width holds: a chip alone (5.5 inches) cut off the
    # first and last of six entries in one row (session 45, with "no image data")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ncols = min(len(handles), 8)
    while True:
        legend = fig.legend(handles=handles, ncols=ncols, fontsize=8, frameon=False, **place)
        if ncols == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return legend
        legend.remove()
        ncols -= 1


def _chip_size(chip: ChipImage, width: float) -> tuple[float, float]:
    r0, r1, c0, c1 = chip.window
    aspect = max(r1 - r0, 1) / max(c1 - c0, 1)
    return width, min(max(width * aspect, 2.0), 2.2 * width) + 1.0


#: The height (inches) a chip alone gives a second row of its legend.
CHIP_LEGEND_ROW_IN = 0.3


def chip_figure(chip: ChipImage, *, width: float = 5.5) -> Figure:
    """One chip as a figure, with a class legend (CJK text: :func:`~railwatch.report.
    fonts.cjk_text`)."""
    with fonts.cjk_text():
        w, h = _chip_size(chip, width)
        # room for a legend of two rows: six entries (with "no image data") do not fit
        # one row 5.5 inches wide (session 45)
        fig = new_figure(w, h + CHIP_LEGEND_ROW_IN)
        draw_chip(fig.add_subplot(), chip)
        draw_legend(
            fig,
            chip.detections,
            chip.analyst,
            occupied=bool(chip.occupied),
            outline=has_outline(chip),
            nodata=has_nodata(chip),
        )
    return fig


#: Chips wider than this (width / height) are stacked instead of side by side.
STACK_ASPECT = 1.3


def is_wide(chip: ChipImage) -> bool:
    """True when a chip is wide enough to be shown full width (pairs stacked)."""
    r0, r1, c0, c1 = chip.window
    return (c1 - c0) / max(r1 - r0, 1) > STACK_ASPECT


def pair_figure(before: ChipImage, after: ChipImage, *, width: float = 10.0) -> Figure:
    """Before and after, same window of the same grid, one legend: side by side, or
    before above after when the extent is wide (so cars stay large enough to see). CJK
    text: :func:`~railwatch.report.fonts.cjk_text`."""
    with fonts.cjk_text():
        if is_wide(after):
            _w, h = _chip_size(after, width)
            fig = new_figure(width, 2 * h)
            ax_before, ax_after = fig.subplots(2, 1)
        else:
            _w, h = _chip_size(after, width / 2.0)
            fig = new_figure(width, h)
            ax_before, ax_after = fig.subplots(1, 2)
        draw_chip(ax_before, before)
        draw_chip(ax_after, after)
        draw_legend(
            fig,
            [*before.detections, *after.detections],
            [*before.analyst, *after.analyst],
            occupied=bool(before.occupied or after.occupied),
            outline=has_outline(before) or has_outline(after),
            nodata=has_nodata(before) or has_nodata(after),
        )
    return fig


def estimate_shift(a: ChipImage, b: ChipImage) -> tuple[float, float, float] | None:
    """Apparent ground shift of ``b`` relative to ``a`` in metres (east, south) and
    the phase-correlation peak strength (0–1), from the static background of the
    shared window; None when the window is too small or has too little valid data."""
    r0, r1, c0, c1 = a.window
    if (r1 - r0) < 16 or (c1 - c0) < 16 or b.window != a.window:
        return None

    def grey(chip: ChipImage) -> np.ndarray:
        img = np.asarray(chip.image[r0:r1, c0:c1], dtype=np.float32)
        if img.ndim == 3:
            img = img[:, :, :3].mean(axis=2)
        return img

    ga, gb = grey(a), grey(b)
    both = np.ones(ga.shape, dtype=bool)
    for chip in (a, b):
        if chip.valid is not None:
            both &= np.asarray(chip.valid[r0:r1, c0:c1], dtype=bool)
    if both.mean() < 0.5:
        return None
    ga = np.where(both, ga - ga[both].mean(), 0.0).astype(np.float32)
    gb = np.where(both, gb - gb[both].mean(), 0.0).astype(np.float32)
    dx, dy, response = phase_shift(ga, gb)
    return (dx * a.gsd, dy * a.gsd, response)
