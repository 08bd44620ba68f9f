"""Cut stored scenes into PNG chips with their detections as training labels.

Chips are cut from each scene's own pixel grid (no resampling) over the site's
bounding box, in a grid of ``chip`` x ``chip`` pixels (the last row/column is
moved back to fit, so chips are full size whenever the area allows). A detection
is a label of every chip that contains its centre.

Chips overlap where the area is not a whole number of chips (the last row/column moved
back), and a car whose centre is in an overlap is a label of each: :class:`LabelExport`
gives ``objects`` (the labels, of every chip) and ``cars`` (the distinct cars labelled),
and :data:`MANIFEST` each scene's ``objects`` and ``cars`` alike (since 2026-12-06,
session 40: export-labels said "2 chips with 322 labelled cars" of a scene of 230).

A scene an analyst reviewed with outlines (``railwatch scene review ID --cars``) is
labelled with the analyst's outlines (verified labels), not the detector's boxes; every
other scene with its detections (the detector's, to be corrected). Each chip's
``labels`` (``analyst`` or ``detector``) and ``verified`` are in its metadata (COCO's
``railwatch``), and :data:`MANIFEST` lists every scene with where its labels come from.

Each chip is georeferenced as its scene is (:func:`write_chip`, since 2026-12-06,
session 35): ``images/NAME.png`` with its world file ``NAME.pgw`` (the pixel grid) and
``NAME.png.aux.xml`` (the CRS), which GDAL, hence QGIS and rasterio, read, and which
labelling and training tools pass over (they read the PNG). :data:`MANIFEST` gives each
scene's ``crs`` and each chip's ``transform`` (:func:`chip_transform`), so a label drawn
on a chip in pixels goes back to the ground with :func:`to_ground`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from railwatch.detect.base import ALL_CLASSES
from railwatch.detect.coarse import method_for_gsd
from railwatch.errors import ImageryError, InputError, RailwatchError, os_reason
from railwatch.export.geometry import to_pixels, transform_polygon
from railwatch.export.labels import (
    FORMATS,
    IMAGE_SUFFIXES,
    LabelImage,
    LabelObject,
    LabelSet,
    write_labels,
)
from railwatch.export.paths import files_in_folders
from railwatch.imagery.inspect import (
    alpha_band,
    data_mask,
    own_mask,
    rgb_of,
    transparent_entries,
    undeclared_alpha,
)
from railwatch.imagery.read import (
    colour_table,
    item_nodata_of,
    item_scaling_of,
    palette_colours,
    palette_entries,
    radiometry_of,
    rgb_bands,
    scene_scaling,
)
from railwatch.imagery.read import display_range as scene_display_range
from railwatch.storage import Database, repo
from railwatch.storage.models import Scene, SceneReview

DEFAULT_CHIP = 1024
#: The file of an export-labels folder that says where each scene's labels come from.
MANIFEST = "railwatch_export.json"
#: Where a scene's labels come from: an analyst's outlines (verified), or the detector.
ANALYST_LABELS, DETECTOR_LABELS = "analyst", "detector"


class Car(Protocol):
    """A car to label: a stored detection, or one of an analyst's outlines."""

    @property
    def cls(self) -> str: ...
    @property
    def covered(self) -> bool: ...
    @property
    def score(self) -> float: ...
    @property
    def native_crs(self) -> str: ...
    @property
    def native_geometry(self) -> BaseGeometry: ...


@dataclass(frozen=True)
class AnalystCar:
    """One outline of an analyst's review (``SceneReview.cars``), in the scene's CRS."""

    cls: str
    covered: bool
    native_crs: str
    native_geometry: BaseGeometry
    score: float = 1.0


def analyst_cars(review: SceneReview, scene_crs: str) -> list[AnalystCar]:
    """The outlines of ``review`` as cars to label (every one drawn: the analyst's
    outlines are every car there is, in the site or beside it)."""
    crs = review.native_crs or scene_crs
    return [
        AnalystCar(str(c["cls"]), bool(c["covered"]), crs, Polygon(c["native"]))
        for c in review.cars or []
    ]


