"""INT8 weights of the default detector: `railwatch quantize`, fp32/int8 selection, versions."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from railwatch.detect.default import DefaultDetector, default_weights
from railwatch.detect.model_core import sigmoid
from railwatch.detect.registry import get_detector
from railwatch.errors import DetectionError, MissingDependencyError


def _copy_fp32(tmp_path: Path) -> Path:
    """The shipped fp32 weights and their card, without the INT8 entry."""
    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    card = json.loads(default_weights().with_suffix(".json").read_text())
    card.pop("int8", None)
    w.with_suffix(".json").write_text(json.dumps(card))
    return w


def _sim_tile(seed: int, gsd: float) -> tuple[np.ndarray, float]:
    from railwatch import sim

    params = sim.random_params(seed, gsd, size_px=(512, 512))
    return np.ascontiguousarray(np.asarray(sim.render_scene(params).image)[..., :3]), gsd


@pytest.fixture(scope="module")
def quantised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fp32 weights quantised by the CLI with a few calibration tiles."""
    pytest.importorskip("onnx")
    from railwatch.cli.main import main

    w = _copy_fp32(tmp_path_factory.mktemp("q"))
    assert main(["quantize", str(w), "--tiles", "6", "--seed", "123"]) == 0
    return w


def test_quantize_writes_int8_next_to_fp32_and_records_it(quantised: Path) -> None:
    import onnxruntime

    int8 = quantised.with_name("w.int8.onnx")
    assert int8.is_file() and int8.stat().st_size < quantised.stat().st_size / 2
    entry = json.loads(quantised.with_suffix(".json").read_text())["int8"]
    assert entry["file"] == "w.int8.onnx"
    assert entry["sha256"] == hashlib.sha256(int8.read_bytes()).hexdigest()
    assert entry["source_sha256"] == hashlib.sha256(quantised.read_bytes()).hexdigest()
    assert entry["calibration"]["tiles"] == 6 and entry["calibration"]["seed"] == 123
    assert entry["calibration"]["sources"] == {"sim": 3, "synth": 3}
    assert entry["config"]["per_channel"] and entry["config"]["reduce_range"]
    # the head and, since v2.2, the Slice and Concat assembling the maps after the covered
    # branch (detect.covered_head)
    assert entry["nodes_in_fp32"] == ["/head/Conv", "covered/Slice", "covered/maps"]
    assert entry["onnxruntime"] == onnxruntime.__version__ and entry["date"].startswith("20")
    assert "--tiles 6 --seed 123" in entry["command"]
    # the graph really is quantised: integer weights, the head left in fp32
    import onnx

    model = onnx.load(str(int8))
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert any(i.data_type == onnx.TensorProto.INT8 for i in model.graph.initializer)
    # shapes are read from the quantised tensors, never from a dequantised copy
    producer = {o: n.op_type for n in model.graph.node for o in n.output}
    shapes = [n for n in model.graph.node if n.op_type == "Shape"]
    assert shapes and all(producer.get(n.input[0]) != "DequantizeLinear" for n in shapes)


