"""An analyst's review of a scene: the outlines they corrected, read for the database.

The detector is trained on drawings, and an analyst who looks at a scene may know
better: ``railwatch scene review`` (and ``PUT /api/scenes/{id}/review``) record the
analyst's count of a processed, usable scene, which the scene's stored counts then are
(:func:`railwatch.storage.repo.set_scene_review`). The analyst gives either the counts
or the cars' outlines: the scene's detections exported (``railwatch export SITE
--layers detections``, or ``railwatch detect`` on the scene's file), corrected in QGIS
(false boxes deleted, missed cars drawn, ``class`` and ``covered`` fixed) and read back
here. Reviewed scenes are also what ``railwatch export-labels`` turns into training
labels for ``railwatch train --labels`` (docs/detection.md, "Fine-tuning on your own
labels").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from railwatch.detect.geojson import from_feature_collection
from railwatch.errors import InputError
from railwatch.storage.models import Scene, Site
from railwatch.storage.records import DetectionRecord, records_from_detections

__all__ = ["cars_from_feature_collection", "read_review_cars"]

#: The affine transform of coordinates already in the scene's CRS.
_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _other_scenes(fc: Mapping[str, Any], scene_id: int) -> list[int]:
    """The ``scene_id`` properties (as ``railwatch export`` writes them) that are not
    ``scene_id``: a file of a whole site's detections holds every scene's cars."""
    others: set[int] = set()
    for feat in fc.get("features") or []:
        props = feat.get("properties") if isinstance(feat, Mapping) else None
        if isinstance(props, Mapping) and "scene_id" in props:
            try:
                other = int(props["scene_id"])
            except (TypeError, ValueError):
                continue
            if other != scene_id:
                others.add(other)
    return sorted(others)


def cars_from_feature_collection(
    fc: Mapping[str, Any], scene: Scene, site: Site, *, source: str = "the outlines"
) -> list[DetectionRecord]:
    """The railcars of a GeoJSON FeatureCollection (one Polygon per car, with ``class``
    and ``covered``; in the scene's CRS with a top-level ``crs`` member, or RFC 7946
    lon/lat without one) as records in the scene's CRS, each marked ``inside`` when its
    centre lies in the site. Refused, with what to do: pixel coordinates (``"crs":
    null``), features of other scenes, and outlines none of which lies in the site (the
    file of another scene or site)."""
    others = _other_scenes(fc, scene.id)
    if others:
        shown = ", ".join(str(i) for i in others[:5]) + (" ..." if len(others) > 5 else "")
        raise InputError(
            f"{source} holds cars of other scenes ({shown}) besides scene {scene.id}: keep "
            f"only the features whose scene_id is {scene.id} (in QGIS: select by expression "
            f'"scene_id" = {scene.id}, then export the selection)'
        )
    if "crs" in fc and fc["crs"] is None:
        raise InputError(
            f"{source} is in pixel coordinates (its crs is null): give the outlines in the "
            f"scene's CRS ({scene.crs}) or in lon/lat, as `railwatch detect` writes them for "
            "a georeferenced image and `railwatch export` for a site"
        )
    features = from_feature_collection(fc, source=source, to_crs=scene.crs)
    cars = records_from_detections(
        features.detections, _IDENTITY, scene.crs, site_geom_wgs84=site.geometry
    )
    if cars and not any(c.inside for c in cars):
        raise InputError(
            f"none of the {len(cars)} outlines in {source} has its centre in site "
            f"{site.name!r}: is it the file of another scene or site? An empty yard is a "
            "FeatureCollection with no features (or `--count 0`)"
        )
    return cars


def read_review_cars(path: str | Path, scene: Scene, site: Site) -> list[DetectionRecord]:
    """:func:`cars_from_feature_collection` of a GeoJSON file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as err:
        raise InputError(f"{p} does not exist: check the path") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read GeoJSON {p}: {err}") from err
    if not isinstance(data, Mapping):
        raise InputError(f"{p} is not a GeoJSON FeatureCollection")
    return cars_from_feature_collection(data, scene, site, source=str(p))