def verified_review(review: SceneReview | None, scene: Scene) -> bool:
    """Whether the scene's labels are an analyst's outlines: a review with outlines of
    the scene's file as it is now (a review of another file waits unapplied)."""
    return (
        review is not None
        and review.cars is not None
        and review.content_hash == (scene.content_hash)
    )


@dataclass(frozen=True)
class LabelExport:
    """What :func:`export_labels` wrote. ``objects``: the labels of all the chips, a car
    in the overlap of chips counted in each; ``cars``: the distinct cars labelled (each
    once). ``verified``: the scenes labelled with an analyst's outlines; ``detector``:
    those labelled with the detector's boxes."""

    out: Path
    scenes: int
    chips: int
    objects: int
    skipped: tuple[str, ...]
    verified: tuple[int, ...] = ()
    detector: tuple[int, ...] = ()
    manifest: Path | None = field(default=None)
    cars: int = 0


def tile_starts(size: int, chip: int) -> list[int]:
    """Offsets of chips along one axis covering ``size`` pixels (last one moved back)."""
    if size <= chip:
        return [0]
    starts = list(range(0, size - chip + 1, chip))
    if starts[-1] + chip < size:
        starts.append(size - chip)
    return starts


def chip_transform(scene_transform: Any, col_off: int, row_off: int) -> tuple[float, ...]:
    """The affine transform of a chip whose top-left pixel is (``col_off``, ``row_off``)
    of its scene (``scene_transform``: the scene's, rasterio's :class:`~affine.Affine`):
    the coefficients ``(a, b, c, d, e, f)``, ``x = a * col + b * row + c`` and ``y = d *
    col + e * row + f`` in the scene's CRS, (col, row) = (0, 0) the top-left corner of
    the chip's top-left pixel (rasterio's order; GDAL's geotransform is ``(c, a, b, f, d,
    e)``)."""
    from affine import Affine

    t = Affine(*tuple(scene_transform)[:6]) @ Affine.translation(col_off, row_off)
    return (t.a, t.b, t.c, t.d, t.e, t.f)


def to_ground(
    corners: Sequence[Sequence[float]], transform: Sequence[float]
) -> list[tuple[float, float]]:
    """Pixel ``corners`` (x = column, y = row, as every label format writes them) of a chip
    as coordinates in its scene's CRS, by the chip's ``transform`` (:func:`chip_transform`,
    as :data:`MANIFEST` and COCO's ``railwatch.transform`` give it): a label corrected in
    a labelling tool mapped back to the ground."""
    a, b, c, d, e, f = (float(v) for v in transform[:6])
    return [(a * x + b * y + c, d * x + e * y + f) for x, y in corners]


#: The world file of a chip ``NAME.png`` (the ESRI name, which GDAL and QGIS read; GDAL
#: writes ``.wld``, which ArcGIS and others know less widely).
WORLD_FILE_SUFFIX = ".pgw"


