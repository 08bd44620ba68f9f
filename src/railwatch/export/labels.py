"""Training labels: export detections as image chips + labels, import corrected labels.

Formats (all with PNG chips under ``images/``; pixel coordinates, x = column, y = row,
(0, 0) the top-left corner of the top-left pixel):

* ``coco``: ``annotations.json``; each annotation has ``segmentation`` (the 4 corners
  of the oriented box as one polygon), ``bbox``, ``area`` and ``attributes``
  (``covered``, ``score``, ``cx``, ``cy``, ``length``, ``width``, ``angle``). On import
  a polygon closed by repeating its first point, or one of more points, is read as its
  4 corners or its minimum-area rectangle (before any ``bbox``); a ``bbox`` with
  ``attributes.rotation`` (CVAT's rotated box) is turned by it, clockwise, about its
  centre. A mask (RLE), several polygons in one annotation, an annotation of an image
  the file does not list and two images of one name are refused. The file may also be
  the one ``.json`` of the folder or of ``annotations/`` (CVAT), and images named
  without their folder are looked for in ``images/``.
* ``dota``: ``labelTxt/NAME.txt``, one object per line ``x1 y1 x2 y2 x3 y3 x4 y4 class
  difficult`` (DOTA v1 header lines ``imagesource:`` / ``gsd:`` allowed).
* ``yolo-obb``: ``labels/NAME.txt``, one object per line ``class_id x1 y1 ... x4 y4``
  normalised by the image width/height (Ultralytics OBB), and ``dataset.yaml`` (or
  ``data.yaml``) naming the classes.

On import, label files are UTF-8 (a byte-order mark and Windows line ends are
accepted), class names and ``covered`` are read as ``railwatch eval`` reads them
(``detect.geojson.parse_class``/``parse_covered``: ``Tank Car`` is tank), and an image
is found whatever the case of its name. Each image's ground sample distance (DOTA's
``gsd:`` line, a COCO image's ``railwatch.gsd``, else its scene's in the source's
``railwatch_export.json`` that export-labels wrote, else import's ``gsd``) is kept in
``railwatch_labels.json`` for ``railwatch train --labels``. 4 corners that outline no
box (all one point, or out of order: a bow-tie) are refused. So is whether each image's
labels are verified (``verified``: a COCO image's ``railwatch.verified``, else the
source's ``railwatch_export.json`` that export-labels wrote, else ``null``, not said;
import's ``verified`` marks every image verified), which train and eval count.

Geometry (the 4 corners) and class survive every round trip exactly up to the
printed precision (10 significant digits); ``covered`` survives COCO only. A car
belongs to the chip that holds its centre; its corners may reach past the chip
edge (a truncated car), but a label whose centre lies outside its image is an error.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from railwatch.detect.base import ALL_CLASSES
from railwatch.errors import InputError, os_reason, plural
from railwatch.export.geometry import box_from_quad

if TYPE_CHECKING:
    from railwatch.imagery.read import Radiometry

FORMATS: tuple[str, ...] = ("coco", "dota", "yolo-obb")
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
MAX_ERRORS_SHOWN = 20
_NUM = "{:.10g}"


@dataclass(frozen=True)
class LabelObject:
    """One labelled railcar: the 4 corners (4, 2) of its oriented box in pixels."""

    cls: str
    corners: tuple[tuple[float, float], ...]
    covered: bool = False
    score: float = 1.0
    difficult: int = 0

    @property
    def centre(self) -> tuple[float, float]:
        pts = np.asarray(self.corners, dtype=float)
        return float(pts[:, 0].mean()), float(pts[:, 1].mean())


@dataclass(frozen=True)
class LabelImage:
    """One image chip and its objects."""

    name: str
    width: int
    height: int
    objects: tuple[LabelObject, ...]
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    #: The image file read (on import), None for chips being exported
    path: Path | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class LabelSet:
    """Labelled images with their class list (order = class ids of YOLO/COCO)."""

    classes: tuple[str, ...]
    images: tuple[LabelImage, ...]


# ----------------------------------------------------------------------------- errors


class LabelErrors:
    """Collects ``file:line: message`` problems and raises them together."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: Path | str, line: int | None, message: str) -> None:
        loc = f"{where}:{line}" if line is not None else str(where)
        self.items.append(f"{loc}: {message}")

    def raise_if_any(self, what: str) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_ERRORS_SHOWN]
        more = len(self.items) - len(shown)
        tail = f" (and {more} more)" if more > 0 else ""
        raise InputError(
            f"{plural(len(self.items), 'problem')} in {what}{tail}: fix them and import again: "
            + "; ".join(shown)
        )


def _check_object(
    errors: LabelErrors,
    where: Path,
    line: int | None,
    obj: LabelObject,
    image: tuple[int, int] | None,
    classes: Sequence[str],
) -> bool:
    ok = True
    if obj.cls not in classes:
        errors.add(where, line, f"unknown class {obj.cls!r} (known: {', '.join(classes)})")
        ok = False
    pts = np.asarray(obj.corners, dtype=float)
    if pts.shape != (4, 2) or not np.isfinite(pts).all():
        errors.add(where, line, "an oriented box needs 4 finite corners")
        return False
    if not _is_box(pts):
        errors.add(
            where,
            line,
            "the 4 corners do not outline a box (no area, or edges that cross: a bow-tie): "
            "give them in order around the box, clockwise or anticlockwise",
        )
        return False
    if image is not None:
        w, h = image
        cx, cy = obj.centre
        if not (0.0 <= cx <= w and 0.0 <= cy <= h):
            errors.add(
                where,
                line,
                f"label outside the image: centre ({cx:.1f}, {cy:.1f}) not within {w}x{h} px",
            )
            ok = False
    return ok


def _is_box(pts: np.ndarray) -> bool:
    """Whether 4 corners in their order outline a box of some area: a simple quadrilateral
    (no crossing edges) of at least a tenth of a square pixel (a zero-size box, all corners
    one point, or a bow-tie whose corners are out of order are not)."""
    from shapely.geometry import Polygon

    poly = Polygon([tuple(p) for p in pts])
    return bool(poly.is_valid and poly.area >= 0.1)


