"""XYZ Web Mercator PNG tiles of a scene, rendered from its stored GeoTIFF (rio-tiler).

Scenes are named by id; the file read is the one recorded at ingest, never a path
from the request.

Zoomed out, a tile covers far more ground than the image: rio-tiler's boundless read
then warps a virtual raster of the whole tile at the image's resolution, which took
minutes of CPU at zoom 0-8 for a 1 km scene (and the tile was blank). So a tile is
planned first (:func:`tile_plan`): an image under :data:`MIN_IMAGE_PX` tile pixels
across is a transparent tile at once; an image more than :data:`COARSE_FACTOR` times
finer than the tile is read decimated (overviews when the file has them) and warped
into the tile (:func:`coarse_tile`); at the zooms where the image is looked at,
rio-tiler renders the tile as before.

Each tile has an ETag (:func:`tile_etag`) made of what decides its pixels: the scene,
its file (path, content hash, size and times, and those of the sidecars GDAL reads
with it: :func:`file_stamp`), the bands shown, the radiometry, the bands' scales and
offsets and the nodata value its STAC item declares (``imagery.read.item_scaling_of``,
``item_nodata_of``: the item's nodata is transparent where the file declares none, as
``process`` reads it, since session 38), this renderer's version and the tile; it is
sent with ``Cache-Control: private, no-cache``, so a browser asks again each time and
gets a ``304 Not Modified`` (no pixel read) while nothing changed, and the new tile at
once after ``ingest --bands`` or
``--radiometry`` changed the scene, ``ingest-stac`` gave it its item's scales, or its
file was replaced. (Before session 22 tiles
were cached for an hour with no validator: stale tiles until then.)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path as PathLib
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response

from railwatch import __version__
from railwatch.errors import ImageryError, NotFoundError, lazy_import
from railwatch.export.redact import file_name
from railwatch.imagery.inspect import (
    alpha_band,
    data_mask,
    data_view,
    gdal_path,
    is_remote,
    own_mask,
    rgb_of,
    unreadable_pixels,
)
from railwatch.storage import repo
from railwatch.web.apidocs import conditional_responses
from railwatch.web.deps import DB, read_session
from railwatch.web.params import PlainInt
from railwatch.web.routes.scenes import SceneId
from railwatch.web.security import require_read

if TYPE_CHECKING:
    import numpy as np

    from railwatch.imagery.read import ItemScaling, Radiometry

router = APIRouter(tags=["tiles"], dependencies=[Depends(require_read)])

TILE_SIZE = 256
MAX_ZOOM = 24
#: An image narrower or shorter than this many tile pixels is a transparent tile: at
#: that zoom it would be a smudge of a few pixels (the site outline is drawn anyway).
MIN_IMAGE_PX = 4.0
#: Above this many image pixels per tile pixel the tile is made from a decimated read
#: (:func:`coarse_tile`); at or below it rio-tiler renders it from full resolution.
#: For a 0.5 m image at 42° N that is zoom 12 and below (zoom 13: 28 pixels per pixel).
COARSE_FACTOR = 32.0
#: Image pixels kept per tile pixel by the decimated read (then warped by nearest
#: neighbour, as rio-tiler does).
COARSE_OVERSAMPLE = 2
#: Version of the way tiles are drawn, part of every tile's ETag: raise it when a
#: change of this module changes the pixels of a tile (so is railwatch's version).
#: 2: undeclared alpha, colour tables (session-24 follow-up); 3: an index the colour
#: table has no entry for is transparent (session 31; was its clamped colour); 4: a
#: band labelled alpha that holds data (``imagery.inspect.alpha_as_data``: NIR) is not
#: the tile's transparency (2026-12-07, session 46: a tile over NIR 0 was transparent).
RENDERER_VERSION = 4
#: Tiles are revalidated at each use (their ETag), never shown stale from a cache.
TILE_CACHE_CONTROL = "private, no-cache"


@dataclass(frozen=True)
class TilePlan:
    """How to make one tile: ``empty`` (transparent), ``coarse`` (decimated read) or
    ``full`` (rio-tiler at full resolution), with the tile's bounds in Web Mercator and
    the image's size (pixels of the tile) and resolution (image pixels per tile pixel)."""

    kind: Literal["empty", "coarse", "full"]
    tile_bounds: tuple[float, float, float, float]
    image_px: tuple[float, float]
    factor: float
    #: The image's bounds in Web Mercator (the tile matrix set's CRS).
    image_bounds: tuple[float, float, float, float]


