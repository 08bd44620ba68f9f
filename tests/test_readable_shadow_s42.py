"""The occupied-length estimate does not read ground estimated to lie under a cloud's
shadow (session 42 review).

With a quality mask, cloud shadow (code 4) is not readable
(``quality.READABLE_CODES``); without one, ``readable_pixels`` left out estimated cloud
and haze but read estimated cloud shadow (found since session 42) as clear ground.
"""

from __future__ import annotations

import numpy as np

from railwatch.imagery.quality import READABLE_CODES, estimate_conditions, readable_pixels
from railwatch.sim import SceneParams, render_scene


def test_estimated_cloud_shadow_is_not_read_as_a_masks_shadow_is_not() -> None:
    gsd, n = 3.0, 200
    scene = render_scene(SceneParams(seed=8_100_003, gsd=gsd, size_px=(n, n), style="arid"))
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) * gsd
    r = np.hypot(yy - n * gsd / 3, xx - n * gsd / 3)
    radius = 0.45 * n * gsd
    darkening = 0.5 * np.clip((radius + 30.0 - r) / 60.0, 0.0, 1.0)
    shaded = np.clip(scene.image * (1.0 - darkening)[..., None], 0, 255).astype(np.uint8)
    valid = np.ones((n, n), bool)
    shadow = estimate_conditions(shaded, valid, gsd).shadow
    assert shadow.mean() > 0.2  # the estimate finds the shadow ...
    readable = readable_pixels(shaded, valid, None, gsd)
    assert not (readable & shadow).any()  # ... and it is not read
    assert readable[darkening == 0].mean() > 0.95  # the clear ground still is
    mask = np.where(darkening > 0.2, 4, 0).astype(np.uint8)
    assert 4 not in READABLE_CODES
    assert not readable_pixels(shaded, valid, mask, gsd)[darkening > 0.2].any()