# ----------------------------------------------------------------------------- writing


def _fmt(v: float) -> str:
    return _NUM.format(v)


def _flat(corners: Sequence[Sequence[float]]) -> list[float]:
    return [float(c) for xy in corners for c in xy]


def write_coco(labels: LabelSet, out: Path) -> Path:
    """``annotations.json`` (COCO detection layout with oriented-box extras)."""
    cat_ids = {c: i + 1 for i, c in enumerate(labels.classes)}
    images, annotations = [], []
    ann_id = 1
    for img_id, img in enumerate(labels.images, start=1):
        images.append(
            {
                "id": img_id,
                "file_name": f"images/{img.name}.png",
                "width": img.width,
                "height": img.height,
                **({"railwatch": img.meta} if img.meta else {}),
            }
        )
        for obj in img.objects:
            pts = np.asarray(obj.corners, dtype=float)
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            box = box_from_quad(pts)
            annotations.append({
                "id": ann_id, "image_id": img_id, "category_id": cat_ids[obj.cls],
                "segmentation": [_flat(obj.corners)],
                "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                "area": float(box.length * box.width), "iscrowd": 0,
                "attributes": {"covered": obj.covered, "score": obj.score,
                               "difficult": obj.difficult, "cx": box.cx, "cy": box.cy,
                               "length": box.length, "width": box.width, "angle": box.angle},
            })  # fmt: skip
            ann_id += 1
    doc = {
        "info": {"description": "railwatch railcar labels", "version": "1.0"},
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": i, "name": c, "supercategory": "railcar"} for c, i in cat_ids.items()
        ],
    }
    path = out / "annotations.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def write_dota(labels: LabelSet, out: Path) -> Path:
    """``labelTxt/NAME.txt`` per image (DOTA v1 oriented boxes)."""
    folder = out / "labelTxt"
    folder.mkdir(parents=True, exist_ok=True)
    for img in labels.images:
        lines = []
        if "gsd" in img.meta:
            lines.append(f"gsd:{_fmt(float(img.meta['gsd']))}")
        for obj in img.objects:
            coords = " ".join(_fmt(v) for v in _flat(obj.corners))
            lines.append(f"{coords} {obj.cls} {obj.difficult}")
        (folder / f"{img.name}.txt").write_text(
            "\n".join(lines) + ("\n" if lines else ""), encoding="utf-8"
        )
    return folder


def write_yolo_obb(labels: LabelSet, out: Path) -> Path:
    """``labels/NAME.txt`` (normalised corners) and ``dataset.yaml`` (Ultralytics)."""
    folder = out / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    ids = {c: i for i, c in enumerate(labels.classes)}
    for img in labels.images:
        lines = []
        for obj in img.objects:
            norm = [v / (img.width if k % 2 == 0 else img.height)
                    for k, v in enumerate(_flat(obj.corners))]  # fmt: skip
            lines.append(f"{ids[obj.cls]} " + " ".join(_fmt(v) for v in norm))
        (folder / f"{img.name}.txt").write_text(
            "\n".join(lines) + ("\n" if lines else ""), encoding="utf-8"
        )
    names = "\n".join(f"  {i}: {c}" for c, i in ids.items())
    (out / "dataset.yaml").write_text(
        f"# Ultralytics OBB dataset written by railwatch\npath: .\ntrain: images\nval: images\n"
        f"names:\n{names}\n",
        encoding="utf-8",
    )
    return folder


WRITERS = {"coco": write_coco, "dota": write_dota, "yolo-obb": write_yolo_obb}


def write_labels(
    labels: LabelSet, out: str | Path, fmt: str, images: dict[str, np.ndarray] | None = None
) -> Path:
    """Write ``labels`` in ``fmt`` under ``out`` (and the chips, when given, as
    ``images/NAME.png``); returns ``out``."""
    if fmt not in WRITERS:
        raise InputError(f"unknown label format {fmt!r}: use one of {', '.join(FORMATS)}")
    root = Path(out)
    (root / "images").mkdir(parents=True, exist_ok=True)
    if images:
        from PIL import Image

        for name, pixels in images.items():
            Image.fromarray(pixels).save(root / "images" / f"{name}.png", optimize=False)
    WRITERS[fmt](labels, root)
    return root


# ----------------------------------------------------------------------------- reading


def _image_size(path: Path) -> tuple[int, int]:
    """The image's width and height: PIL's, else GDAL's for what PIL does not read (a
    TIFF of three 16-bit bands, which import-labels reads as the detector does since
    session 31: :func:`_png_plan`)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return int(im.width), int(im.height)
    except (OSError, UnidentifiedImageError, ValueError) as err:
        from railwatch.imagery.read import open_raster

        try:
            with open_raster(path, error=InputError) as ds:
                return int(ds.width), int(ds.height)
        except InputError:
            pass
        raise InputError(
            f"cannot read the image {path.name} ({err}): replace it with the PNG/JPEG/TIFF "
            "the labels were drawn on"
        ) from err


def _read_text(path: Path, *, name_it: bool = True) -> str:
    """A label file's text: UTF-8 (a byte-order mark, as some Windows tools write, is
    dropped); anything else is an :class:`InputError` saying how to fix it (starting
    with the file's path when ``name_it``)."""
    where = f"{path}: " if name_it else ""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{where}not UTF-8 text ({err.reason} at byte {err.start}): save the label "
            "file as UTF-8"
        ) from err
    except OSError as err:
        raise InputError(f"{where}cannot read the label file ({os_reason(err)})") from err


def _canonical_class(name: str, classes: Sequence[str]) -> str:
    """A class name as labelling tools write it mapped to the known class it names, read
    as ``railwatch eval`` and ``train --labels`` read it (:func:`railwatch.detect.geojson.
    parse_class`: case, spaces, ``_``/``-`` and a trailing ``car`` do not matter, ``Tank
    car`` is tank, ``unknown`` is railcar); unknown names are returned stripped, for the
    error."""
    from railwatch.detect.geojson import parse_class

    text = str(name).strip()
    lower = text.lower()
    if lower in classes:
        return lower
    try:
        cls = parse_class(text)
    except InputError:
        return text
    return cls if cls in classes and text else text


