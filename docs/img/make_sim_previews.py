"""Make the simulator previews in docs/img (run from the repository root):

    .venv/bin/python docs/img/make_sim_previews.py

Each preview is a crop of a scene rendered by ``railwatch.sim`` (the Tumangang
scenario's yard unless noted), written as PNG at native resolution (no resampling,
except the 3 m scene's 2x nearest-neighbour enlargement so its pixels can be seen).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from railwatch.sim import RenderedScene, render_scene, tumangang

OUT = Path(__file__).resolve().parent
CROP = (600, 400)  # width, height


def _crop(scene: RenderedScene, size: tuple[int, int] = CROP) -> np.ndarray:
    """A crop centred on the cars (or the scene centre when there are none)."""
    w, h = size
    ys, xs = np.nonzero(scene.labels > 0)
    cy, cx = (
        (int(np.median(ys)), int(np.median(xs)))
        if len(ys)
        else (scene.height // 2, scene.width // 2)
    )
    x0 = int(np.clip(cx - w // 2, 0, max(0, scene.width - w)))
    y0 = int(np.clip(cy - h // 2, 0, max(0, scene.height - h)))
    return scene.image[y0 : y0 + h, x0 : x0 + w]


def _save(name: str, img: np.ndarray) -> None:
    path = OUT / name
    cv2.imwrite(str(path), np.ascontiguousarray(img[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{path} {img.shape[1]}x{img.shape[0]} {path.stat().st_size // 1024} KB")


def main() -> int:
    sc = tumangang()
    peak = next(i for i, v in enumerate(sc.visits) if v.when.date().isoformat() == "2024-06-17")
    oct5 = next(i for i, v in enumerate(sc.visits) if v.when.date().isoformat() == "2023-10-05")
    base = sc.params(peak).with_(off_nadir=8.0, misregistration_m=(0.0, 0.0))
    ext = sc.extent_m
    for gsd, name in ((0.3, "sim_0.3m.png"), (0.5, "sim_0.5m.png"), (1.0, "sim_1m.png")):
        size = (round(ext[0] / gsd), round(ext[1] / gsd))
        p = base.with_(gsd=gsd, size_px=size, sensor=None, jpeg_quality=None if gsd > 0.5 else 90)
        _save(name, _crop(render_scene(p)))
    coarse = sc.params(oct5).with_(gsd=3.0, size_px=(300, 180), jpeg_quality=None, sensor=None)
    img = render_scene(coarse).image
    _save("sim_3m.png", cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST))
    winter = base.with_(
        season="winter", snow=0.85, sun_elevation=24.0, sun_azimuth=165.0, date=None, seed=77
    )
    _save("sim_snow.png", _crop(render_scene(winter)))
    cloudy = sc.params(oct5).with_(cloud_cover=0.35, thin_cloud=0.4, seed=5)
    full = render_scene(cloudy)
    small = cv2.resize(full.image, (600, 360), interpolation=cv2.INTER_AREA)
    mask = full.mask
    colours = np.array(
        [[0, 0, 0], [255, 255, 255], [150, 150, 255], [0, 255, 255], [90, 60, 0]], np.uint8
    )
    m = np.where(mask == 255, 0, np.minimum(mask, 4))
    mask_rgb = cv2.resize(colours[m], (600, 360), interpolation=cv2.INTER_NEAREST)
    _save("sim_cloud.png", small)
    _save("sim_cloud_mask.png", mask_rgb)  # black clear, white cloud, blue haze, brown shadow
    return 0


if __name__ == "__main__":
    sys.exit(main())
