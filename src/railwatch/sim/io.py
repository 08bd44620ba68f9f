"""Writing a rendered scene: COG image, quality mask, STAC sidecar, truth GeoJSON,
PNG preview (file layout in notes/contracts.md, "Simulator outputs")."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import rasterio
from pyproj import Transformer
from rasterio._err import CPLE_BaseError  # GDAL's errors (not RasterioError subclasses)
from rasterio.errors import RasterioError
from shapely.geometry import Polygon, box, mapping

from railwatch.errors import ImageryError, InputError, os_reason
from railwatch.sim.scene import RenderedScene

STAC_EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
]


@dataclass(frozen=True)
class ScenePaths:
    """Files written for one scene."""

    name: str
    image: Path
    mask: Path
    stac: Path
    truth: Path
    preview: Path | None
    #: The scene's track centrelines in lon/lat (``railwatch detect --tracks``, ``site
    #: add --tracks``): what the coarse method reads at 1.5 m and coarser.
    tracks: Path | None = None

    def all(self) -> tuple[Path, ...]:
        return tuple(
            p
            for p in (self.image, self.mask, self.stac, self.truth, self.tracks, self.preview)
            if p
        )


def check_scene_name(name: str) -> str:
    """``name`` when it is a plain file name (the files go into the output folder, never
    elsewhere), else an :class:`InputError`."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise InputError(
            f"scene name {name!r} is not a plain file name: leave out '/' and '\\' "
            "(the files are written into the output folder)"
        )
    return name


def scene_paths(out_dir: str | Path, name: str, *, preview: bool = True) -> ScenePaths:
    """Where :func:`write_scene` puts the files of scene ``name``."""
    check_scene_name(name)
    d = Path(out_dir)
    return ScenePaths(
        name=name,
        image=d / f"{name}.tif",
        mask=d / f"{name}.mask.tif",
        stac=d / f"{name}.json",
        truth=d / f"{name}.truth.geojson",
        preview=(d / f"{name}.preview.png") if preview else None,
        tracks=d / f"{name}.tracks.geojson",
    )


