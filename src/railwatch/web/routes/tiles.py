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
from railwatch.storage import repo
from railwatch.web.deps import DB
from railwatch.web.routes.scenes import SceneId
from railwatch.web.security import require_read

router = APIRouter(tags=["tiles"], dependencies=[Depends(require_read)])

TILE_SIZE = 256
MAX_ZOOM = 24


@lru_cache(maxsize=256)
def _render_params(uri: str) -> tuple[tuple[int, ...], tuple[tuple[float, float], ...] | None]:
    """Band indexes to show and, for non-8-bit images, per-band 2-98 % stretch ranges."""
    from rio_tiler.io import Reader

    with Reader(uri) as src:
        count = src.dataset.count
        indexes = (1, 2, 3) if count >= 3 else (1,)
        if src.dataset.dtypes[0] == "uint8":
            return indexes, None
        stats = src.statistics(indexes=indexes)
        ranges = tuple((float(s.percentile_2), float(s.percentile_98)) for s in stats.values())
        return indexes, ranges


def render_tile(uri: str, z: int, x: int, y: int) -> bytes | None:
    """PNG bytes of tile ``z/x/y`` of the image at ``uri``; ``None`` outside the image."""
    lazy_import("rio_tiler", "web", "image tiles")
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.io import Reader

    try:
        indexes, ranges = _render_params(uri)
        with Reader(uri) as src:
            if not src.tile_exists(x, y, z):
                return None
            img = src.tile(x, y, z, tilesize=TILE_SIZE, indexes=indexes)
    except TileOutsideBounds:
        return None
    except RasterioIOError as err:
        raise ImageryError(f"cannot read the stored image of this scene: {err}") from err
    if ranges is not None:
        img.rescale(in_range=ranges)
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
        uri = repo.get_scene(s, scene_id).uri
    png = render_tile(uri, z, x, y)
    if png is None:
        raise NotFoundError(f"tile {z}/{x}/{y} is outside the image of scene {scene_id}")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