def test_int8_heat_map_matches_fp32_on_a_simulator_tile(quantised: Path) -> None:
    """On a 0.5 m simulator tile (all styles, a seed calibration never uses) the INT8
    centre heat stays within 0.1 of fp32 everywhere and within 0.015 on average where
    fp32 sees a car (heat >= 0.2), and the detections are the same cars: each fp32 car
    has an INT8 car within 2 m, bar one in ten, and the counts differ by at most 10 %.

    Measured on this tile (2026-12-02): the shipped settings 0.030 at most and 0.0070 on
    average, 36 cars for 36, all matched; plain MinMax ranges 0.038 / 0.0099 (35 cars,
    33 matched); the head quantised too 0.044 / 0.0122 and 46 cars for 36 (a quantised
    heat map has plateaus of tied local maxima, i.e. extra peaks), which this test
    rejects. The margins leave room for other ONNX Runtime versions' rounding."""
    fp32 = DefaultDetector(quantised, precision="fp32")
    int8 = DefaultDetector(quantised)
    assert int8.precision == "int8" and int8.model_path.name == "w.int8.onnx"
    img, gsd = _sim_tile(6_200_001, 0.5)
    a, _ = fp32.predict_maps(img, gsd)
    b, _ = int8.predict_maps(img, gsd)
    ha, hb = sigmoid(a[0]), sigmoid(b[0])
    hot = ha >= 0.2
    assert hot.sum() > 50  # the tile has cars
    assert float(np.abs(ha - hb).max()) < 0.1
    assert float(np.abs(ha - hb)[hot].mean()) < 0.015
    da, db = fp32.detect(img, gsd), int8.detect(img, gsd)
    assert len(da) >= 10
    xy = np.array([(d.box.cx, d.box.cy) for d in db])
    near = [np.hypot(*(xy - (d.box.cx, d.box.cy)).T).min() * gsd <= 2.0 for d in da]
    assert sum(near) >= 0.9 * len(da)
    assert abs(len(da) - len(db)) <= max(2, len(da) // 10)


def test_quantize_is_reproducible(quantised: Path, tmp_path: Path) -> None:
    from railwatch.detect.quantize import QuantizeConfig, quantize_weights

    w = _copy_fp32(tmp_path)
    out = quantize_weights(w, QuantizeConfig(tiles=6, seed=123))
    assert out.read_bytes() == quantised.with_name("w.int8.onnx").read_bytes()


def test_shipped_detector_runs_int8_and_fp32_on_request() -> None:
    int8 = DefaultDetector()
    assert int8.precision == "int8" and int8.model_path.name == "railwatch_default.int8.onnx"
    assert int8.version == DefaultDetector.version == int8.card["version"] == "2.9"
    fp32 = DefaultDetector(precision="fp32")
    assert fp32.precision == "fp32" and fp32.model_path == default_weights()
    assert fp32.version == "2.9+fp32"
    for name, precision, version in (
        ("default", "int8", "2.9"),
        ("default-fp32", "fp32", "2.9+fp32"),
        (f"default:{default_weights()}", "int8", "2.9"),
        (f"default-fp32:{default_weights()}", "fp32", "2.9+fp32"),
    ):
        det = get_detector(name)
        assert isinstance(det, DefaultDetector)
        assert (det.precision, det.version) == (precision, version)
    # the INT8 file named directly reads the fp32 card and runs INT8
    direct = DefaultDetector(default_weights().with_name("railwatch_default.int8.onnx"))
    assert direct.weights == default_weights() and direct.version == "2.9"
    # other thresholds: a digest that differs between the two precisions
    a = DefaultDetector(threshold=0.5).version
    b = DefaultDetector(threshold=0.5, precision="fp32").version
    assert a.startswith("2.9+") and b.startswith("2.9+") and a != b
    with pytest.raises(DetectionError, match="unknown precision"):
        DefaultDetector(precision="int4")
    with pytest.raises(DetectionError, match="unknown detector"):
        get_detector("default-fp16")


def test_weights_without_int8_entry_run_fp32(tmp_path: Path) -> None:
    w = _copy_fp32(tmp_path)
    det = DefaultDetector(w)
    assert det.precision == "fp32" and det.model_path == w
    with pytest.raises(DetectionError, match="railwatch quantize"):
        DefaultDetector(w, precision="int8")


def test_stale_or_missing_int8_is_a_clear_error(quantised: Path, tmp_path: Path) -> None:
    w = tmp_path / "w.onnx"
    for name in ("w.onnx", "w.json", "w.int8.onnx"):
        shutil.copy(quantised.with_name(name), tmp_path / name)
    assert DefaultDetector(w).precision == "int8"
    w.write_bytes(w.read_bytes() + b"\0")  # the fp32 file changed after quantising
    with pytest.raises(DetectionError, match="quantised from other weights"):
        DefaultDetector(w)
    assert DefaultDetector(w, precision="fp32").precision == "fp32"
    shutil.copy(quantised, w)
    (tmp_path / "w.int8.onnx").unlink()
    det = DefaultDetector(w)
    with pytest.raises(DetectionError, match="railwatch quantize"):
        det.detect(np.zeros((128, 128, 3), np.uint8) + 100, 0.5)


def test_int8_weights_ship_and_stay_small() -> None:
    weights = default_weights().parent
    int8 = weights / "railwatch_default.int8.onnx"
    assert int8.is_file() and default_weights().is_file()  # fp32 kept for --init
    total = sum(p.stat().st_size for p in weights.iterdir())
    assert total < 20 * 1024 * 1024
    entry = json.loads(default_weights().with_suffix(".json").read_text())["int8"]
    assert entry["sha256"] == hashlib.sha256(int8.read_bytes()).hexdigest()
    assert entry["source_sha256"] == hashlib.sha256(default_weights().read_bytes()).hexdigest()


def test_quantize_without_onnx_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main
    from railwatch.detect.quantize import quantize_weights

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    w = _copy_fp32(tmp_path)
    with pytest.raises(MissingDependencyError) as err:
        quantize_weights(w)
    assert err.value.extra == "quantize"
    assert "-m pip install" in str(err.value) and "[quantize]'" in str(err.value)
    assert main(["quantize", str(w)]) == 1
    out = capsys.readouterr().err
    assert "onnx is needed" in out and "[quantize]'" in out
    assert not w.with_name("w.int8.onnx").exists()
    # running the INT8 weights needs only onnxruntime
    assert len(DefaultDetector().detect(np.zeros((128, 128, 3), np.uint8) + 100, 0.5)) == 0


def test_quantize_bad_weights_or_exclude_fail_before_calibrating(tmp_path: Path) -> None:
    """A file that is not ONNX was an internal error (protobuf DecodeError, status 70) and
    a bad --exclude an error, both after rendering every calibration tile."""
    pytest.importorskip("onnx")
    from railwatch.detect.quantize import QuantizeConfig, quantize_weights
    from railwatch.errors import InputError

    fake = tmp_path / "fake.onnx"
    fake.write_text("not onnx")
    rendered: list[int] = []
    with pytest.raises(DetectionError, match="cannot load detector weights"):
        quantize_weights(fake, progress=lambda i, n: rendered.append(i))
    w = _copy_fp32(tmp_path)
    with pytest.raises(InputError, match="cannot keep 'everything' in fp32"):
        quantize_weights(
            w, QuantizeConfig(exclude=("everything",)), progress=lambda i, n: rendered.append(i)
        )
    assert rendered == [] and not w.with_name("w.int8.onnx").exists()


def test_shipped_int8_weights_cannot_saturate_without_vnni() -> None:
    """ONNX Runtime multiplies uint8 activations by int8 weights with VPMADDUBSW on x86-64
    CPUs without VNNI, which saturates a sum of two products at 32767: with weights within
    [-64, 64] (reduce_range) two products reach at most 2 x 255 x 64 = 32640, so the INT8
    network gives the same results on those CPUs as on this VNNI one."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    model = onnx.load(str(default_weights().with_name("railwatch_default.int8.onnx")))
    weights = [
        numpy_helper.to_array(i)
        for i in model.graph.initializer
        if i.data_type == onnx.TensorProto.INT8 and i.name.endswith("_quantized")
    ]
    # every convolution but the fp32 head: 9 of the network, 3 of the covered branch (v2.2)
    assert len(weights) == 12
    assert all(int(np.abs(w.astype(np.int32)).max()) <= 64 for w in weights)


def _conv_3x3_stride2(x: np.ndarray, w: np.ndarray, pad_value: int = 0) -> np.ndarray:
    """Reference 3 x 3, stride-2, pad-1 convolution (N, C, H, W) x (O, C, 3, 3) in integers."""
    n, c, h, wd = x.shape
    xp = np.full((n, c, h + 2, wd + 2), pad_value, x.dtype)
    xp[:, :, 1:-1, 1:-1] = x
    out = np.zeros((n, w.shape[0], h // 2, wd // 2), np.int64)
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, :, ky : ky + h : 2, kx : kx + wd : 2]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, ky, kx].astype(np.int64))
    return out


def _space_to_depth(x: np.ndarray) -> np.ndarray:
    """ONNX SpaceToDepth(blocksize 2), DCR order: channel (dy * 2 + dx) * C + c."""
    n, c, h, w = x.shape
    t = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 3, 5, 1, 2, 4)
    return t.reshape(n, 4 * c, h // 2, w // 2)


def _conv_2x2_pad_top_left(x: np.ndarray, w: np.ndarray, pad_value: int = 0) -> np.ndarray:
    """Reference 2 x 2, stride-1 convolution with pads (top 1, left 1, bottom 0, right 0)."""
    n, c, h, wd = x.shape
    xp = np.full((n, c, h + 1, wd + 1), pad_value, x.dtype)
    xp[:, :, 1:, 1:] = x
    out = np.zeros((n, w.shape[0], h, wd), np.int64)
    for a in range(2):
        for b in range(2):
            out += np.einsum(
                "nchw,oc->nohw", xp[:, :, a : a + h, b : b + wd], w[:, :, a, b].astype(np.int64)
            )
    return out


@pytest.mark.parametrize("shape", [(3, 8, 10), (3, 2, 2), (5, 14, 6)])
def test_space_to_depth_weights_give_the_strided_convolution_exactly(
    shape: tuple[int, int, int],
) -> None:
    """Every product of the 3 x 3 stride-2 convolution appears once in the 2 x 2 one over
    the space-to-depth input, whatever the weights, input and (padding) value."""
    from railwatch.detect.quantize import space_to_depth_weights

    rng = np.random.default_rng(sum(shape))
    c, h, w = shape
    x = rng.integers(0, 256, (2, c, h, w)).astype(np.int64)
    k = rng.integers(-64, 65, (7, c, 3, 3)).astype(np.int8)
    k2 = space_to_depth_weights(k)
    assert k2.shape == (7, 4 * c, 2, 2) and k2.dtype == np.int8
    assert np.count_nonzero(k2) == np.count_nonzero(k)  # the extra taps are zeros
    for pad in (0, 131):  # a uint8 input pads with its zero point
        want = _conv_3x3_stride2(x, k, pad)
        got = _conv_2x2_pad_top_left(_space_to_depth(x), k2, pad)
        assert np.array_equal(got, want)
    with pytest.raises(Exception, match="3 x 3"):
        space_to_depth_weights(np.zeros((4, 3, 2, 2), np.int8))


def _qdq_conv_model(zero_point: int, seed: int) -> object:
    """A small QDQ model like the quantised detector's start: image -> Quantize ->
    Dequantize -> Conv 3x3/2 (int8 weights per output channel) -> Quantize -> Dequantize."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = rng.integers(-64, 65, (16, 3, 3, 3)).astype(np.int8)
    inits = [
        numpy_helper.from_array(np.array(0.047, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(zero_point, np.uint8), "x_zp"),
        numpy_helper.from_array(w, "w_quantized"),
        numpy_helper.from_array(rng.uniform(0.001, 0.01, 16).astype(np.float32), "w_scale"),
        numpy_helper.from_array(np.zeros(16, np.int8), "w_zp"),
        numpy_helper.from_array(rng.normal(0, 0.2, 16).astype(np.float32), "bias"),
        numpy_helper.from_array(np.array(0.02, np.float32), "y_scale"),
        numpy_helper.from_array(np.array(3, np.uint8), "y_zp"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["image", "x_scale", "x_zp"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w_quantized", "w_scale", "w_zp"], ["wd"], axis=0),
        helper.make_node(
            "Conv", ["xd", "wd", "bias"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4
        ),
        helper.make_node("QuantizeLinear", ["y", "y_scale", "y_zp"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zp"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize(("zero_point", "seed"), [(128, 0), (40, 1)])
def test_space_to_depth_rewrite_gives_onnxruntime_the_same_outputs(
    zero_point: int, seed: int
) -> None:
    """ONNX Runtime's integer kernels give bit for bit the same outputs after the rewrite,
    borders (the input's zero point as padding) included."""
    import onnxruntime as ort

    from railwatch.detect.quantize import space_to_depth_first_conv

    model = _qdq_conv_model(zero_point, seed)
    before = model.SerializeToString()  # type: ignore[attr-defined]
    assert space_to_depth_first_conv(model)
    ops = [n.op_type for n in model.graph.node]  # type: ignore[attr-defined]
    assert "SpaceToDepth" in ops and ops.count("DequantizeLinear") == 3  # the old one gone
    conv = next(n for n in model.graph.node if n.op_type == "Conv")  # type: ignore[attr-defined]
    attrs = {a.name: list(a.ints) for a in conv.attribute}
    assert attrs == {"kernel_shape": [2, 2], "strides": [1, 1], "pads": [1, 1, 0, 0]}
    rng = np.random.default_rng(seed + 10)
    for h, w in ((8, 8), (20, 34), (2, 6)):
        x = rng.normal(0, 3, (1, 3, h, w)).astype(np.float32)
        outs = [
            ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
            for m in (before, model.SerializeToString())  # type: ignore[attr-defined]
        ]
        assert outs[0].shape == (1, 16, h // 2, w // 2)
        assert np.array_equal(outs[0], outs[1])
    # a second call finds no 3 x 3 stride-2 convolution left to rewrite
    assert not space_to_depth_first_conv(model)


def test_space_to_depth_rewrite_leaves_fp32_first_convolutions() -> None:
    onnx = pytest.importorskip("onnx")
    from railwatch.detect.quantize import space_to_depth_first_conv

    model = onnx.load(str(default_weights()))
    before = model.SerializeToString()
    assert not space_to_depth_first_conv(model)  # no quantised input: nothing to do
    assert model.SerializeToString() == before


def test_quantize_rewrites_the_first_convolution_with_the_same_outputs(
    quantised: Path, tmp_path: Path
) -> None:
    """`railwatch quantize` rewrites the first convolution (space_to_depth, the default):
    the file is the one quantised without it, rewritten, and gives the same output maps
    and detections (views included) on a simulator tile with a valid mask."""
    onnx = pytest.importorskip("onnx")
    from railwatch.detect.quantize import (
        QuantizeConfig,
        quantize_weights,
        space_to_depth_first_conv,
    )

    entry = json.loads(quantised.with_suffix(".json").read_text())["int8"]
    assert entry["config"]["space_to_depth"] and "SpaceToDepth(2)" in entry["graph"]
    w = _copy_fp32(tmp_path)
    plain = quantize_weights(w, QuantizeConfig(tiles=6, seed=123, space_to_depth=False))
    model = onnx.load(str(plain))
    assert "SpaceToDepth" not in {n.op_type for n in model.graph.node}
    assert space_to_depth_first_conv(model)
    assert (
        model.SerializeToString()
        == onnx.load(str(quantised.with_name("w.int8.onnx"))).SerializeToString()
    )
    img, gsd = _sim_tile(6_200_002, 0.5)
    valid = np.ones(img.shape[:2], bool)
    valid[:40, :] = False
    for views in (1, 2):
        a, b = DefaultDetector(quantised, views=views), DefaultDetector(w, views=views)
        assert np.array_equal(
            a.predict_maps(img, gsd, valid)[0], b.predict_maps(img, gsd, valid)[0]
        )
        assert a.detect(img, gsd, valid) == b.detect(img, gsd, valid)


def test_shipped_int8_weights_run_the_first_convolution_on_space_to_depth() -> None:
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(default_weights().with_name("railwatch_default.int8.onnx")))
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    assert [list(a.ints) for a in conv.attribute if a.name == "kernel_shape"] == [[2, 2]]
    assert "SpaceToDepth" in {n.op_type for n in model.graph.node}