def _gsd_value(value: object) -> float | None:
    """A ground sample distance as a label file gives it (a number, or a number in a
    string as DOTA's ``gsd:`` line): positive and finite, else None."""
    if isinstance(value, bool):
        return None
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def _polygon_corners(values: Sequence[float]) -> tuple[tuple[float, float], ...] | None:
    """4 corners from a flat polygon ``[x1, y1, ...]``: 4 points as they are, a ring
    closed by repeating its first point, or any other polygon of 3 or more points as
    its minimum-area rectangle (what a hand-drawn car outline means). None when it has
    fewer than 3 points or an odd number of values."""
    if len(values) % 2 or len(values) < 6:
        return None
    pts = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    if len(pts) > 3 and np.allclose(pts[0], pts[-1]):
        pts = pts[:-1]
    if len(pts) == 4:
        return tuple((float(x), float(y)) for x, y in pts)
    import cv2

    rect = cv2.boxPoints(cv2.minAreaRect(pts.astype(np.float32)))
    return tuple((float(x), float(y)) for x, y in rect)


def _find_image(root: Path, stem: str) -> Path | None:
    """The image ``stem`` of a label file under ``root/images`` or ``root``: its suffix in
    any case (``.PNG``, ``.Jpg``), and, failing an exact name, its name in another case
    (labelling tools and Windows copies change either)."""
    for folder in (root / "images", root):
        for suffix in IMAGE_SUFFIXES:
            for p in (folder / f"{stem}{suffix}", folder / f"{stem}{suffix.upper()}"):
                if p.is_file():
                    return p
        if folder.is_dir():
            same = sorted(
                f
                for f in folder.iterdir()
                if f.stem.lower() == stem.lower()
                and f.suffix.lower() in IMAGE_SUFFIXES
                and f.is_file()
            )
            if same:
                return same[0]
    return None


def _floats(parts: Sequence[str]) -> list[float] | None:
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    return values if all(math.isfinite(v) for v in values) else None


def _quad(values: Sequence[float]) -> tuple[tuple[float, float], ...]:
    return tuple((float(values[i]), float(values[i + 1])) for i in range(0, 8, 2))


def _coco_file(root: Path) -> Path:
    """The COCO annotations file of ``root``: ``annotations.json``, else the one .json
    file of ``root`` (Roboflow's ``_annotations.coco.json``, Label Studio's
    ``result.json``) or of ``root/annotations`` (CVAT's ``instances_default.json``)."""
    path = root / "annotations.json"
    if path.is_file():
        return path
    for folder in (root, root / "annotations"):
        candidates = sorted(folder.glob("*.json")) if folder.is_dir() else []
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise InputError(
                f"{len(candidates)} .json files in {folder} "
                f"({', '.join(c.name for c in candidates[:4])}): name the COCO one "
                "annotations.json, or move the others out"
            )
    raise InputError(
        f"no COCO annotations in {root}: expected annotations.json (or a single .json file "
        "there or in annotations/)"
    )


def _coco_image(root: Path, path: Path, file_name: str) -> Path | None:
    """The image a COCO ``file_name`` names: relative to ``root`` or to the annotations
    file, else by its base name in ``root/images`` or ``root`` (CVAT and Roboflow write
    the bare name; tools on Windows write backslashes)."""
    rel = file_name.replace("\\", "/")
    base = rel.rsplit("/", 1)[-1]
    for cand in (root / rel, path.parent / rel, root / "images" / base, root / base):
        if base and cand.is_file():
            return cand
    return None


def _rotated_bbox(
    x: float, y: float, w: float, h: float, degrees: float
) -> tuple[tuple[float, float], ...]:
    """The corners of a COCO ``bbox`` turned by ``degrees`` about its centre, clockwise on
    the image (y down), as CVAT exports a rotated box (``attributes.rotation``)."""
    cx, cy = x + w / 2, y + h / 2
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    out = []
    for px, py in ((x, y), (x + w, y), (x + w, y + h), (x, y + h)):
        dx, dy = px - cx, py - cy
        out.append((cx + dx * c - dy * s, cy + dx * s + dy * c))
    return tuple(out)