def tile_plan(src: Any, x: int, y: int, z: int) -> TilePlan:
    """Plan tile ``z/x/y`` of the rio-tiler ``Reader`` ``src`` from bounds only (no
    pixel is read)."""
    from morecantile import Tile
    from rasterio.warp import transform_bounds

    ds = src.dataset
    tb = tuple(float(v) for v in src.tms.xy_bounds(Tile(x=x, y=y, z=z)))
    left, bottom, right, top = transform_bounds(
        ds.crs, src.tms.rasterio_crs, *ds.bounds, densify_pts=21
    )
    tile_px = (tb[2] - tb[0]) / TILE_SIZE  # metres of Web Mercator per tile pixel
    image_px = ((right - left) / tile_px, (top - bottom) / tile_px)
    factor = max(ds.width / max(image_px[0], 1e-9), ds.height / max(image_px[1], 1e-9))
    kind: Literal["empty", "coarse", "full"] = "full"
    if min(image_px) < MIN_IMAGE_PX:
        kind = "empty"
    elif factor > COARSE_FACTOR:
        kind = "coarse"
    return TilePlan(
        kind, (tb[0], tb[1], tb[2], tb[3]), image_px, factor, (left, bottom, right, top)
    )


def coarse_tile(
    src: Any, plan: TilePlan, indexes: tuple[int, ...]
) -> np.ma.MaskedArray[Any, Any] | None:
    """The tile of ``plan`` from a decimated read of the part of the image under it
    (about :data:`COARSE_OVERSAMPLE` image pixels per tile pixel; GDAL reads overviews
    when the file has them), warped into the tile by nearest neighbour. Masked where the
    image has no data or does not reach; ``None`` when the tile misses the image."""
    import numpy as np
    from affine import Affine
    from rasterio.enums import Resampling
    from rasterio.errors import WindowError
    from rasterio.transform import from_bounds
    from rasterio.warp import reproject, transform_bounds
    from rasterio.windows import Window
    from rasterio.windows import from_bounds as window_from_bounds

    ds = src.dataset
    merc = src.tms.rasterio_crs
    # the part of the tile over the image, in the image's CRS (never the whole tile: a
    # zoom-0 tile does not transform to a UTM zone)
    img = plan.image_bounds
    tb = plan.tile_bounds
    part = (max(tb[0], img[0]), max(tb[1], img[1]), min(tb[2], img[2]), min(tb[3], img[3]))
    if part[0] >= part[2] or part[1] >= part[3]:
        return None
    bounds = transform_bounds(merc, ds.crs, *part, densify_pts=21)
    win = window_from_bounds(*bounds, transform=ds.transform)
    col0, row0 = math.floor(win.col_off) - 1, math.floor(win.row_off) - 1
    col1 = math.ceil(win.col_off + win.width) + 1
    row1 = math.ceil(win.row_off + win.height) + 1
    try:
        win = Window(col0, row0, col1 - col0, row1 - row0).intersection(
            Window(0, 0, ds.width, ds.height)
        )
    except WindowError:
        return None
    step = max(1, int(plan.factor // COARSE_OVERSAMPLE))
    out_h = max(1, math.ceil(win.height / step))
    out_w = max(1, math.ceil(win.width / step))
    data = ds.read(
        indexes, window=win, out_shape=(len(indexes), out_h, out_w), resampling=Resampling.nearest
    )
    valid = data_mask(ds, window=win, out_shape=(out_h, out_w))
    src_transform = ds.window_transform(win) @ Affine.scale(win.width / out_w, win.height / out_h)
    dst_transform = from_bounds(*tb, TILE_SIZE, TILE_SIZE)
    out = np.zeros((len(indexes), TILE_SIZE, TILE_SIZE), dtype=data.dtype)
    seen = np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.uint8)
    common = {
        "src_transform": src_transform,
        "src_crs": ds.crs,
        "dst_transform": dst_transform,
        "dst_crs": merc,
        "resampling": Resampling.nearest,
    }
    reproject(data, out, **common)
    reproject(valid, seen, **common)
    mask = np.broadcast_to(seen == 0, out.shape)
    return np.ma.MaskedArray(out, mask=mask.copy())


@lru_cache(maxsize=1)
def empty_png() -> bytes:
    """A fully transparent 256 px PNG."""
    import numpy as np
    from rio_tiler.models import ImageData

    blank = np.ma.MaskedArray(
        np.zeros((3, TILE_SIZE, TILE_SIZE), dtype=np.uint8),
        mask=np.ones((3, TILE_SIZE, TILE_SIZE), dtype=bool),
    )
    with warnings.catch_warnings():
        from rasterio.errors import NotGeoreferencedWarning

        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return bytes(ImageData(blank).render(img_format="PNG"))


#: A file's size, modification and status-change times (ns).
StatStamp = tuple[int, int, int]
#: :func:`file_stamp`: the image file's :data:`StatStamp` and, for each other file GDAL
#: reads with it (``ingest.gdal_sidecars``), its path and stamp (None when gone).
FileStamp = tuple[StatStamp, tuple[tuple[str, StatStamp | None], ...]]


def _stat(path: str) -> StatStamp:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@lru_cache(maxsize=1024)
def _sidecar_paths(path: str, stamp: StatStamp, folder_mtime_ns: int) -> tuple[str, ...]:
    """The files GDAL reads with the image at ``path`` (``ingest.gdal_sidecars``: its
    ``.aux.xml``, ``.msk``, ``.ovr``, world file, a VRT's sources). Listing them opens
    the file, so the list is cached by the file's stamp and its folder's modification
    time (a sidecar added, removed or renamed over changes it)."""
    from railwatch.ingest import gdal_sidecars

    return tuple(sorted(str(p) for p in gdal_sidecars(PathLib(path)).values()))


def file_stamp(uri: str) -> FileStamp | None:
    """What a tile's pixels depend on in the file system: the image file's size and
    times (ns) and those of each sidecar GDAL reads with it (as ``ingest.file_stamp``
    covers them: an ``.aux.xml`` with another CRS or nodata, a ``.msk``, ``.ovr``, a
    VRT's source replaced make other tiles though the image file is the same; until the
    session-24 follow-up only the image file was stamped, and such a change kept the
    old tiles, answered 304). None for a remote file."""
    if is_remote(uri):
        return None
    path = os.path.abspath(gdal_path(uri))
    main = _stat(path)
    folder = os.stat(os.path.dirname(path)).st_mtime_ns
    sides: list[tuple[str, StatStamp | None]] = []
    for side in _sidecar_paths(path, main, folder):
        try:
            sides.append((side, _stat(side)))
        except OSError:  # removed since it was listed
            sides.append((side, None))
    return (main, tuple(sides))


def tile_etag(
    scene_id: int,
    uri: str,
    content_hash: str | None,
    stamp: FileStamp | None,
    rgb: tuple[int, int, int] | None,
    radiometry: str,
    tile: tuple[int, int, int],
    item_scaling: ItemScaling | None = None,
    item_nodata: float | None = None,
) -> str:
    """Strong ETag of a tile: a hash of everything that decides its pixels (with the
    scales and offsets and the nodata value the scene's STAC item declares, which the
    tile is read with where the file declares none)."""
    key = [
        "railwatch-tile", __version__, RENDERER_VERSION, scene_id, uri, content_hash,
        stamp, rgb, radiometry, tile, item_scaling,
    ]  # fmt: skip
    if item_nodata is not None:  # the tags of scenes without one stay as they were
        # 2: a colour-table image's tiles take it as an index since session 39 (they left
        # it out): their tags change, so a browser's copy drawn before is not reused
        key.append(["nodata", item_nodata, 2])
    digest = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:32]
    return f'"{digest}"'