def write_chip(
    path: Path, rgb: np.ndarray, crs: str | None, transform: Sequence[float] | None
) -> None:
    """Write the chip ``rgb`` (rows x columns x 3, 8-bit) as the PNG ``path`` and, with a
    ``crs`` and ``transform`` (:func:`chip_transform`), georeference it: its world file
    (``NAME.pgw``) and ``NAME.png.aux.xml`` (the CRS, GDAL's PAM file) beside it, which
    GDAL (QGIS, rasterio) reads, so the chip opens over the site in QGIS. A CRS that
    GDAL cannot write leaves the chip without them (its transform and CRS are still in
    :data:`MANIFEST`). The pixels are those PIL writes and reads, georeferenced or not."""
    import rasterio
    from affine import Affine
    from rasterio.errors import CRSError

    georef = None
    if crs is not None and transform is not None:
        try:
            georef = (rasterio.crs.CRS.from_user_input(crs), Affine(*transform[:6]))
        except CRSError:
            georef = None
    if georef is None:
        from PIL import Image

        Image.fromarray(rgb).save(path)
        return
    height, width = rgb.shape[:2]
    with rasterio.Env(GDAL_PAM_ENABLED="YES"), rasterio.open(
        path, "w", driver="PNG", width=width, height=height, count=3, dtype="uint8",
        crs=georef[0], transform=georef[1], WORLDFILE="YES",
    ) as dst:  # fmt: skip
        dst.write(np.moveaxis(rgb, -1, 0))
    # GDAL names the world file NAME.wld; NAME.pgw is the name most tools look for
    written = path.with_suffix(".wld")
    if written.is_file():
        written.replace(path.with_suffix(WORLD_FILE_SUFFIX))


def _bands_as_read(
    src: Any, rgb: Sequence[int] | None
) -> tuple[list[int], int | None, np.ndarray | None]:
    """The bands of an open scene to read as red, green, blue (or one grey or colour-table
    band), as the pipeline reads the scene (``imagery.read.read_site_window``): its last
    band when it is an alpha band the file does not declare
    (:func:`~railwatch.imagery.inspect.undeclared_alpha`), and the colour table of a
    one-band colour-table image (index -> RGB, one row per entry:
    :func:`~railwatch.imagery.read.colour_table`), else None. A band labelled alpha that
    holds data (NIR: ``imagery.inspect.alpha_as_data``) is no alpha band (session 46)."""
    bands = rgb_bands(src, bands=rgb)
    hidden = None if alpha_band(src) is not None else undeclared_alpha(src)
    if hidden is not None:
        bands = [b for b in bands if b != hidden] or [1]
    table = colour_table(src, bands) if len(bands) == 1 else None
    return bands, hidden, table


def scene_chips(
    scene: Scene,
    detections: Sequence[Car],
    site_geom: BaseGeometry,
    site_name: str,
    chip: int = DEFAULT_CHIP,
    *,
    source: str = DETECTOR_LABELS,
) -> list[tuple[LabelImage, np.ndarray]]:
    """The labelled chips of one scene over the site's bounding box, labelled with
    ``detections`` (the detector's, or with ``source`` analyst the analyst's outlines,
    which each chip's metadata says: ``labels`` and ``verified``). A car whose centre is
    in the overlap of two chips is a label of both (:func:`scene_chips_and_cars`: how
    many distinct cars the chips label)."""
    return scene_chips_and_cars(scene, detections, site_geom, site_name, chip, source=source)[0]