def read_coco(root: Path, classes: Sequence[str], errors: LabelErrors) -> LabelSet:
    """Read COCO annotations (``annotations.json``, see :func:`_coco_file`) under ``root``."""
    path = _coco_file(root)
    try:
        doc = json.loads(_read_text(path))
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not a COCO JSON file ({err})") from err
    if not isinstance(doc, dict) or not {"images", "annotations", "categories"} <= set(doc):
        raise InputError(f"{path}: not COCO: needs 'images', 'annotations' and 'categories'")
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc[key], list) or not all(isinstance(v, dict) for v in doc[key]):
            raise InputError(
                f"{path}: not COCO: '{key}' must be a list of objects "
                '({"id": ..., ...}), as COCO writes it'
            )
    cats = {c.get("id"): c.get("name") for c in doc["categories"]}
    image_ids = {info.get("id") for info in doc["images"]}
    per_image: dict[Any, list[LabelObject]] = {}
    for k, ann in enumerate(doc["annotations"]):
        where = f"{path} annotation[{k}]"
        if "image_id" not in ann:
            errors.add(where, None, "annotation without image_id")
            continue
        if ann["image_id"] not in image_ids:
            # its car would be lost: no image of the file has that id
            errors.add(
                where,
                None,
                f"image_id {ann['image_id']!r} is not among the file's images: add the image "
                "to 'images' or delete the annotation",
            )
            continue
        name = cats.get(ann.get("category_id"))
        if name is None:
            errors.add(where, None, f"unknown category_id {ann.get('category_id')!r}")
            continue
        seg = ann.get("segmentation")
        attrs = ann.get("attributes") or {}
        if not isinstance(attrs, dict):
            attrs = {}
        corners: tuple[tuple[float, float], ...] | None = None
        if isinstance(seg, dict):
            errors.add(
                where,
                None,
                "segmentation is a mask (RLE), not a polygon: draw the car as a polygon or "
                "a rotated box, or export polygons",
            )
            continue
        if isinstance(seg, list) and len(seg) > 1 and all(isinstance(v, list) for v in seg):
            errors.add(
                where,
                None,
                f"segmentation has {len(seg)} polygons: draw one polygon per car (one "
                "annotation each)",
            )
            continue
        if isinstance(seg, list) and seg and isinstance(seg[0], list) and len(seg[0]) >= 6:
            vals = _floats(seg[0])
            corners = _polygon_corners(vals) if vals else None
            if corners is None:
                errors.add(where, None, "segmentation must be one polygon [x1, y1, x2, y2, ...]")
                continue
        elif isinstance(ann.get("bbox"), list) and len(ann["bbox"]) == 4:
            vals = _floats(ann["bbox"])
            rotation = attrs.get("rotation", 0.0)
            if isinstance(rotation, bool) or not isinstance(rotation, int | float | str):
                rotation = None
            try:
                turn = float(rotation) if rotation is not None else math.nan
            except ValueError:
                turn = math.nan
            if not math.isfinite(turn):
                errors.add(where, None, f"attributes 'rotation' must be degrees, got {rotation!r}")
                continue
            if vals:
                x, y, w, h = vals
                corners = _rotated_bbox(x, y, w, h, turn) if turn else _quad_of_bbox(x, y, w, h)
        if corners is None:
            errors.add(where, None, "needs a 4-corner segmentation polygon or a bbox")
            continue
        try:
            score = float(attrs.get("score", 1.0))
            difficult = int(attrs.get("difficult", 0))
        except (TypeError, ValueError):
            errors.add(where, None, "attributes 'score' and 'difficult' must be numbers")
            continue
        from railwatch.detect.geojson import parse_covered

        try:  # as railwatch eval and train --labels read it ("false" and "no" are false)
            covered = parse_covered(attrs.get("covered"), "attributes")
        except InputError as err:
            errors.add(where, None, str(err))
            continue
        obj = LabelObject(
            cls=_canonical_class(str(name), classes), corners=corners, covered=covered,
            score=score, difficult=difficult,
        )  # fmt: skip
        per_image.setdefault(ann["image_id"], []).append(obj)
    images = []
    seen: dict[str, str] = {}
    for info in doc["images"]:
        file_name = str(info.get("file_name", ""))
        img_path = _coco_image(root, path, file_name) if file_name else None
        where = f"{path} image {file_name!r}"
        if img_path is None:
            errors.add(where, None, f"missing image file {root / file_name}")
            continue
        stem = img_path.stem
        if stem.lower() in seen:
            # both would be written as images/NAME.png: the second replaced the first
            errors.add(
                where,
                None,
                f"another image of the file is also named {stem} ({seen[stem.lower()]!r}): "
                "give each image its own name",
            )
            continue
        seen[stem.lower()] = file_name
        try:
            size = _image_size(img_path)
        except InputError as err:
            errors.add(where, None, str(err))
            continue
        if (info.get("width"), info.get("height")) != size:
            errors.add(where, None, f"width/height {info.get('width')}x{info.get('height')} "
                                    f"differ from the image ({size[0]}x{size[1]})")  # fmt: skip
        meta = info.get("railwatch")  # what export-labels records: scene, date, gsd, ...
        meta = dict(meta) if isinstance(meta, dict) else {}
        if "gsd" in meta:
            if _gsd_value(meta["gsd"]) is None:
                errors.add(where, None, f"railwatch.gsd must be a positive number of metres, "
                                        f"got {meta['gsd']!r}")  # fmt: skip
                continue
            meta["gsd"] = _gsd_value(meta["gsd"])
        objs = per_image.get(info.get("id"), [])
        good = [o for o in objs if _check_object(errors, Path(where), None, o, size, classes)]
        images.append(LabelImage(stem, size[0], size[1], tuple(good), meta, path=img_path))
    ordered = [str(cats[k]) for k in sorted(cats, key=lambda v: (str(type(v)), v))]
    return LabelSet(tuple(ordered), tuple(images))


def _quad_of_bbox(x: float, y: float, w: float, h: float) -> tuple[tuple[float, float], ...]:
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def _label_files(folder: Path, what: str) -> list[Path]:
    if not folder.is_dir():
        raise InputError(f"{folder} not found: a {what} dataset keeps its labels there")
    return sorted(folder.glob("*.txt"))


def read_dota(root: Path, classes: Sequence[str], errors: LabelErrors) -> LabelSet:
    """Read DOTA ``labelTxt/*.txt`` (and images) under ``root``."""
    images = []
    for path in _label_files(root / "labelTxt", "DOTA"):
        img_path = _find_image(root, path.stem)
        if img_path is None:
            errors.add(path, None, f"missing image {path.stem}.png under {root / 'images'}")
            continue
        try:
            size = _image_size(img_path)
            text = _read_text(path, name_it=False)
        except InputError as err:
            errors.add(path, None, str(err))
            continue
        objs = []
        meta: dict[str, Any] = {}
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("imagesource:"):
                continue
            if line.startswith("gsd:"):  # kept: train --labels needs it
                gsd = _gsd_value(line[4:].strip())
                if gsd is None:
                    errors.add(path, n, f"gsd must be a positive number of metres, got {line!r}")
                else:
                    meta["gsd"] = gsd
                continue
            parts = line.split()
            if len(parts) not in (9, 10):
                errors.add(path, n, "expected 'x1 y1 x2 y2 x3 y3 x4 y4 class [difficult]'")
                continue
            vals = _floats(parts[:8])
            if vals is None:
                errors.add(path, n, "corner coordinates must be numbers")
                continue
            difficult = parts[9] if len(parts) == 10 else "0"
            if difficult not in ("0", "1"):
                errors.add(path, n, f"difficult must be 0 or 1, got {difficult!r}")
                continue
            obj = LabelObject(
                cls=_canonical_class(parts[8], classes),
                corners=_quad(vals),
                difficult=int(difficult),
            )
            if _check_object(errors, path, n, obj, size, classes):
                objs.append(obj)
        images.append(LabelImage(path.stem, size[0], size[1], tuple(objs), meta, path=img_path))
    return LabelSet(tuple(classes), tuple(images))