def etag_matches(if_none_match: str | None, etag: str, *, star: bool = True) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, as RFC 9110
    asks for this header; ``*`` matches any, unless ``star`` is false: for an answer not
    known to exist yet, which ``*`` must not turn into a ``304``)."""
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if (star and tag == "*") or tag.removeprefix("W/") == bare:
            return True
    return False


@dataclass(frozen=True)
class RenderParams:
    """How a scene's file is drawn: the bands to read (red, green, blue, or one grey or
    colour-table band), the per-band ranges mapped to 8 bits (None for 8-bit data), and
    what the file does not declare as GDAL would but the pipeline reads as no data."""

    indexes: tuple[int, ...]
    ranges: tuple[tuple[float, float], ...] | None = None
    #: The last band when it is an alpha band the file does not label so
    #: (``imagery.inspect.undeclared_alpha``): 0 there is transparent.
    alpha: int | None = None
    #: A colour table's colours (index -> RGB), for a one-band colour-table image: one
    #: per entry of the table (``imagery.read.colour_table``).
    palette: tuple[tuple[int, int, int], ...] | None = None
    #: Its entries the table makes transparent (``imagery.inspect.transparent_entries``).
    clear: tuple[int, ...] = ()
    #: The nodata value the scene's STAC item declares, where the file declares none and
    #: has no alpha band (``imagery.read.item_nodata_of``): transparent (session 38); of a
    #: colour-table image an index (session 39).
    nodata: float | None = None
    #: Where a band GDAL labels alpha is read as image data
    #: (``imagery.inspect.alpha_as_data``, e.g. NIR), the VRT (XML) of
    #: ``imagery.inspect.data_view`` that labels it undefined: tiles are read from it,
    #: so it is no transparency (session 46); kept here, as judging the band again for
    #: each tile read it again (0.4 s a tile of a 16 Mpx file without overviews).
    view: str | None = None

    @property
    def read(self) -> tuple[int, ...]:
        """The bands to read: :attr:`indexes` and the undeclared alpha band."""
        return self.indexes + ((self.alpha,) if self.alpha is not None else ())


@lru_cache(maxsize=256)
def _render_params(
    uri: str,
    rgb: tuple[int, int, int] | None = None,
    radiometry: str = "linear",
    stamp: FileStamp | None = None,
    item_scaling: ItemScaling | None = None,
    item_nodata: float | None = None,
) -> RenderParams:
    """Band indexes to show (red, green, blue as the detector reads them:
    :func:`railwatch.imagery.read.rgb_bands`, ``rgb`` from the scene's metadata) and, for
    non-8-bit images, the per-band ranges the detector maps to 8 bits
    (:func:`railwatch.imagery.read.stretch_ranges`; one range for the three bands with
    ``radiometry`` ``display``; measured with the scales and offsets the scene's STAC
    item declares, ``item_scaling``, where the file declares none); an RGBA without
    ExtraSamples's alpha band and a colour table's colours and transparent entries, as
    the pipeline reads them (``imagery.read.read_site_window``). Cached by all of them
    and the file's ``stamp``: a scene given another radiometry, other bands or other
    item scales, or whose file (or a sidecar) was replaced, is shown anew."""
    from railwatch.imagery.inspect import transparent_entries, undeclared_alpha
    from railwatch.imagery.read import (
        colour_table,
        open_raster,
        parse_radiometry,
        rgb_bands,
        stretch_ranges,
    )

    with open_raster(gdal_path(uri)) as ds:
        indexes = tuple(rgb_bands(ds, bands=rgb))
        # a band labelled alpha that holds data (NIR) is no alpha band: the pipeline's
        # rule (imagery.inspect.alpha_as_data, session 46)
        alpha = alpha_band(ds)
        hidden = None if alpha is not None else undeclared_alpha(ds)
        with data_view(ds) as shown:
            view = str(shown.name) if shown is not ds else None  # its XML
        if hidden is not None:
            indexes = tuple(b for b in indexes if b != hidden) or (1,)
        palette: tuple[tuple[int, int, int], ...] | None = None
        clear: tuple[int, ...] = ()
        # one row per entry of the table (imagery.read.colour_table, the one rule of every
        # reader): an index past it is no data (_as_shown), not the clamped last row
        table = colour_table(ds, indexes) if len(indexes) == 1 else None
        if table is not None:
            palette = tuple((int(r), int(g), int(b)) for r, g, b in table)
            entries = transparent_entries(ds, indexes[0])
            clear = tuple(int(v) for v in entries) if entries is not None else ()
        ranges = (
            None
            if palette is not None
            else stretch_ranges(
                ds,
                list(indexes),
                radiometry=parse_radiometry(radiometry),
                item_scaling=item_scaling,
                nodata=item_nodata,
            )
        )
        declared = ds.nodata is not None or alpha is not None
        declared = declared or own_mask(ds)  # the file's mask wins too (review r2, s38)
        # a colour table's index equal to the item's nodata is no data too, as GDAL
        # reads a palette band's own nodata and the pipeline the item's (session 39)
        nodata = None if declared or hidden is not None else item_nodata
    spans = (
        None
        if ranges is None
        else tuple((float(lo), float(hi)) for lo, hi in zip(*ranges, strict=True))
    )
    return RenderParams(indexes, spans, hidden, palette, clear, nodata, view)


def _as_shown(
    arr: np.ma.MaskedArray[Any, Any], params: RenderParams, radiometry: Radiometry
) -> np.ma.MaskedArray[Any, Any]:
    """The bands read for a tile (:attr:`RenderParams.read`) as the 8-bit image shown:
    transparent where the undeclared alpha is 0, a colour table's entry is transparent or
    an index has no entry in the table (``imagery.read.palette_colours``, the one rule of
    every reader since session 31; before, tiles drew it in the clamped last row's
    colour), a colour table's indexes as their colours, other data mapped to 8 bits as the
    detector sees it (:func:`railwatch.imagery.read.stretch_to_uint8`)."""
    import numpy as np

    from railwatch.imagery.read import palette_colours, stretch_to_uint8

    data = np.asarray(arr.data)
    mask = np.ma.getmaskarray(arr)[0].copy()
    if params.alpha is not None:
        mask |= data[-1] == 0
        data = data[:-1]
    if params.nodata is not None:  # the STAC item's, as the pipeline reads it
        mask |= (data == params.nodata).all(axis=0)
    if params.palette is not None:
        index = data[0].astype(np.int64)
        if params.clear:
            mask |= np.isin(index, params.clear)
        rgb, known = palette_colours(index, np.asarray(params.palette, dtype=np.uint8))
        mask |= ~known  # an index the table has no entry for: no data (session 31)
        data = np.moveaxis(rgb, -1, 0)
    elif params.ranges is not None:
        data = np.stack(
            [
                stretch_to_uint8(np.asarray(data[i]), lo, hi, radiometry=radiometry)
                for i, (lo, hi) in enumerate(params.ranges)
            ]
        )
    return np.ma.MaskedArray(data, mask=np.broadcast_to(mask, data.shape).copy())


def render_tile(
    uri: str,
    z: int,
    x: int,
    y: int,
    rgb: tuple[int, int, int] | None = None,
    radiometry: Radiometry = "linear",
    stamp: FileStamp | None = None,
    item_scaling: ItemScaling | None = None,
    item_nodata: float | None = None,
) -> bytes | None:
    """PNG bytes of tile ``z/x/y`` of the image at ``uri``; ``None`` outside the image.
    16-bit and float images are shown as the detector sees them
    (:func:`railwatch.imagery.read.stretch_to_uint8`, with the scene's ``radiometry``,
    and the scales and offsets its STAC item declares, ``item_scaling``, where the file
    declares none, as ``process`` reads it).
    Transparent where the pipeline reads no data that GDAL does not mask: an RGBA
    without ExtraSamples's alpha and a colour table's transparent entries; not where a
    band GDAL labels alpha holds data (NIR: read through ``imagery.inspect.data_view``,
    :attr:`RenderParams.view`, since session 46; rio-tiler took it as alpha, opaque only
    where it was 255, and such a tile was transparent); a colour table's indexes
    shown as its colours (:func:`_as_shown`; until the session-24 follow-up those areas
    were drawn as white or black ground and a colour-table image in grey levels).
    Planned by :func:`tile_plan`: a transparent tile when the image would be under
    :data:`MIN_IMAGE_PX` pixels across, a decimated read when the image is much finer
    than the tile."""
    lazy_import("rio_tiler", "web", "image tiles")
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.io import Reader
    from rio_tiler.models import ImageData

    try:
        params = _render_params(uri, rgb, radiometry, stamp, item_scaling, item_nodata)
        # as Reader(uri) opens it, or the VRT where a band labelled alpha is data (s46)
        with rasterio.open(params.view or uri) as ds, Reader(uri, dataset=ds) as src:
            if not src.tile_exists(x, y, z):
                return None
            plan = tile_plan(src, x, y, z)
            if plan.kind == "empty":
                return empty_png()
            if plan.kind == "coarse":
                arr = coarse_tile(src, plan, params.read)
                if arr is None:
                    return None
            else:
                arr = src.tile(x, y, z, tilesize=TILE_SIZE, indexes=params.read).array
    except TileOutsideBounds:
        return None
    except RasterioIOError as err:
        # GDAL's first reason, as ingest says it (not "Read failed. See previous ...")
        raise unreadable_pixels(file_name(uri) or uri, err) from err
    img = ImageData(_as_shown(arr, params, radiometry))
    with warnings.catch_warnings():
        # a PNG tile carries no georeference by design: rasterio's warning is noise
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return bytes(img.render(img_format="PNG"))


@router.get(
    "/scenes/{scene_id}/tiles/{z}/{x}/{y}.png",
    summary="Image tile of a scene",
    response_class=Response,
    responses=conditional_responses(
        "image/png", "the scene's file, bands and radiometry are unchanged"
    ),
)
def scene_tile(
    scene_id: SceneId,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM), PlainInt],
    x: Annotated[int, Path(ge=0, le=2**MAX_ZOOM), PlainInt],
    y: Annotated[int, Path(ge=0, le=2**MAX_ZOOM), PlainInt],
    db: DB,
    request: Request,
) -> Response:
    """A 256 px PNG tile (transparent where the image has no data), with an ETag:
    ``If-None-Match`` with it is answered ``304`` while the scene's file, bands and
    radiometry (and its STAC item's band scales) are unchanged."""
    if x >= 2**z or y >= 2**z:
        raise NotFoundError(f"tile {z}/{x}/{y} does not exist: x and y must be below 2**z")
    from railwatch.imagery.read import item_nodata_of, item_scaling_of, radiometry_of

    with read_session(db) as s:
        scene = repo.get_scene(s, scene_id)
        uri, rgb, radiometry = scene.uri, rgb_of(scene.meta), radiometry_of(scene.meta)
        item_scaling = item_scaling_of(scene.meta)
        item_nodata = item_nodata_of(scene.meta)
        content_hash = scene.content_hash
    name = file_name(str(uri)) or str(uri)
    if not is_remote(uri) and not PathLib(gdal_path(uri)).is_file():
        # every tile of the map was a 500 naming the server's path, each logged with
        # a traceback
        raise NotFoundError(
            f"the image of scene {scene_id} ({name}) is no longer where it was ingested "
            "(moved or deleted?): put the file back, or ingest it again"
        )
    try:
        stamp = file_stamp(uri)
    except OSError as err:  # gone between the check above and now
        raise NotFoundError(
            f"the image of scene {scene_id} cannot be read now ({err.strerror}): put the "
            "file back, or ingest it again"
        ) from err
    etag = tile_etag(
        scene_id, uri, content_hash, stamp, rgb, radiometry, (z, x, y), item_scaling, item_nodata
    )
    headers = {"ETag": etag, "Cache-Control": TILE_CACHE_CONTROL}
    asked = request.headers.get("if-none-match")
    # `*` only once the tile is known to exist (RFC 9110: it matches a current
    # representation; 2026-12-07, session 49: a tile outside the image, a 404 without
    # it, was a 304 to `If-None-Match: *`)
    if etag_matches(asked, etag, star=False):
        return Response(status_code=304, headers=headers)
    try:
        png = render_tile(uri, z, x, y, rgb, radiometry, stamp, item_scaling, item_nodata)
    except ImageryError as err:
        # a file damaged or cut short after ingest: a 500 (the server's data), which
        # said "cannot read the stored image of this scene: Read failed. See previous
        # exception for details." or named the file's path (before session 27); the
        # path is for the server log: the body shows its file name (errors.public_detail)
        raise ImageryError(
            f"the image of scene {scene_id} ({uri}) cannot be read: {err}; if it changed "
            "since it was ingested, put the original file back or ingest it again"
        ) from err
    if png is None:
        raise NotFoundError(f"tile {z}/{x}/{y} is outside the image of scene {scene_id}")
    if etag_matches(asked, etag):  # `*`
        return Response(status_code=304, headers=headers)
    return Response(png, media_type="image/png", headers=headers)