def truth_geojson(scene: RenderedScene) -> dict[str, Any]:
    """Ground truth as a GeoJSON FeatureCollection in the scene CRS (contract layout)."""
    feats = []
    for t in scene.truth:
        feats.append(
            {
                "type": "Feature",
                "id": t.id,
                "geometry": mapping(t.polygon_crs),
                "properties": {
                    "class": t.cls,
                    "covered": t.covered,
                    "load": t.load,
                    "length_m": t.length_m,
                    "width_m": t.width_m,
                    "angle_deg": t.angle_deg,
                    "valid_fraction": round(t.valid_fraction, 4),
                    "clear_fraction": round(t.clear_fraction, 4),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": scene.crs}},
        "gsd": scene.gsd,
        "features": feats,
        "tracks": [[list(map(float, xy)) for xy in line.coords] for line in scene.tracks],
    }


def tracks_geojson(scene: RenderedScene) -> dict[str, Any]:
    """The scene's track centrelines as a GeoJSON FeatureCollection of LineStrings in
    lon/lat (RFC 7946), one per track, as ``--tracks`` reads them."""
    to_ll = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    feats = []
    for i, line in enumerate(scene.tracks):
        xy = np.asarray(line.coords, dtype=np.float64)
        if len(xy) < 2:
            continue
        lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
        coords = [[round(float(a), 8), round(float(b), 8)] for a, b in zip(lon, lat, strict=True)]
        feats.append(
            {
                "type": "Feature",
                "id": i,
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def footprint_wgs84(scene: RenderedScene) -> Polygon:
    """Outline of the pixels with data, in lon/lat."""
    t = scene.transform
    if scene.valid.all():
        poly = box(0, 0, scene.width, scene.height)
    else:
        contours, _ = cv2.findContours(
            scene.valid.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
        )
        biggest = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(float)
        grown = Polygon(biggest + 0.5).buffer(0.5, join_style="mitre").simplify(1.0)
        poly = grown if isinstance(grown, Polygon) else box(*grown.bounds)
    ring = np.asarray(poly.exterior.coords)
    xs = t.c + t.a * ring[:, 0] + t.b * ring[:, 1]
    ys = t.f + t.d * ring[:, 0] + t.e * ring[:, 1]
    to_ll = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(xs, ys)
    return Polygon(np.column_stack([lon, lat]))


def stac_item(scene: RenderedScene, paths: ScenePaths) -> dict[str, Any]:
    """A STAC Item (pystac-compatible dict) describing the scene and its assets."""
    p = scene.params
    fp = footprint_wgs84(scene)
    epsg = int(scene.crs.split(":")[1])
    t = scene.transform
    cloud_pct = round(
        100.0 * float(np.mean(scene.mask[scene.valid] == 1)) if scene.valid.any() else 0.0, 2
    )
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": STAC_EXTENSIONS,
        "id": paths.name,
        "geometry": mapping(fp),
        "bbox": list(fp.bounds),
        "properties": {
            "datetime": p.acquired.isoformat().replace("+00:00", "Z"),
            "gsd": p.gsd,
            "platform": p.sensor_name,
            "constellation": p.sensor_name,
            "eo:cloud_cover": cloud_pct,
            "view:off_nadir": p.off_nadir,
            # STAC's view:azimuth runs from the sub-satellite point to the scene, the way
            # tall objects lean; ``view_azimuth`` is the satellite's azimuth seen from the
            # scene (render.make_light leans tops away from it): 180 degrees apart (it was
            # written unchanged until session 40)
            "view:azimuth": (p.view_azimuth + 180.0) % 360.0,
            "view:sun_elevation": p.sun_elevation,
            "view:sun_azimuth": p.sun_azimuth,
            "proj:epsg": epsg,
            "proj:shape": [scene.height, scene.width],
            "proj:transform": [t.a, t.b, t.c, t.d, t.e, t.f],
            "railwatch:simulated": True,
            "railwatch:params_hash": p.digest(),
            "railwatch:params": p.to_dict(),
            "railwatch:truth_counts": scene.truth_counts(),
            "railwatch:truth_covered": sum(1 for c in scene.truth if c.covered),
            "railwatch:misregistration_m": list(p.misregistration_m),
            "railwatch:coverage": float(scene.valid.mean()),
        },
        "links": [],
        "assets": {
            "image": {
                "href": paths.image.name,
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
                "eo:bands": [{"name": "red"}, {"name": "green"}, {"name": "blue"}],
            },
            "mask": {
                "href": paths.mask.name,
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["quality"],
                "description": (
                    "0 clear, 1 cloud, 2 haze/thin cloud, 3 snow, 4 cloud shadow, 255 no data"
                ),
            },
            "truth": {
                "href": paths.truth.name,
                "type": "application/geo+json",
                "roles": ["labels"],
            },
        },
    }


def prepare_out_dir(out_dir: str | Path) -> Path:
    """``out_dir``, created when missing, once a file can be created in it; else an
    :class:`ImageryError` that says why (a file of that name, a read-only folder or file
    system) before anything is rendered."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ImageryError(
            f"{out} is a file, not a folder: give a folder to write into (it is created "
            "when missing)."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ImageryError(
            f"cannot create {out}: {os_reason(err)}; choose a writable folder."
        ) from err
    probe = out / f".railwatch-write-test.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as err:  # the probe's name is not shown: it is not the user's
        raise ImageryError(
            f"cannot write into {out}: {err.strerror or err}; choose a writable folder."
        ) from err
    return out


#: The temporary names of :func:`replacing_file` (``.STEM.PID-HEX8.tmpSUFFIX``), with what
#: GDAL adds to them while it writes a COG (``.ovr.tmp``).
_TEMPORARY = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}\.tmp(\.[^/]*)?$")
#: Temporaries younger than this are kept even when their process is gone (a process of
#: another machine writing into a shared folder has a PID this machine does not know).
_STALE_AFTER_S = 60.0


def _process_alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) ends the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (EPERM)
        return True
    return True


def remove_stale_temporaries(out_dir: str | Path) -> int:
    """Delete the temporaries that a write killed before it could clean up (SIGKILL, a
    crash, a power cut) left in ``out_dir``: those of a process that no longer runs,
    older than a minute. Returns how many were deleted."""
    removed = 0
    try:
        entries = list(Path(out_dir).iterdir())
    except OSError:
        return 0
    now = time.time()
    for path in entries:
        match = _TEMPORARY.match(path.name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            if now - path.stat().st_mtime < _STALE_AFTER_S:
                continue
            path.unlink()
        except OSError:
            continue
        removed += 1
    return removed


def _cannot_write(path: Path, why: object) -> ImageryError:
    return ImageryError(
        f"cannot write {path}: {why}; check that the folder is writable and its disk has room."
    )


def _write_cog(
    path: Path,
    data: np.ndarray,
    scene: RenderedScene,
    *,
    nodata: int,
    resampling: str,
    shown: Path | None = None,
) -> None:
    bands = data.transpose(2, 0, 1) if data.ndim == 3 else data[None]
    profile = {
        "driver": "COG",
        "width": scene.width,
        "height": scene.height,
        "count": bands.shape[0],
        "dtype": "uint8",
        "crs": scene.crs,
        "transform": scene.transform,
        "nodata": nodata,
        "compress": "deflate",
        "level": 1,
        "predictor": "YES" if data.ndim == 3 else "NO",  # horizontal differencing: ~25 % smaller
        "blocksize": 512,
        "overview_resampling": resampling,
    }
    try:
        with rasterio.Env(GDAL_NUM_THREADS="1"), rasterio.open(path, "w", **profile) as dst:
            dst.write(bands)
            if data.ndim == 3:
                dst.colorinterp = [
                    rasterio.enums.ColorInterp.red,
                    rasterio.enums.ColorInterp.green,
                    rasterio.enums.ColorInterp.blue,
                ]
    except OSError as err:
        raise _cannot_write(shown or path, err.strerror or err) from err
    except (RasterioError, CPLE_BaseError) as err:
        # A read-only folder or a full disk: GDAL's own error, or an OSError raised
        # while rasterio handles it (both were "internal error ... please report it").
        raise _cannot_write(shown or path, err) from err


@contextmanager
def replacing_file(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path`` to write to; renamed over ``path`` on success
    (atomic on one file system), removed otherwise. Two processes rendering the same
    scene into one folder (two ``railwatch demo`` runs sharing the scenario cache) then
    never write into the same file, and a reader sees the old file or the new one whole.
    An :class:`OSError` on the way (a read-only folder, a full disk) becomes an
    :class:`ImageryError` naming ``path``."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except ImageryError:
        raise
    except OSError as err:  # the temporary's name is not shown: it is gone
        raise _cannot_write(path, err.strerror or err) from err
    finally:
        tmp.unlink(missing_ok=True)
        for extra in tmp.parent.glob(f"{glob_escape(tmp.name)}.*"):  # GDAL's .ovr.tmp
            extra.unlink(missing_ok=True)


def write_scene(
    scene: RenderedScene, out_dir: str | Path, name: str, *, preview: bool = True
) -> ScenePaths:
    """Write ``NAME.tif`` (RGB COG, nodata 0), ``NAME.mask.tif``, ``NAME.json`` (STAC Item),
    ``NAME.truth.geojson``, ``NAME.tracks.geojson`` (the track centrelines in lon/lat) and
    optionally ``NAME.preview.png`` (at most 1024 px a side)."""
    out = prepare_out_dir(out_dir)
    paths = scene_paths(out, name, preview=preview)
    # Each file is written under a temporary name and renamed (:func:`replacing_file`).
    with replacing_file(paths.image) as tmp:
        _write_cog(tmp, scene.image, scene, nodata=0, resampling="average", shown=paths.image)
    with replacing_file(paths.mask) as tmp:
        _write_cog(tmp, scene.mask, scene, nodata=255, resampling="nearest", shown=paths.mask)
    with replacing_file(paths.truth) as tmp:
        tmp.write_text(json.dumps(truth_geojson(scene)))
    if paths.tracks is not None:
        with replacing_file(paths.tracks) as tmp:
            tmp.write_text(json.dumps(tracks_geojson(scene)))
    if paths.preview is not None:
        img = scene.image
        k = max(scene.width, scene.height) / 1024.0
        if k > 1:
            img = cv2.resize(
                img, (round(scene.width / k), round(scene.height / k)), interpolation=cv2.INTER_AREA
            )
        with replacing_file(paths.preview) as tmp:
            if not cv2.imwrite(str(tmp), np.ascontiguousarray(img[..., ::-1])):
                raise _cannot_write(paths.preview, "the PNG encoder could not write it")
    # The sidecar goes last: its presence (with the params hash) marks a complete scene.
    with replacing_file(paths.stac) as tmp:
        tmp.write_text(json.dumps(stac_item(scene, paths), indent=1))
    return paths