def _yaml_unquote(token: str, path: Path) -> str:
    """A YAML scalar as written in a ``names`` list: ``'it''s'``, ``"tank"`` or plain."""
    tok = token.strip()
    if len(tok) >= 2 and tok[0] == tok[-1] == "'":
        return tok[1:-1].replace("''", "'")
    if len(tok) >= 2 and tok[0] == tok[-1] == '"':
        try:
            return str(json.loads(tok))
        except json.JSONDecodeError as err:
            raise InputError(f"{path}: cannot read the class name {tok} in 'names'") from err
    return tok


def _yaml_flow(text: str, path: Path) -> list[str]:
    """The items of the YAML flow collection ``[...]`` or ``{...}`` that ``text`` starts
    with (it may run over several lines and hold ``# comments``), each as written,
    quotes kept; an :class:`InputError` for one that is not closed or holds another."""
    close = "]" if text[0] == "[" else "}"
    items: list[str] = []
    item: list[str] = []
    quote = ""
    k = 1
    while k < len(text):
        ch = text[k]
        if quote:
            item.append(ch)
            if quote == '"' and ch == "\\" and k + 1 < len(text):
                item.append(text[k + 1])
                k += 1
            elif ch == quote and quote == "'" and text[k + 1 : k + 2] == "'":
                item.append("'")
                k += 1
            elif ch == quote:
                quote = ""
        elif ch == "#" and (k == 0 or text[k - 1].isspace()):
            k = text.find("\n", k)
            if k < 0:
                break
            continue
        elif ch in "'\"" and re.search(r"(^|:)\s*$", "".join(item)):
            quote = ch
            item.append(ch)
        elif ch in "[]{}" and ch != close:
            raise InputError(
                f"{path}: 'names' holds a nested list or map at {ch!r}: give one name per "
                "class, e.g. names: [tank, hopper] or names: {0: tank, 1: hopper}"
            )
        elif ch in (",", close):
            items.append("".join(item))
            item = []
            if ch == close:
                return [i for i in items if i.strip()]  # a trailing comma adds no class
        else:
            item.append(" " if ch in "\r\n" else ch)
        k += 1
    raise InputError(
        f"{path}: 'names: {text[0]}' is never closed with {close!r}: close the list of class names"
    )


def _yaml_id_names(entries: Iterable[tuple[str, str]], path: Path) -> list[str]:
    """Class names from ``id: name`` entries (ids 0..n-1, in any order)."""
    names: dict[int, str] = {}
    for key, value in entries:
        cid = _yaml_unquote(key, path)
        if not cid.isdigit():
            raise InputError(
                f"{path}: 'names' key {key.strip()!r} is not a class id: write id: name, "
                "e.g. names: {0: tank, 1: hopper}"
            )
        names[int(cid)] = _yaml_unquote(value, path)
    if sorted(names) != list(range(len(names))):
        raise InputError(f"{path}: class ids in 'names' must be 0..{len(names) - 1}")
    return [names[i] for i in range(len(names))]


def read_yaml_names(path: Path) -> list[str]:
    """Class names from an Ultralytics ``dataset.yaml``: ``names`` as a list or an id map,
    in block form (one a line) or flow form (``[tank, hopper]``, ``{0: tank, 1: hopper}``,
    over one line or several)."""
    raw = _read_text(path)
    top = re.search(r"^names[ \t]*:[ \t]*", raw, re.MULTILINE)
    rest = raw[top.end() :] if top else ""
    flow = re.match(r"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*(?=[\[{])", rest)
    if flow:  # the list may start on the next line
        rest = rest[flow.end() :]
    if rest[:1] in ("[", "{"):
        items = _yaml_flow(rest, path)
        if not items:
            raise InputError(
                f"{path}: 'names: {rest[0]}...' lists no classes: name each class, e.g. "
                "names: [tank, hopper]"
            )
        if rest[0] == "[":
            return [_yaml_unquote(i, path) for i in items]
        pairs = []
        for item in items:
            key, colon, value = item.partition(":")
            if not colon:
                raise InputError(
                    f"{path}: 'names' entry {item.strip()!r} is not id: name, e.g. "
                    "names: {0: tank, 1: hopper}"
                )
            pairs.append((key, value))
        return _yaml_id_names(pairs, path)
    # a comment (``  0: tank  # wagons``) is not part of a name
    lines = [re.sub(r"(^|\s+)#.*$", "", ln) for ln in rest.splitlines()] or [""]
    if top is None or lines[0].strip():
        raise InputError(
            f"{path}: no 'names:' list of classes"
            + (f" ('names: {lines[0].strip()}' is one value)" if top is not None else "")
            + ": write names: [tank, hopper], names: {0: tank, 1: hopper}, or one "
            "'  0: tank' (or '  - tank') a line under 'names:'"
        )
    block: list[str] = []
    for line in lines[1:]:
        if line.strip() and not line[:1].isspace() and not line.startswith("- "):
            break  # the next top-level key (a list under names: may start in column 0)
        if line.strip():
            block.append(line.strip())
    pairs = []
    listed: list[str] = []
    for line in block:
        m = re.match(r"""^((?:'\d+'|"\d+"|\d+))\s*:\s*(.+)$""", line)
        if m:
            pairs.append((m.group(1), m.group(2)))
        elif line.startswith("- "):
            listed.append(_yaml_unquote(line[2:], path))
    if pairs:
        return _yaml_id_names(pairs, path)
    if not listed:
        raise InputError(
            f"{path}: 'names:' lists no classes: write names: [tank, hopper], or one "
            "'  0: tank' (or '  - tank') a line under it"
        )
    return listed


