"""INT8 post-training static quantisation of the default detector (ONNX Runtime).

``railwatch quantize [WEIGHTS]`` (and the last step of ``railwatch train --recipe
default``) draws calibration tiles from the project's own renderers with a fixed seed
(the simulator, :mod:`railwatch.sim`, and the procedural yards of
:mod:`railwatch.detect.model_synth`, in the training styles, nothing downloaded),
preprocesses them exactly as :class:`~railwatch.detect.default.DefaultDetector` does
(:meth:`~railwatch.detect.default.DefaultDetector.preprocess`), records every
activation's range on them (MinMax) and writes ``NAME.int8.onnx`` next to ``NAME.onnx``
with ``onnxruntime.quantization.quantize_static``. The card (``NAME.json``) gets an
``int8`` entry with what was done and the file's SHA-256, written before the file is moved
into place (:func:`move_int8_into_place`); the detector then runs the INT8 file by
default, once it has checked that digest.

Settings (see docs/detection-history.md, "INT8 weights: v2.1", for the measurements behind them):

- **QDQ format, activations uint8 (asymmetric), weights int8 (symmetric) per output
  channel** (U8S8). ONNX Runtime's CPU kernels for U8S8 are its fast path on x86-64;
  S8S8 QDQ ran slower than fp32 here.
- **reduce_range**: weights use 7 bits. Without VNNI (AVX2, AVX-512 without VNNI) ONNX
  Runtime multiplies U8S8 with VPMADDUBSW, whose 16-bit pair sums can saturate with
  8-bit weights (2 x 255 x 127 > 32767) and silently change the result; with 7-bit
  weights (2 x 255 x 64 = 32640) they cannot. So the one file is correct on every x86
  CPU and fast where the CPU has VNNI (and on ARM).
- Nodes can be left in fp32 (``exclude``: the first convolution, whose 3 input channels
  make an inefficient int8 kernel, and/or the 1x1 head).
- **The first convolution on a space-to-depth input** (``space_to_depth``, since
  2026-12-03): after quantisation the INT8 first convolution (3 -> 16 channels, 3 x 3, stride 2,
  pad 1) is rewritten as the same integer sums in a cheaper shape, see
  :func:`space_to_depth_first_conv`. The network's input and outputs are unchanged.

Needs the ``onnx`` package (``pip install 'railwatch[quantize]'``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from railwatch.detect.calibration import update_card
from railwatch.detect.default import (
    INT8_SUFFIX,
    DefaultDetector,
    default_weights,
    weights_sha256,
)
from railwatch.detect.model_core import WORK_GSD
from railwatch.detect.train import TRAIN_STYLES, degrade, restore_card, sim_available
from railwatch.errors import DetectionError, InputError, lazy_import

#: First seed of the calibration tiles (the benchmark uses 7_000_000+, the count
#: calibration 5_000_000+, training seeds drawn from its own seed).
QUANT_SEED = 6_000_000
#: Resolutions the calibration tiles cycle through (metres per pixel, as in training).
CALIBRATION_GSDS: tuple[float, ...] = (0.3, 0.5, 0.75, 1.0)
#: Nodes that can be left in fp32, by role (resolved to node names in the model).
EXCLUDABLE = ("first-conv", "head")


@dataclass(frozen=True)
class QuantizeConfig:
    """Everything that defines a quantisation run (recorded in the card)."""

    #: Calibration tiles: alternately simulator scenes and procedural yards.
    tiles: int = 32
    seed: int = QUANT_SEED
    styles: tuple[str, ...] = TRAIN_STYLES
    #: Largest side of a calibration tile in working pixels (0.5 m).
    tile_px: int = 1024
    per_channel: bool = True
    reduce_range: bool = True
    #: Activation ranges: the mean over the tiles of each tile's minimum and maximum
    #: (ONNX Runtime's ``CalibMovingAverage`` with all tiles in one batch) instead of the
    #: extremes over all tiles (plain MinMax), so one extreme tile does not coarsen every
    #: step; values beyond it saturate.
    moving_average: bool = True
    #: Nodes kept in fp32, by role (:data:`EXCLUDABLE`): the 1x1 head by default, so the
    #: output maps are not quantised (a quantised heat map has plateaus of equal values,
    #: each a run of tied local maxima, i.e. extra peaks).
    exclude: tuple[str, ...] = ("head",)
    #: Rewrite the INT8 first convolution over a space-to-depth copy of the quantised input
    #: (:func:`space_to_depth_first_conv`; the same numbers, faster).
    space_to_depth: bool = True


def int8_path(weights: Path) -> Path:
    """Where the INT8 weights of ``NAME.onnx`` go: ``NAME.int8.onnx``."""
    return weights.with_name(weights.stem + INT8_SUFFIX)


def calibration_images(
    cfg: QuantizeConfig,
) -> Iterator[tuple[np.ndarray, np.ndarray | None, float, str]]:
    """The calibration images ``(image, valid, gsd, source)`` drawn from ``cfg.seed``:
    tile ``i`` is at ``CALIBRATION_GSDS[i % 4]``; even tiles are simulator scenes of
    ``cfg.styles`` (``sim.random_params``: haze, cloud, JPEG, off-nadir as drawn), odd
    ones procedural yards; both then get the training photometry (``train.degrade``) and
    are cut to at most ``cfg.tile_px`` working pixels a side."""
    from railwatch.detect.model_synth import draw_yard

    use_sim = sim_available()
    for i in range(cfg.tiles):
        rng = np.random.default_rng([cfg.seed, i])
        gsd = CALIBRATION_GSDS[i % len(CALIBRATION_GSDS)]
        side_m = cfg.tile_px * WORK_GSD
        valid: np.ndarray | None
        if use_sim and i % 2 == 0:
            from railwatch import sim

            params = sim.random_params(cfg.seed + i, gsd, styles=cfg.styles or None)
            scene = sim.render_scene(params)
            img = np.ascontiguousarray(np.asarray(scene.image)[..., :3])
            valid = np.asarray(scene.valid, dtype=bool)
            source = "sim"
        else:
            yard, _ = draw_yard(rng, side_m, gsd / 2)
            n = round(side_m / gsd)
            img = cv2.resize(yard, (n, n), interpolation=cv2.INTER_AREA)
            valid = None
            source = "synth"
        img = degrade(img, rng)
        side = min(round(side_m / gsd), img.shape[0], img.shape[1])
        y0 = int(rng.integers(0, img.shape[0] - side + 1))
        x0 = int(rng.integers(0, img.shape[1] - side + 1))
        img = np.ascontiguousarray(img[y0 : y0 + side, x0 : x0 + side])
        if valid is not None:
            valid = valid[y0 : y0 + side, x0 : x0 + side]
            if valid.all():
                valid = None
        yield img, valid, gsd, source


def _excluded_nodes(model: Any, roles: tuple[str, ...]) -> list[str]:
    """Node names kept in fp32 for ``roles``. ``head`` is the last convolution and every
    node after it (with a covered branch, ``detect.covered_head``, the Slice and Concat
    that assemble the output maps; a quantised Concat would quantise every map)."""
    nodes = list(model.graph.node)
    convs = [k for k, n in enumerate(nodes) if n.op_type == "Conv"]
    if not convs:
        raise InputError("the model has no convolution: not the default detector's network")
    names = []
    for role in roles:
        if role not in EXCLUDABLE:
            raise InputError(f"cannot keep {role!r} in fp32: choose from {', '.join(EXCLUDABLE)}")
        if role == "first-conv":
            names.append(nodes[convs[0]].name)
        else:
            names += [n.name for n in nodes[convs[-1] :]]
    return names


def quantize_weights(
    weights: str | Path | None = None,
    cfg: QuantizeConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
    command: str | None = None,
) -> Path:
    """Quantise the default detector's fp32 ``weights`` (default: the shipped ones) to
    INT8, write ``NAME.int8.onnx`` next to them and record it under ``int8`` in their
    card. Returns the INT8 path."""
    cfg = cfg or QuantizeConfig()
    lazy_import("onnx", "quantize", "quantising the detector to INT8")
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    if cfg.tiles < 1:
        raise InputError(f"need at least one calibration tile, got {cfg.tiles}")
    src = Path(weights) if weights is not None else default_weights()
    if not src.is_file():
        raise InputError(f"{src} does not exist: give the fp32 ONNX weights of the detector")
    if src.name.endswith(INT8_SUFFIX):
        raise InputError(f"{src} is already INT8: give the fp32 weights it was made from")
    try:
        model = onnx.load(str(src))
    except Exception as err:  # protobuf's DecodeError for a file that is not ONNX
        raise DetectionError(
            f"cannot load detector weights {src}: {err}; give the fp32 ONNX weights of the "
            "detector (railwatch train writes them)"
        ) from err
    quantised_ops = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "ConvInteger"}
    if any(n.op_type in quantised_ops for n in model.graph.node):
        # an INT8 file under another name: quantising it again fails deep in the quantiser
        raise InputError(
            f"{src} is already quantised (it holds quantisation nodes; INT8 copies of "
            f"NAME.onnx are written as NAME{INT8_SUFFIX}): give the fp32 weights it was "
            "made from"
        )
    from railwatch.detect.calibration import check_detector_weights, read_card

    check_detector_weights(src, "quantize")  # another network would fail in calibration
    excluded = _excluded_nodes(model, cfg.exclude)  # before the slow calibration
    out = int8_path(src)
    tmp = out.with_name(out.name + ".tmp")
    # where the INT8 file and the card are written, refused before the calibration tiles
    # are rendered (a folder there failed as an internal IsADirectoryError at the end)
    for path, what in ((out, "the INT8 weights"), (tmp, "the INT8 weights first")):
        if path.is_dir():
            raise InputError(
                f"{path} is a folder, where railwatch quantize writes {what} of "
                f"{src.name}: move it away or rename it, then run railwatch quantize again"
            )
    read_card(src)  # a card the entry cannot be written into (not a JSON object, a folder)
    det = DefaultDetector(src, precision="fp32")
    t0 = time.time()
    inputs: list[np.ndarray] = []
    sources: dict[str, int] = {}
    for k, (img, valid, gsd, source) in enumerate(calibration_images(cfg), start=1):
        x, _ = det.preprocess(img, gsd, valid)
        inputs.append(x)
        sources[source] = sources.get(source, 0) + 1
        if progress is not None:
            progress(k, cfg.tiles)
    input_name = model.graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self._it, None)
            return None if x is None else {input_name: x}

    # the quantiser logs a suggestion to pre-process the model (shape inference and graph
    # optimisation) to the root logger; the exported graph needs neither
    logging.getLogger().addFilter(_no_preprocess_hint)
    try:
        quantize_static(
            str(src),
            str(tmp),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=cfg.per_channel,
            reduce_range=cfg.reduce_range,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=excluded,
            extra_options={"CalibMovingAverage": cfg.moving_average},
        )
        quantised = onnx.load(str(tmp))
        rewired = _shapes_from_quantised(quantised)
        s2d = cfg.space_to_depth and space_to_depth_first_conv(quantised)
        onnx.save(quantised, str(tmp))
        calibration = {
            "tiles": len(inputs),
            "sources": sources,
            "gsd": list(CALIBRATION_GSDS),
            "seed": cfg.seed,
            "styles": list(cfg.styles),
            "preprocessing": "DefaultDetector.preprocess (working scale 0.5 m, local contrast "
            "normalisation, stride padding) after train.degrade",
        }
        entry = _int8_entry(
            src,
            tmp,
            out,
            cfg,
            excluded,
            rewired=rewired,
            s2d=s2d,
            calibration=calibration,
            check=_compare(src, tmp, inputs[0]),
        )
        entry["seconds"] = round(time.time() - t0, 1)
        if command:
            entry["command"] = command
        move_int8_into_place(tmp, out, src, entry)
    finally:
        logging.getLogger().removeFilter(_no_preprocess_hint)
        tmp.unlink(missing_ok=True)  # any failure: no NAME.int8.onnx.tmp left behind
    return out


def _int8_entry(
    src: Path,
    tmp: Path,
    out: Path,
    cfg: QuantizeConfig,
    excluded: list[str],
    *,
    rewired: int,
    s2d: bool,
    calibration: dict[str, Any],
    check: dict[str, float],
) -> dict[str, Any]:
    """The card's ``int8`` entry for the INT8 weights written to ``tmp`` (to become
    ``out``): their SHA-256 and their source's, the method and every setting, the
    ``calibration`` tiles and the ``check`` against fp32 (``seconds`` and ``command`` are
    added by the caller)."""
    import onnx
    import onnxruntime as ort

    return {
        "file": out.name,
        "sha256": weights_sha256(tmp),
        "source": src.name,
        "source_sha256": weights_sha256(src),
        "method": "ONNX Runtime post-training static quantization (quantize_static)",
        "format": "QDQ",
        "activations": "uint8, asymmetric (QUInt8)",
        "weights": "int8, symmetric (QInt8)"
        + (", per output channel" if cfg.per_channel else ", per tensor")
        + (", reduce_range (7 bits)" if cfg.reduce_range else ""),
        "calibrate_method": "MinMax, "
        + (
            "mean over the tiles of each tile's extremes (CalibMovingAverage)"
            if cfg.moving_average
            else "extremes over all tiles"
        ),
        "nodes_in_fp32": excluded,
        "graph": f"{rewired} Shape nodes read the quantised tensor instead of a dequantised "
        "copy (the upsampling's output size; same shapes, no dequantisation at run time)"
        + (
            "; the first convolution (3x3, stride 2) runs as a 2x2 stride-1 convolution over "
            "a SpaceToDepth(2) of the quantised input, the same integer sums (input height "
            "and width must be even; the detector pads them to multiples of 4)"
            if s2d
            else ""
        ),
        "config": asdict(cfg),
        "calibration": calibration,
        "check": check,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "onnxruntime": ort.__version__,
        "onnx": onnx.__version__,
    }


def move_int8_into_place(tmp: Path, out: Path, src: Path, entry: dict[str, Any]) -> None:
    """Record ``entry`` as the ``int8`` entry of ``src``'s card, then move the INT8
    weights written to ``tmp`` over ``out``.

    The card goes first, as ``train.move_pair_into_place`` writes a card before its
    weights: a process killed between the two leaves the new entry beside the previous
    INT8 file (or none), whose SHA-256 is not the entry's ``sha256``, and the detector
    refuses it (run ``railwatch quantize`` again). The other order left the new file
    under the previous entry, which the detector, checking only ``source_sha256``, took
    for it. A move that fails (an error, Ctrl-C) puts the previous card back."""
    card = src.with_suffix(".json")
    old = card.read_bytes() if card.is_file() else None
    update_card(src, {"int8": entry})
    try:
        os.replace(tmp, out)
    except BaseException:
        restore_card(card, old)
        raise


def _shapes_from_quantised(model: Any) -> int:
    """Let every ``Shape`` node that reads a ``DequantizeLinear`` output read that node's
    quantised input instead (the same shape): the exported graph takes the upsampling's
    output size from the shape of an activation, and in QDQ form ONNX Runtime would
    dequantise that whole activation (a 32 x 422 x 422 copy per 1688 px tile) just for
    its shape. The outputs are unchanged. Returns how many nodes were rewired."""
    producer = {o: n for n in model.graph.node for o in n.output}
    count = 0
    for node in model.graph.node:
        src = producer.get(node.input[0]) if node.op_type == "Shape" else None
        if src is not None and src.op_type == "DequantizeLinear":
            node.input[0] = src.input[0]
            count += 1
    used = {i for n in model.graph.node for i in n.input} | {o.name for o in model.graph.output}
    for node in [
        n
        for n in model.graph.node
        if n.op_type == "DequantizeLinear" and not any(o in used for o in n.output)
    ]:
        model.graph.node.remove(node)
    return count


#: Tap of a 3 x 3, stride-2, pad-1 kernel that a 2 x 2 kernel over the space-to-depth
#: input reaches at (kernel offset ``a``, position ``d`` within the 2 x 2 block): output
#: row ``p`` reads input rows ``2p - 1, 2p, 2p + 1`` (taps 0, 1, 2), which are block rows
#: ``p - 1`` (its second row) and ``p`` (both rows). The pair (0, 0), row ``2p - 2``, has
#: no tap: its weight is 0.
S2D_TAPS: dict[tuple[int, int], int] = {(0, 1): 0, (1, 0): 1, (1, 1): 2}


def space_to_depth_weights(w: np.ndarray) -> np.ndarray:
    """The weights ``(O, 4C, 2, 2)`` of a 2 x 2, stride-1 convolution with pads (top 1,
    left 1, bottom 0, right 0) over ``SpaceToDepth(2)`` of an input (ONNX order: channel
    ``(dy * 2 + dx) * C + c`` holds pixel ``(2i + dy, 2j + dx)`` of channel ``c``) that
    give exactly the outputs of the 3 x 3, stride-2, pad-1 convolution ``w`` ``(O, C, 3,
    3)`` on the input itself (even height and width): every product of the original
    appears once, the other taps are 0. Works for any dtype (the int8 weights of the
    quantised network stay the same integers)."""
    if w.ndim != 4 or w.shape[2:] != (3, 3):
        raise InputError(f"need 3 x 3 convolution weights (O, C, 3, 3), got shape {w.shape}")
    o, c = w.shape[:2]
    out = np.zeros((o, 4 * c, 2, 2), w.dtype)
    for (a, dy), ky in S2D_TAPS.items():
        for (b, dx), kx in S2D_TAPS.items():
            k = (dy * 2 + dx) * c
            out[:, k : k + c, a, b] = w[:, :, ky, kx]
    return out


def space_to_depth_first_conv(model: Any) -> bool:
    """Rewrite the first convolution of a QDQ INT8 model in place when it is a 3 x 3,
    stride-2, pad-1 convolution on the network's quantised input (``image ->
    QuantizeLinear -> DequantizeLinear -> Conv``, int8 weights): a ``SpaceToDepth(2)``
    of the quantised (uint8) input then feeds a 2 x 2, stride-1 convolution with pads
    (1, 1, 0, 0) and the weights of :func:`space_to_depth_weights`. The input and weight
    scales and zero points are unchanged, so ONNX Runtime computes the same integer sums
    and the outputs are bit for bit the same; the convolution sees 12 channels at a
    quarter of the positions instead of 3 at full resolution, which its integer kernels
    run about 3x faster (docs/detection.md, "Speed"). The input's height and width must be
    even. Returns whether the model was rewritten (False when the first convolution is in
    fp32 or not of that shape)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, int] = {}
    for n in graph.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    inits = {i.name: i for i in graph.initializer}
    conv = next((n for n in graph.node if n.op_type == "Conv"), None)
    if conv is None:
        return False
    attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
    if (
        list(attrs.get("kernel_shape", [])) != [3, 3]
        or list(attrs.get("strides", [1, 1])) != [2, 2]
        or list(attrs.get("pads", [0, 0, 0, 0])) != [1, 1, 1, 1]
        or list(attrs.get("dilations", [1, 1])) != [1, 1]
        or attrs.get("group", 1) != 1
        or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
    ):
        return False
    dq_x, dq_w = producer.get(conv.input[0]), producer.get(conv.input[1])
    if (
        dq_x is None
        or dq_w is None
        or dq_x.op_type != "DequantizeLinear"
        or dq_w.op_type != "DequantizeLinear"
    ):
        return False
    q_x = producer.get(dq_x.input[0])
    graph_inputs = {i.name for i in graph.input}
    if q_x is None or q_x.op_type != "QuantizeLinear" or q_x.input[0] not in graph_inputs:
        return False
    w_name = dq_w.input[0]
    if w_name not in inits or consumers.get(w_name) != 1 or consumers.get(dq_w.output[0]) != 1:
        return False
    w = numpy_helper.to_array(inits[w_name])
    if w.ndim != 4 or w.shape[2:] != (3, 3) or w.dtype != np.int8:
        return False
    if any(a.name == "axis" and a.i != 0 for a in dq_w.attribute):
        return False  # per-channel scales must run along the output channels
    inits[w_name].CopyFrom(numpy_helper.from_array(space_to_depth_weights(w), w_name))
    s2d_q = q_x.output[0] + "_space_to_depth"
    s2d_dq = s2d_q + "_DequantizeLinear_Output"
    nodes = [
        helper.make_node("SpaceToDepth", [q_x.output[0]], [s2d_q], name=s2d_q, blocksize=2),
        helper.make_node(
            "DequantizeLinear", [s2d_q, *dq_x.input[1:]], [s2d_dq], name=s2d_q + "_DequantizeLinear"
        ),
    ]
    conv.input[0] = s2d_dq
    for a in conv.attribute:
        if a.name == "kernel_shape":
            a.ints[:] = [2, 2]
        elif a.name == "strides":
            a.ints[:] = [1, 1]
        elif a.name == "pads":
            a.ints[:] = [1, 1, 0, 0]
    at = list(graph.node).index(conv)
    for k, node in enumerate(nodes):
        graph.node.insert(at + k, node)
    if consumers.get(dq_x.output[0]) == 1 and dq_x.output[0] not in {o.name for o in graph.output}:
        graph.node.remove(dq_x)  # the input's plain dequantisation fed only this conv
    return True


def _no_preprocess_hint(record: logging.LogRecord) -> bool:
    return "pre-processing" not in record.getMessage()


def _compare(fp32: Path, int8: Path, x: np.ndarray) -> dict[str, float]:
    """Largest and mean absolute difference of the centre-heat probability between the
    fp32 and INT8 networks on one calibration tile (recorded in the card)."""
    import onnxruntime as ort

    from railwatch.detect.model_core import sigmoid

    heats = []
    for path in (fp32, int8):
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        heats.append(sigmoid(sess.run(None, {sess.get_inputs()[0].name: x})[0][0, 0]))
    d = np.abs(heats[0] - heats[1])
    return {
        "heat_max_abs_diff": round(float(d.max()), 4),
        "heat_mean_abs_diff": round(float(d.mean()), 5),
    }
