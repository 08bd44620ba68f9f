"""The default detector places boxes the same whatever the image size: an input whose
side is a multiple of 4 but not of 8 (900 px; a site window is any size) had every box
1-2 m off towards the image origin (the s8 layout's stride-8 features were upsampled
onto the stride-4 grid by size)."""

from __future__ import annotations

import numpy as np
import pytest

from railwatch.detect.api import detect_array
from railwatch.detect.registry import get_detector
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import render_scene


@pytest.mark.parametrize("side", [900, 892])
def test_box_positions_do_not_depend_on_the_image_size(side: int) -> None:
    scene = render_scene(SceneParams(seed=2, gsd=0.5, size_px=(1200, 1200), n_cars=40))
    det = get_detector("default")
    ref = detect_array(scene.image[:896, :896], 0.5, detector=det, workers=1)
    got = detect_array(scene.image[:side, :side], 0.5, detector=det, workers=1)
    inner = [d for d in ref if max(d.box.cx, d.box.cy) < 860]  # away from the cut
    assert len(inner) >= 10
    centres = np.array([(d.box.cx, d.box.cy) for d in got])
    shift = [np.min(np.linalg.norm(centres - (d.box.cx, d.box.cy), axis=1)) for d in inner]
    assert np.median(shift) < 0.5, np.median(shift)  # pixels; was about 3 px at 900