def read_yolo_obb(root: Path, classes: Sequence[str], errors: LabelErrors) -> LabelSet:
    """Read Ultralytics OBB ``labels/*.txt`` with ``dataset.yaml`` (or ``classes.txt``)."""
    yaml = next((root / n for n in ("dataset.yaml", "data.yaml") if (root / n).is_file()), None)
    if yaml is not None:  # data.yaml: what Roboflow and CVAT's Ultralytics export write
        names = read_yaml_names(yaml)
    elif (root / "classes.txt").is_file():
        text = _read_text(root / "classes.txt")
        names = [n.strip() for n in text.splitlines() if n.strip()]
    else:
        raise InputError(
            f"{root}: a YOLO-OBB dataset needs dataset.yaml or data.yaml (names: ...) or "
            "classes.txt "
            "to map class ids to names"
        )
    names = [_canonical_class(n, classes) for n in names]
    images = []
    for path in _label_files(root / "labels", "YOLO-OBB"):
        img_path = _find_image(root, path.stem)
        if img_path is None:
            errors.add(path, None, f"missing image {path.stem}.png under {root / 'images'}")
            continue
        try:
            w, h = _image_size(img_path)
            text = _read_text(path, name_it=False)
        except InputError as err:
            errors.add(path, None, str(err))
            continue
        objs = []
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 9:
                errors.add(path, n, "expected 'class_id x1 y1 x2 y2 x3 y3 x4 y4' (normalised)")
                continue
            vals = _floats(parts[1:])
            if vals is None or not parts[0].isdigit():
                errors.add(path, n, "class id must be an integer and coordinates numbers")
                continue
            cid = int(parts[0])
            if cid >= len(names):
                errors.add(
                    path, n, f"class id {cid} not in dataset.yaml names (0..{len(names) - 1})"
                )
                continue
            if max(abs(v) for v in vals) > 2.0:
                errors.add(
                    path,
                    n,
                    "coordinates are pixels, but YOLO-OBB wants them divided by the image "
                    f"width/height ({w}x{h} px), i.e. between 0 and 1",
                )
                continue
            px = [v * (w if k % 2 == 0 else h) for k, v in enumerate(vals)]
            obj = LabelObject(cls=names[cid], corners=_quad(px))
            if _check_object(errors, path, n, obj, (w, h), classes):
                objs.append(obj)
        images.append(LabelImage(path.stem, w, h, tuple(objs), path=img_path))
    return LabelSet(tuple(names), tuple(images))


READERS = {"coco": read_coco, "dota": read_dota, "yolo-obb": read_yolo_obb}


def read_labels(src: str | Path, fmt: str, *, classes: Sequence[str] = ALL_CLASSES) -> LabelSet:
    """Read and validate a label dataset; every problem is reported at once as
    :class:`InputError` listing ``file:line: message``."""
    if fmt not in READERS:
        raise InputError(f"unknown label format {fmt!r}: use one of {', '.join(FORMATS)}")
    root = Path(src)
    if not root.is_dir():
        raise InputError(f"{root} is not a directory of labels and images")
    errors = LabelErrors()
    labels = READERS[fmt](root, classes, errors)
    errors.raise_if_any(f"{fmt} labels in {root}")
    if not labels.images:
        raise InputError(f"no labelled images found in {root} for format {fmt}")
    return labels


# ----------------------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportSummary:
    """What :func:`import_labels` wrote."""

    out: Path
    images: int
    objects: int
    by_class: dict[str, int]
    #: Images of the source's ``images/`` folder with no label file, left out (not read
    #: as images without cars: an empty label file says that)
    unlabelled: tuple[str, ...] = ()
    #: Images written without a ground sample distance (their labels carry none and no
    #: ``gsd`` was given): ``railwatch train --labels`` cannot read the folder
    without_gsd: tuple[str, ...] = ()
    #: Images by where their labels come from (``verified``, ``detector``, ``unknown``:
    #: :meth:`railwatch.detect.labels.LabelledSet.provenance`)
    provenance: dict[str, int] = field(default_factory=dict)
    #: The distinct cars labelled, as the source's export-labels manifest gives them
    #: (``objects`` counts a car in the overlap of chips once a chip); None where that
    #: cannot be known (:func:`railwatch.detect.labels.export_distinct_cars`; session 40)
    cars: int | None = None


def check_gsd(gsd: float | None) -> float | None:
    """``--gsd METRES`` of import-labels: None, or a positive finite number of metres."""
    if gsd is None:
        return None
    value = _gsd_value(gsd)
    if value is None:
        raise InputError(
            f"--gsd {gsd!r}: give the ground sample distance of the images in metres per "
            "pixel, a positive number (e.g. 0.5)"
        )
    return value


def _export_gsds(root: Path, errors: LabelErrors) -> dict[str, float]:
    """Each chip's ground sample distance, by chip name, from the ``railwatch_export.json``
    that export-labels wrote in ``root`` (each scene's ``gsd`` and ``chips``); empty when
    there is none. A scene's ``gsd`` that is no positive number is an error; a file that
    cannot be read is refused by ``detect.labels.read_export_provenance``, which reads it
    first."""
    from railwatch.detect.labels import EXPORT_MANIFEST

    path = root / EXPORT_MANIFEST
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}  # said by read_export_provenance
    scenes = doc.get("scenes") if isinstance(doc, dict) else None
    out: dict[str, float] = {}
    for k, entry in enumerate(scenes if isinstance(scenes, list) else ()):
        if not isinstance(entry, dict) or entry.get("gsd") is None:
            continue
        value = _gsd_value(entry["gsd"])
        if value is None:
            errors.add(
                path,
                None,
                f"scene entry {k} gives gsd {entry['gsd']!r}, not a positive number of "
                "metres: export the labels again (railwatch export-labels), or correct it",
            )
            continue
        for chip in entry.get("chips") or ():
            out[str(chip)] = value
    return out


def _image_gsd(
    img: LabelImage, gsd: float | None, exported: dict[str, float], errors: LabelErrors
) -> float | None:
    """An image's ground sample distance: its labels' (DOTA ``gsd:``, COCO
    ``railwatch.gsd``), else its scene's in the source's ``railwatch_export.json``
    (``exported``: YOLO-OBB carries none, and a labelling tool may drop DOTA's header),
    else ``gsd``; a ``gsd`` that contradicts either is an error."""
    own = _gsd_value(img.meta.get("gsd"))
    known = own if own is not None else exported.get(img.name)
    if known is not None and gsd is not None and abs(known - gsd) > 1e-6 * known:
        if own is not None:
            said, used = f"its labels give gsd {own:g} m", "the labels' own"
        else:
            said = f"railwatch_export.json (written by export-labels) gives gsd {known:g} m"
            used = "the export's"
        errors.add(
            img.path or img.name,
            None,
            f"{said}, --gsd gives {gsd:g} m: leave out --gsd ({used} is used), or correct "
            + ("the labels" if own is not None else "railwatch_export.json"),
        )
    return known if known is not None else gsd