def scene_chips_and_cars(
    scene: Scene,
    detections: Sequence[Car],
    site_geom: BaseGeometry,
    site_name: str,
    chip: int = DEFAULT_CHIP,
    *,
    source: str = DETECTOR_LABELS,
) -> tuple[list[tuple[LabelImage, np.ndarray]], int]:
    """:func:`scene_chips`, and the number of distinct cars they label: a car in the
    overlap of chips once, where the chips' labels count it once a chip."""
    import rasterio
    from rasterio.windows import Window

    from railwatch.imagery import to_rgb8
    from railwatch.imagery.inspect import gdal_env, gdal_path, is_remote, remote_access_hint

    # s3://, http(s):// and file:// scenes (ingest-stac) are opened and read as the
    # pipeline reads them; rasterio.open(uri) skipped them all as "cannot open scene"
    # a local file with its folder listed, as ingest and the pipeline read it: its CRS,
    # geotransform or mask may be in a sidecar (NAME.aux.xml, .tfw, .msk)
    read_dir = not is_remote(scene.uri)
    try:
        with gdal_env(read_dir=read_dir):
            src_ctx = rasterio.open(gdal_path(scene.uri))
    except rasterio.errors.RasterioIOError as err:
        hint = remote_access_hint(scene.uri)
        raise ImageryError(
            f"cannot open scene {scene.id} ({scene.uri}): {err}" + (f"; {hint}" if hint else "")
        ) from err
    with gdal_env(read_dir=read_dir), src_ctx as src:
        transform = src.transform
        site_px = to_pixels(transform_polygon(site_geom, "EPSG:4326", scene.crs), transform)
        minx, miny, maxx, maxy = site_px.bounds
        c0, r0 = max(int(np.floor(minx)), 0), max(int(np.floor(miny)), 0)
        c1, r1 = min(int(np.ceil(maxx)), src.width), min(int(np.ceil(maxy)), src.height)
        if c1 <= c0 or r1 <= r0:
            return [], 0
        window = Window(c0, r0, c1 - c0, r1 - r0)
        bands, hidden, table = _bands_as_read(src, rgb_of(scene.meta))
        data = src.read(bands, window=window)
        # an alpha band that a nodata value shadows is the mask (data_mask: the pipeline's
        # rule; rasterio printed its NodataShadowWarning, with a source line)
        valid = data_mask(src, window=window) > 0
        # what GDAL's mask does not know but the pipeline reads as no data: an alpha band
        # the file does not declare (RGBA without ExtraSamples) and a colour table's
        # transparent entries (until the session-24 follow-up both were chip pixels of
        # ground: the transparent area's fill, often white, or entry 0's colour)
        if hidden is not None:
            valid &= src.read(hidden, window=window) > 0
        nodata = item_nodata_of(scene.meta)  # its STAC item's, where the file has none
        # a band labelled alpha that holds data (NIR) declares no transparency: the STAC
        # item's nodata applies, as the pipeline reads the scene (session 46)
        declared = src.nodata is not None or alpha_band(src) is not None
        declared = declared or own_mask(src)  # the file's mask wins too (review r2, s38)
        # of a colour-table image an index, as the pipeline reads it (session 39)
        if nodata is not None and not declared and hidden is None:
            valid &= ~(data == nodata).all(axis=0)
        if table is not None and (clear := transparent_entries(src, bands[0])) is not None:
            valid &= ~np.isin(data[0], clear)
        if table is not None:  # an index the table has no entry for: no data
            valid &= palette_entries(data[0], table)
        # as the pipeline reads the scene (``imagery.read.read_site_window``): the scale
        # and offset each band declares applied first (those its STAC item declares
        # where the file declares none), and a display-encoded scene (ingest
        # --radiometry display) mapped linearly by one range of values for its three
        # bands over the whole file
        radiometry = radiometry_of(scene.meta)
        item_scaling = item_scaling_of(scene.meta)
        scaling = None
        display_range = None
        if table is None and data.dtype != np.uint8:
            scaling = scene_scaling(src, bands, item_scaling)
            if radiometry == "display":
                display_range = scene_display_range(src, bands, item_scaling, nodata=nodata)
    if table is not None:  # a colour table's indexes as its colours (were grey levels)
        rgb = palette_colours(data[0], table)[0]
    else:
        rgb = to_rgb8(
            data, valid, radiometry=radiometry, display_range=display_range, scaling=scaling
        )
    rgb[~valid] = 0
    objects = []
    for d in detections:
        geom = d.native_geometry
        if d.native_crs != scene.crs:
            geom = transform_polygon(geom, d.native_crs, scene.crs)
        ring = to_pixels(geom, transform)
        if not isinstance(ring, Polygon):
            continue
        px = np.asarray(ring.exterior.coords, dtype=float)[:4]
        px = px - np.array([c0, r0], dtype=float)
        objects.append((d, px))
    height, width = rgb.shape[:2]
    out = []
    labelled: set[int] = set()  # the cars labelled in some chip, by their index
    for ty in tile_starts(height, chip):
        for tx in tile_starts(width, chip):
            th, tw = min(chip, height - ty), min(chip, width - tx)
            labels = []
            for k, (d, px) in enumerate(objects):
                cx, cy = px[:, 0].mean() - tx, px[:, 1].mean() - ty
                if 0.0 <= cx < tw and 0.0 <= cy < th:
                    labelled.add(k)
                    corners = tuple((float(x - tx), float(y - ty)) for x, y in px)
                    labels.append(LabelObject(cls=d.cls, corners=corners, covered=bool(d.covered),
                                              score=float(d.score)))  # fmt: skip
            name = f"{site_name}_s{scene.id}_r{r0 + ty}_c{c0 + tx}"
            meta = {"scene_id": scene.id, "acquired": scene.acquired_at.isoformat(),
                    "gsd": float(scene.gsd), "crs": scene.crs, "col_off": c0 + tx,
                    "row_off": r0 + ty,
                    "transform": list(chip_transform(transform, c0 + tx, r0 + ty)),
                    "uri": scene.uri, "labels": source,
                    "verified": source == ANALYST_LABELS}  # fmt: skip
            out.append(
                (LabelImage(name, tw, th, tuple(labels), meta),
                 np.ascontiguousarray(rgb[ty : ty + th, tx : tx + tw]))
            )  # fmt: skip
    return out, len(labelled)


