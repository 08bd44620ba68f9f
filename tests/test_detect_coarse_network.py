"""A second network for coarse tiles (card entry ``coarse_network``, since v2.4): chosen
per tile by its resolution; finer tiles run the first network exactly as without it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from railwatch.detect.default import COVERED_MAP, DefaultDetector, default_weights
from railwatch.detect.model_synth import draw_yard
from railwatch.errors import DetectionError


def _yard(seed: int, gsd: float, size_m: float = 200.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img, _ = draw_yard(rng, size_m, gsd / 2)
    n = round(size_m / gsd)
    return cv2.resize(img, (n, n), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the shipped fp32 weights and card without their INT8 entry and coarse
    network (``fine.onnx``), and a different network (``other.onnx``: the shipped one
    with the heat-map bias raised by 1, so it finds more peaks) next to it."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    d = tmp_path_factory.mktemp("coarse_net")
    fine = d / "fine.onnx"
    shutil.copy(default_weights(), fine)
    card = json.loads(default_weights().with_suffix(".json").read_text())
    for key in ("int8", "coarse_network"):
        card.pop(key, None)
    fine.with_suffix(".json").write_text(json.dumps(card))
    model = onnx.load(str(default_weights()))
    for init in model.graph.initializer:
        if init.name == "head.bias":
            b = numpy_helper.to_array(init).copy()
            b[0] += 1.0
            init.CopyFrom(numpy_helper.from_array(b, init.name))
    other = d / "other.onnx"
    onnx.save(model, str(other))
    other.with_suffix(".json").write_text(json.dumps({"threshold": 0.9}))
    return fine, other


def _with_entry(fine: Path, entry: dict[str, object]) -> Path:
    card = json.loads(fine.with_suffix(".json").read_text())
    card["coarse_network"] = entry
    out = fine.with_name("wired.onnx")
    shutil.copy(fine, out)
    out.with_suffix(".json").write_text(json.dumps(card))
    return out


def test_network_chosen_by_resolution(pair: tuple[Path, Path]) -> None:
    fine, other = pair
    w = _with_entry(fine, {"file": other.name, "from_gsd": 0.75, "covered": "fine"})
    det = DefaultDetector(w)
    assert det.coarse is not None and det.coarse[0] == 0.75 and det.coarse[2] == "fp32"
    assert det.model_at(0.5) == w and det.model_at(0.7) == w
    assert det.model_at(0.75) == other and det.model_at(0.7499999) == other
    assert det.model_at(1.0) == other
    # its own threshold stays the first card's (the other card says 0.9)
    assert det.threshold == DefaultDetector(fine).threshold


def test_finer_tiles_unchanged_coarse_tiles_use_the_other_network(
    pair: tuple[Path, Path],
) -> None:
    fine, other = pair
    w = _with_entry(fine, {"file": other.name, "from_gsd": 0.75, "covered": "fine"})
    wired, plain = DefaultDetector(w), DefaultDetector(fine)
    alone = DefaultDetector(other, threshold=plain.threshold)
    for gsd in (0.3, 0.5):
        img = _yard(11, gsd)
        a, _ = wired.predict_maps(img, gsd)
        b, _ = plain.predict_maps(img, gsd)
        assert np.array_equal(a, b)
        da, db = wired.detect(img, gsd), plain.detect(img, gsd)
        assert [(d.box, d.score, d.cls, d.covered_score) for d in da] == [
            (d.box, d.score, d.cls, d.covered_score) for d in db
        ]
    img = _yard(12, 1.0)
    a, _ = wired.predict_maps(img, 1.0)
    b, _ = plain.predict_maps(img, 1.0)
    c, _ = alone.predict_maps(img, 1.0)
    assert np.array_equal(a[:COVERED_MAP], c[:COVERED_MAP])  # the coarse network's maps
    assert not np.array_equal(a[0], b[0])
    assert np.array_equal(a[COVERED_MAP], b[COVERED_MAP])  # covered: the first network's
    own = DefaultDetector(w, coarse_covered="own")
    o, _ = own.predict_maps(img, 1.0)
    assert np.array_equal(o, c)


def test_options_and_version(pair: tuple[Path, Path]) -> None:
    fine, other = pair
    w = _with_entry(fine, {"file": other.name, "from_gsd": 0.75, "covered": "fine"})
    wired = DefaultDetector(w)
    off = DefaultDetector(w, coarse_network="none")
    assert off.coarse is None and off.model_at(1.0) == w
    # the version digest tells the detectors apart (a scene counted with one is redone)
    assert wired.version != off.version
    assert off.version == DefaultDetector(fine).version
    later = DefaultDetector(w, coarse_from_gsd=0.9)
    assert later.model_at(0.75) == w and later.model_at(0.9) == other
    assert later.version != wired.version
    given = DefaultDetector(fine, coarse_network=other, coarse_from_gsd=0.75)
    assert given.model_at(1.0) == other and given.coarse is not None
    assert given.coarse[3] == "fine"


@pytest.mark.slow
def test_precision_of_the_coarse_network(pair: tuple[Path, Path], tmp_path: Path) -> None:
    """INT8 (auto) runs the coarse network's INT8 file when its card names one, else its
    fp32 file; precision int8 insists on it; fp32 runs both in fp32."""
    from railwatch.detect.quantize import QuantizeConfig, quantize_weights

    fine, other = pair
    d = tmp_path / "q"
    d.mkdir()
    for p in (fine, other):
        shutil.copy(p, d / p.name)
        shutil.copy(p.with_suffix(".json"), d / p.with_suffix(".json").name)
    f, o = d / fine.name, d / other.name
    quantize_weights(f, QuantizeConfig(tiles=2))
    w = _with_entry(f, {"file": o.name, "from_gsd": 0.75})
    auto = DefaultDetector(w)
    assert auto.precision == "int8" and auto.coarse is not None
    assert auto.coarse[1:3] == (o, "fp32")
    with pytest.raises(DetectionError, match=f"railwatch quantize {o}"):
        DefaultDetector(w, precision="int8")
    quantize_weights(o, QuantizeConfig(tiles=2))
    auto = DefaultDetector(w)
    assert auto.coarse is not None and auto.coarse[1:3] == (d / "other.int8.onnx", "int8")
    assert auto.model_at(1.0) == d / "other.int8.onnx"
    fp32 = DefaultDetector(w, precision="fp32")
    assert fp32.model_at(1.0) == o and fp32.model_at(0.5) == w
    assert auto.version != fp32.version


def test_bad_entries_are_refused(pair: tuple[Path, Path], tmp_path: Path) -> None:
    fine, other = pair
    with pytest.raises(DetectionError, match="not found"):
        DefaultDetector(_with_entry(fine, {"file": "missing.onnx", "from_gsd": 0.75}))
    with pytest.raises(DetectionError, match="coarse_network"):
        DefaultDetector(_with_entry(fine, {"from_gsd": 0.75}))
    with pytest.raises(DetectionError, match="covered"):
        DefaultDetector(_with_entry(fine, {"file": other.name, "covered": "both"}))
    with pytest.raises(DetectionError, match="from_gsd"):
        DefaultDetector(_with_entry(fine, {"file": other.name, "from_gsd": -1}))