def _image_verified(img: LabelImage, exported: dict[str, bool], errors: LabelErrors) -> bool | None:
    """Whether an image's labels are verified: a COCO image's ``railwatch.verified`` (or
    its ``labels``: ``analyst``/``detector``), as export-labels writes it, else what the
    source's export-labels manifest says of the chip, else None (not said)."""
    meta = img.meta
    value = meta.get("verified")
    if value is None and meta.get("labels") in ("analyst", "detector"):
        value = meta["labels"] == "analyst"
    if value is not None and not isinstance(value, bool):
        errors.add(
            img.path or img.name,
            None,
            f"railwatch.verified must be true or false, got {value!r}: leave it as "
            "export-labels wrote it, or remove it (not said)",
        )
        return None
    return value if value is not None else exported.get(img.name)


#: The training set's file that ``railwatch train --labels`` reads (:data:`railwatch.
#: detect.labels.MANIFEST`).
TRAINING_MANIFEST = "railwatch_labels.json"


def _check_out(dest: Path, root: Path) -> set[str]:
    """An :class:`InputError` when ``dest`` holds a training set imported from another
    source than ``root``, or images or labels that are no training set: the import
    replaced its ``railwatch_labels.json``, and train --labels no longer saw the images
    imported there before (``import-labels batch2/ --site yard`` after ``batch1/`` lost
    batch 1 without a word). The same source imported again (after more corrections)
    replaces its earlier import: the names of that import's images are returned (empty
    for a new folder)."""
    manifest = dest / TRAINING_MANIFEST
    if manifest.is_file():
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            doc = None
        doc = doc if isinstance(doc, dict) else {}
        source = doc.get("source")
        images = doc.get("images")
        if source == str(root.resolve()):
            entries = images if isinstance(images, list) else []
            return {
                e["name"]
                for e in entries
                if isinstance(e, dict) and isinstance(e.get("name"), str) and _plain(e["name"])
            }
        n = f", {len(images)} images" if isinstance(images, list) else ""
        origin = f"imported from {source}" if isinstance(source, str) else "of unknown origin"
        raise InputError(
            f"--out {dest} holds a training set {origin}{n}: importing {root} there would "
            f"replace its {TRAINING_MANIFEST}, and railwatch train --labels would no longer "
            f"see those images; give --out a folder of its own (e.g. {dest.name}-2 beside "
            f"it: train --labels {dest.parent} reads both), or delete {dest} first to "
            "replace it"
        )
    from railwatch.export.paths import files_in_folders

    found = files_in_folders(dest, (("images", IMAGE_SUFFIXES), ("labels", (".txt",))))
    if found:
        raise InputError(
            f"--out {dest} holds images or labels already ({', '.join(found)}) and no "
            f"{TRAINING_MANIFEST}: the import would write over them and mix its images "
            "with them; give --out a new folder"
        )
    return set()


