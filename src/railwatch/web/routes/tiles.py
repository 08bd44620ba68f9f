"""XYZ Web Mercator PNG tiles of a scene, rendered from its stored GeoTIFF (rio-tiler).

Scenes are named by id; the file read is the one recorded at ingest, never a path
from the request.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from railwatch.errors import ImageryError, NotFoundError, lazy_import
from railwatch.imagery.inspect import gdal_path, rgb_of
from railwatch.storage import repo
from railwatch.web.deps import DB
from railwatch.web.routes.scenes import SceneId
from railwatch.web.security import require_read

router = APIRouter(tags=["tiles"], dependencies=[Depends(require_read)])

TILE_SIZE = 256
MAX_ZOOM = 24


@lru_cache(maxsize=256)
def _render_params(
    uri: str, rgb: tuple[int, int, int] | None = None
) -> tuple[tuple[int, ...], tuple[tuple[float, float], ...] | None]:
    """Band indexes to show (red, green, blue as the detector reads them:
    :func:`railwatch.imagery.read.rgb_bands`, ``rgb`` from the scene's metadata) and, for
    non-8-bit images, the per-band ranges the detector maps to 8 bits
    (:func:`railwatch.imagery.read.stretch_ranges`)."""
    from railwatch.imagery.read import open_raster, rgb_bands, stretch_ranges

    with open_raster(gdal_path(uri)) as ds:
        indexes = tuple(rgb_bands(ds, bands=rgb))
        ranges = stretch_ranges(ds, indexes)
    if ranges is None:
        return indexes, None
    return indexes, tuple((float(lo), float(hi)) for lo, hi in zip(*ranges, strict=True))


def render_tile(
    uri: str, z: int, x: int, y: int, rgb: tuple[int, int, int] | None = None
) -> bytes | None:
    """PNG bytes of tile ``z/x/y`` of the image at ``uri``; ``None`` outside the image.
    16-bit and float images are shown as the detector sees them
    (:func:`railwatch.imagery.read.stretch_to_uint8`)."""
    lazy_import("rio_tiler", "web", "image tiles")
    import numpy as np
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.io import Reader
    from rio_tiler.models import ImageData

    from railwatch.imagery.read import stretch_to_uint8

    try:
        indexes, ranges = _render_params(uri, rgb)
        with Reader(uri) as src:
            if not src.tile_exists(x, y, z):
                return None
            img = src.tile(x, y, z, tilesize=TILE_SIZE, indexes=indexes)
    except TileOutsideBounds:
        return None
    except RasterioIOError as err:
        raise ImageryError(f"cannot read the stored image of this scene: {err}") from err
    if ranges is not None:
        arr = img.array
        data = np.stack(
            [stretch_to_uint8(np.asarray(arr.data[i]), lo, hi) for i, (lo, hi) in enumerate(ranges)]
        )
        img = ImageData(np.ma.MaskedArray(data, mask=np.ma.getmaskarray(arr)))
    with warnings.catch_warnings():
        # a PNG tile carries no georeference by design: rasterio's warning is noise
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return bytes(img.render(img_format="PNG"))


@router.get(
    "/scenes/{scene_id}/tiles/{z}/{x}/{y}.png",
    summary="Image tile of a scene",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def scene_tile(
    scene_id: SceneId,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0, le=2**MAX_ZOOM)],
    y: Annotated[int, Path(ge=0, le=2**MAX_ZOOM)],
    db: DB,
) -> Response:
    """A 256 px PNG tile (transparent where the image has no data)."""
    if x >= 2**z or y >= 2**z:
        raise NotFoundError(f"tile {z}/{x}/{y} does not exist: x and y must be below 2**z")
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, scene_id)
        uri, rgb = scene.uri, rgb_of(scene.meta)
    png = render_tile(uri, z, x, y, rgb)
    if png is None:
        raise NotFoundError(f"tile {z}/{x}/{y} is outside the image of scene {scene_id}")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