def export_labels(
    db: Database,
    out: str | Path,
    fmt: str,
    *,
    site: str | None = None,
    scene_id: int | None = None,
    chip: int = DEFAULT_CHIP,
    progress: Callable[[int, int], None] | None = None,
    reviewed_only: bool = False,
) -> LabelExport:
    """Write chips and labels of every usable processed scene of ``site`` (or of one
    scene) in ``fmt`` to ``out``, and :data:`MANIFEST`. A scene reviewed with outlines is
    labelled with the analyst's outlines (verified), every other with its detections.
    ``reviewed_only``: only the scenes reviewed with outlines (a verified set)."""
    if (site is None) == (scene_id is None):
        raise InputError("give a SITE or --scene ID (exactly one)")
    if fmt not in FORMATS:
        raise InputError(f"unknown label format {fmt!r}: use one of {', '.join(FORMATS)}")
    if chip < 32:
        raise InputError(f"--chip {chip} is too small: use at least 32 pixels")
    _check_fresh_folder(Path(out))
    # read-only: one snapshot of the scenes and their boxes, never SQLite's write lock
    # (a writing session waited behind a running ``railwatch process``, then failed)
    with db.session(readonly=True) as s:
        if scene_id is not None:
            scene = repo.get_scene(s, scene_id)
            scenes = [scene]
            site_row = scene.site
        else:
            site_row = repo.get_site(s, site or "")
            scenes = repo.list_scenes(s, site_row, usable_only=True, status="processed")
        site_name, site_geom = site_row.name, site_row.geometry
        reviews = {sc.id: repo.get_scene_review(s, sc.id) for sc in scenes}
        verified = {sc.id for sc in scenes if verified_review(reviews[sc.id], sc)}
        if reviewed_only:
            scenes = [sc for sc in scenes if sc.id in verified]
        cars: dict[int, Sequence[Car]] = {}
        notes: dict[int, dict[str, Any]] = {}
        for sc in scenes:
            review = reviews[sc.id]
            if sc.id in verified and review is not None:
                cars[sc.id] = analyst_cars(review, sc.crs)
            else:
                dets = repo.list_detections(s, sc.id)
                for d in dets:
                    s.expunge(d)
                cars[sc.id] = dets
            notes[sc.id] = _scene_entry(sc, review, sc.id in verified)
            s.expunge(sc)
    if scene_id is not None and scenes and scenes[0].status != "processed":
        raise InputError(_not_labelled(scenes[0]))
    if reviewed_only and not scenes:
        which = (
            f"scene {scene_id} has no" if scene_id is not None else f"no scene of {site_name} has"
        )
        # status 1, not 2, as eval --site with nothing reviewed (session 31): nothing on
        # the command line is wrong, the site or scene has no verified labels yet
        raise RailwatchError(
            f"{which} outlines of an analyst to export as verified labels (a review "
            "with --cars of its file as it is now): review with `railwatch scene review "
            f"{scene_id if scene_id is not None else 'ID'} --cars corrected.geojson`, or "
            "leave out --reviewed-only to export the detector's labels too"
        )
    if not scenes:
        # an empty dataset was written, status 0 ("wrote 0 chips ... from 0 scenes"), for
        # a site with nothing processed yet (walk-in, 2026-12-07, session 45); status 1
        # as with --reviewed-only: the command line is right, the site has no labels yet
        raise RailwatchError(
            f"no scene of {site_name} is processed and usable: nothing to label (nothing "
            f"written); run `railwatch process {site_name}` first (`railwatch scene list "
            f"{site_name}` gives each image's status)"
        )
    images: list[LabelImage] = []
    skipped: list[str] = []
    distinct = 0
    chip_dir = Path(out) / "images"
    try:
        chip_dir.mkdir(parents=True, exist_ok=True)
        for i, sc in enumerate(scenes):
            try:
                if method_for_gsd(float(sc.gsd)) != "objects":
                    # chips without boxes over cars that are there would teach "no car"
                    raise ImageryError(
                        f"scene {sc.id} ({float(sc.gsd):g} m) is counted by occupied track "
                        "length: it has no car boxes to label"
                    )
                source = ANALYST_LABELS if sc.id in verified else DETECTOR_LABELS
                chips, n_cars = scene_chips_and_cars(
                    sc, cars[sc.id], site_geom, site_name, chip, source=source
                )
            except ImageryError as err:
                skipped.append(str(err))
                notes[sc.id]["skipped"] = str(err)
                chips, n_cars = [], 0
            # the distinct cars: a car in the overlap of chips is a label of each
            notes[sc.id]["cars"] = n_cars
            distinct += n_cars
            for label, rgb in chips:  # written as they are cut: memory stays one scene's
                images.append(label)
                notes[sc.id]["chips"].append(label.name)
                notes[sc.id]["objects"] += len(label.objects)
                notes[sc.id]["chip_transforms"][label.name] = label.meta["transform"]
                write_chip(chip_dir / f"{label.name}.png", rgb, sc.crs, label.meta["transform"])
            if progress is not None:
                progress(i + 1, len(scenes))
        found = {o.cls for img in images for o in img.objects}
        classes = ALL_CLASSES + tuple(sorted(found - set(ALL_CLASSES)))
        root = write_labels(LabelSet(classes, tuple(images)), out, fmt)
        manifest = root / MANIFEST
        manifest.write_text(
            json.dumps(
                {
                    "format": "railwatch-export-labels/1",
                    "site": site_name,
                    "label_format": fmt,
                    "reviewed_only": reviewed_only,
                    "scenes": [notes[sc.id] for sc in scenes],
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    except RailwatchError:
        raise
    except OSError as err:
        raise InputError(
            f"cannot write the labels to {out} ({os_reason(err)}); "
            "give --out a directory you can write to"
        ) from err
    written = [sc.id for sc in scenes if "skipped" not in notes[sc.id]]
    return LabelExport(
        out=root,
        scenes=len(scenes) - len(skipped),
        chips=len(images),
        objects=sum(len(i.objects) for i in images),
        skipped=tuple(skipped),
        verified=tuple(i for i in written if i in verified),
        detector=tuple(i for i in written if i not in verified),
        manifest=manifest,
        cars=distinct,
    )


def _not_labelled(scene: Scene) -> str:
    """Why ``--scene`` of a scene that is not processed and usable cuts no chips, and
    what to do (an unusable or failed scene read "no detections yet: run railwatch
    process first", which for them changes nothing). A scene of 1.5 m or coarser is
    said to be so first, whatever its state: processing it never gives car boxes (a 10
    m scene failed for want of centrelines was told to fix the cause and process it
    again; session 41)."""
    method = method_for_gsd(float(scene.gsd)) if scene.gsd and scene.gsd > 0 else "objects"
    if method != "objects":
        how = "by occupied track length" if method == "length" else "for long trains only"
        return (
            f"scene {scene.id} ({float(scene.gsd):g} m) is too coarse to label car by car: "
            f"it is counted {how} and has no car boxes, now or after `railwatch process`; "
            "export a scene of 1 m or finer (railwatch scene list shows each scene's "
            "resolution)"
        )
    if scene.status == "unusable":
        why = "; ".join(scene.reasons or []) or "quality too low"
        return (
            f"scene {scene.id} is unusable ({why}): it has no detections, and chips of it "
            "would be labelled 'no car' where cars may be hidden; export a usable scene "
            "(railwatch scene list shows which are)"
        )
    if scene.status == "failed":
        error = f" ({scene.error})" if scene.error else ""
        return (
            f"scene {scene.id} failed to process{error}: it has no detections; fix the cause "
            "and run `railwatch process` again"
        )
    return f"scene {scene.id} has no detections yet: run `railwatch process` first"


#: Files and folders of a labels folder (what export-labels and import-labels write):
#: a folder holding any of them is not exported into.
_LABEL_FILES = (MANIFEST, "annotations.json", "dataset.yaml", "railwatch_labels.json")
_LABEL_FOLDERS = (("images", IMAGE_SUFFIXES), ("labelTxt", (".txt",)), ("labels", (".txt",)))


def _check_fresh_folder(out: Path) -> None:
    """An :class:`InputError` when ``out`` holds labels or chips already (an earlier
    export, or a labelling tool's corrections of one): an export into it replaced each
    label file of a chip of the same name (the corrections lost) and left the earlier
    chips of other names beside the new ones, which import-labels and eval then read
    with them (a re-export with another --chip doubled every car)."""
    if not out.is_dir():
        return
    found = [name for name in _LABEL_FILES if (out / name).is_file()]
    found += files_in_folders(out, _LABEL_FOLDERS)
    if found:
        raise InputError(
            f"--out {out} holds labels or chips already ({', '.join(found)}): exporting "
            "into it would replace label files you may have corrected in a labelling tool, "
            "and leave the earlier chips beside the new ones (import-labels and eval would "
            f"read both); give --out a new folder, or move or delete {out} first"
        )


def _scene_entry(scene: Scene, review: SceneReview | None, verified: bool) -> dict[str, Any]:
    """A scene's entry in :data:`MANIFEST`: where its labels come from (``labels``:
    ``analyst``, verified, or ``detector``, to be corrected) and what review it has."""
    entry: dict[str, Any] = {
        "scene_id": scene.id,
        "acquired": scene.acquired_at.isoformat(),
        "gsd": float(scene.gsd),
        "labels": ANALYST_LABELS if verified else DETECTOR_LABELS,
        "verified": verified,
        "chips": [],
        # the labels of its chips (a car in the overlap of chips counted in each) and the
        # distinct cars they label (session 40)
        "objects": 0,
        "cars": 0,
        # each chip's georeference (session 35): the scene's CRS, and per chip the
        # affine coefficients (a, b, c, d, e, f) of :func:`chip_transform`
        "crs": scene.crs,
        "chip_transforms": {},
    }
    if review is not None:
        entry["review"] = {
            "kind": "outlines" if review.cars is not None else "count",
            "counts": dict(review.counts),
            "note": review.note,
            "reviewed_at": review.reviewed_at.isoformat(),
            "applied_to_this_file": review.content_hash == scene.content_hash,
        }
    return entry