def _plain(name: str) -> bool:
    """Whether ``name`` is a plain file name (no folder, not ``..``): only those of an
    earlier manifest are removed from the training set's folders."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


#: How :func:`import_labels` writes an image as ``images/NAME.png``: ``copy`` (an 8-bit
#: PNG whose bands are read as stored, no colour table among them), else the radiometry
#: to read it with (:func:`_png_plan`).
_PngPlan = Literal["copy", "linear", "display"]


def _png_plan(path: Path | None, errors: LabelErrors) -> _PngPlan | None:
    """How the image ``path`` is to be written for training (:data:`_PngPlan`), so that
    the chip a model is trained on is what ``railwatch detect`` sees of the file: other
    than a plain 8-bit PNG (every band 8-bit, the bands detect reads those it reads
    without a sidecar, none a colour table), its pixels and no data are read by the
    reader of label reading (``detect.labels.read_label_image``: the bands detect reads,
    ``--bands``-like ``eo:bands`` of its sidecar included, a colour table as its
    colours, stretched by the ``radiometry`` of its sidecar ``NAME.json`` else linear,
    with the scales its STAC item declares). Until session 31 they went through PIL's
    ``convert("RGB")``, which clipped a 16-bit TIFF to 255 and ignored all of that, and
    a colour table still did, found on band 1 only and failing on 16-bit indexes.
    Problems (an item that cannot be applied, a radiometry that is no radiometry, a
    file that cannot be read) are added to ``errors``, None returned."""
    from railwatch.detect.labels import radiometry_member, sidecar_value
    from railwatch.errors import ImageryError
    from railwatch.imagery.read import (
        colour_table,
        file_bands,
        file_item_scaling,
        open_raster,
        rgb_bands,
    )

    if path is None:
        return None  # import_labels says it vanished
    try:
        with open_raster(path, error=InputError) as ds:
            bands, _ = file_bands(ds, path)
            plain = (
                path.suffix.lower() == ".png"
                and all(t == "uint8" for t in ds.dtypes)
                and colour_table(ds, bands) is None
                and bands == rgb_bands(ds, grey_as_rgb=True)
            )
        if plain:
            return "copy"
        radiometry = radiometry_member(sidecar_value(path, "radiometry"), "its sidecar's")
        file_item_scaling(path, command="railwatch import-labels")  # refused here, not later
    except (InputError, ImageryError) as err:
        errors.add(path, None, str(err))
        return None
    return "display" if radiometry == "display" else "linear"


def _write_png(found: Path, target: Path, plan: _PngPlan | None, gsd: float | None = None) -> None:
    """Write the image ``found`` as the 8-bit RGB PNG ``target`` as :func:`_png_plan`
    planned it; ``gsd`` (the image's, as recorded; None: the file's own) measures the
    stretch as ``railwatch detect --gsd`` measures it (its black fill left out)."""
    from PIL import Image

    from railwatch.detect.labels import read_label_image
    from railwatch.imagery.read import open_raster

    if plan == "copy":
        shutil.copyfile(found, target)
        return
    radiometry: Radiometry = "display" if plan == "display" else "linear"
    with open_raster(found, error=InputError) as ds:
        width, height = ds.width, ds.height
    try:
        pixels, valid = read_label_image(
            found, width, height, radiometry, gsd=gsd, command="railwatch import-labels"
        )
    except InputError as err:
        raise InputError(f"{found}: {err}") from err
    if valid is None:
        Image.fromarray(pixels).save(target)
    else:  # its no data transparent, which label reading reads as no data again
        Image.fromarray(np.dstack([pixels, valid.astype(np.uint8) * 255])).save(target)


def import_labels(
    src: str | Path,
    fmt: str,
    out: str | Path,
    *,
    site: str | None = None,
    gsd: float | None = None,
    verified: bool = False,
) -> ImportSummary:
    """Validate a label dataset and write it as a railwatch training set in ``out``:
    ``images/NAME.png`` (converted to PNG), ``labels/NAME.txt`` + ``dataset.yaml``
    (Ultralytics OBB, railwatch class ids) and ``railwatch_labels.json`` (every
    object with its pixel corners, class and covered flag; each image's ground sample
    distance; the source and site), which ``railwatch train --labels`` reads.

    The gsd of an image is its labels' (DOTA's ``gsd:`` line, a COCO image's
    ``railwatch.gsd`` as export-labels writes them), else its scene's in the source's
    ``railwatch_export.json`` (export-labels lists each scene's gsd and chips: YOLO-OBB
    carries none), else ``gsd``; a ``gsd`` that contradicts either is an error. Images
    left without one are listed in the summary's ``without_gsd`` (train refuses them).

    Whether an image's labels are verified is kept as ``verified`` (true, false or
    null: :func:`_image_verified`); ``verified=True`` (import-labels ``--verified``:
    every image was checked in the labelling tool) makes it true for every image."""
    from railwatch.detect.labels import (
        export_distinct_cars,
        provenance_of,
        read_export_provenance,
    )

    gsd = check_gsd(gsd)
    labels = read_labels(src, fmt)
    root = Path(src)
    dest = Path(out)
    if dest.resolve() == root.resolve():
        raise InputError("--out must differ from the source directory")
    earlier = _check_out(dest, root)
    errors = LabelErrors()
    exported = read_export_provenance(root)
    exported_gsd = _export_gsds(root, errors)
    gsds = {img.name: _image_gsd(img, gsd, exported_gsd, errors) for img in labels.images}
    checked = {
        img.name: True if verified else _image_verified(img, exported, errors)
        for img in labels.images
    }
    errors.raise_if_any(f"{fmt} labels in {root}")
    # how each image is written, checked before anything is: its item or radiometry
    plans = {img.name: _png_plan(img.path, errors) for img in labels.images}
    errors.raise_if_any(f"{fmt} images in {root}")
    try:
        (dest / "images").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(
            f"cannot write the training set to {dest} ({os_reason(err)}); "
            "give --out a directory you can write to"
        ) from err
    for img in labels.images:
        found = img.path if img.path is not None and img.path.is_file() else None
        if found is None:
            raise InputError(f"image {img.name} vanished from {root} during import")
        _write_png(found, dest / "images" / f"{img.name}.png", plans[img.name], gsds[img.name])
    present = {o.cls for i in labels.images for o in i.objects}
    classes = tuple(c for c in ALL_CLASSES if c in present or c in labels.classes)
    canonical = LabelSet(classes, labels.images)
    write_yolo_obb(canonical, dest)
    by_class: dict[str, int] = {}
    for img in labels.images:
        for o in img.objects:
            by_class[o.cls] = by_class.get(o.cls, 0) + 1
    # the distinct cars (chips overlap: a car in an overlap is a label of each), as the
    # export manifest gives them, else null; train --labels reads it
    distinct = export_distinct_cars(root, {i.name: len(i.objects) for i in labels.images})
    manifest = {
        "format": "railwatch-labels/1",
        "source": str(root.resolve()),
        "source_format": fmt,
        "site": site,
        "classes": list(classes),
        "verified_on_import": verified,
        "cars": distinct,
        "images": [
            {"name": i.name, "file": f"images/{i.name}.png", "width": i.width, "height": i.height,
             "gsd": gsds[i.name], "verified": checked[i.name],
             "objects": [{"class": o.cls,
                          "cls": o.cls,  # the same, its name before session 39 (one release)
                          "corners": [list(c) for c in o.corners],
                          "covered": o.covered, "difficult": o.difficult} for o in i.objects]}
            for i in labels.images
        ],
    }  # fmt: skip
    (dest / TRAINING_MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    for name in earlier - {i.name for i in labels.images}:
        # an image of the earlier import of this source that it no longer has: its copy
        # and YOLO label stayed, and the folder's Ultralytics layout trained on them
        (dest / "images" / f"{name}.png").unlink(missing_ok=True)
        (dest / "labels" / f"{name}.txt").unlink(missing_ok=True)
    used = {img.path.resolve() for img in labels.images if img.path is not None}
    folder = root / "images"
    unlabelled = tuple(
        sorted(
            f.name
            for f in (folder.iterdir() if folder.is_dir() else ())
            if f.suffix.lower() in IMAGE_SUFFIXES and f.resolve() not in used
        )
    )
    return ImportSummary(
        out=dest,
        images=len(labels.images),
        objects=sum(by_class.values()),
        by_class=dict(sorted(by_class.items())),
        unlabelled=unlabelled,
        without_gsd=tuple(sorted(n for n, g in gsds.items() if g is None)),
        provenance={
            k: sum(1 for v in checked.values() if provenance_of(v) == k)
            for k in ("verified", "detector", "unknown")
        },
        cars=distinct,
    )


def iter_objects(labels: LabelSet) -> Iterator[tuple[str, LabelObject]]:
    """(image name, object) pairs, for comparisons and statistics."""
    for img in labels.images:
        for obj in img.objects:
            yield img.name, obj


def class_counts(objects: Iterable[LabelObject]) -> dict[str, int]:
    """Objects per class."""
    out: dict[str, int] = {}
    for o in objects:
        out[o.cls] = out.get(o.cls, 0) + 1
    return out
