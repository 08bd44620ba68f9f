"""Re-fit the tarpaulin (covered) output of trained detector weights, all else frozen.

``railwatch train --covered-head --init W.onnx --out NEW.onnx`` (and a step of ``railwatch
train --recipe default`` after the two training stages) draws a bank of training crops
with the usual machinery (:func:`railwatch.detect.train.build_bank`: simulator crops of the
training styles, and procedural yards when ``sim_fraction`` < 1), runs the *frozen*
network on each crop with ONNX Runtime, and keeps for every car the features around its
centre, the centre-heat map there and its true covered flag.

It then fits, in torch, only the covered logit (channel ``N_OUT - 1``) with the loss that
matches how the detector reads it: :func:`railwatch.detect.model_core.decode` averages the
logit over the 3x3 cells around a heat peak, weighted by the heat; the fit takes the peak
of the frozen heat next to the car's true centre, forms the same average and applies a
binary cross-entropy to it (the end-to-end training instead asks every body cell to be
right on its own, with all other losses competing for the same features).

Two layouts (``CoveredConfig.layout``):

- ``row``: the head's covered row, linear in the head's 32 input features (a 1x1
  convolution). The ONNX file keeps its graph; only that row changes.
- ``fine`` (the shipped one since v2.2): a small branch that also reads the first stem
  convolution's output (16 channels at stride 2, 1 m cells: local colour and texture,
  which the shared stride-4 features keep little of): a 3x3 stride-2 convolution of it
  to ``hidden`` channels, ReLU, joined to the head's 32 input features, 1x1 to
  ``hidden`` channels, ReLU, 1x1 to the covered logit (at ``hidden`` = 32: 6.8 k
  parameters, about 420 multiply-adds per working pixel, +11 % on the network's
  3.7 k). In the ONNX file the branch's nodes (named
  ``covered/...``) are inserted before the head, and the output is the head's first
  ``N_OUT - 1`` maps (a Slice) followed by the branch's logit (a Concat): same output
  name and layout, and every other map bit for bit the same.

No heat, box, axis, class or body output changes, so detections and counts stay
identical; only ``covered_score`` (and ``covered``) move.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from railwatch.detect.model_core import CLASSES, N_OUT, STRIDE, normalise
from railwatch.detect.train import (
    COVERED_BRANCH_PREFIX,
    TRAIN_STYLES,
    Bank,
    TrainConfig,
    augment_crop,
    build_bank,
    move_pair_into_place,
    read_init_card,
)
from railwatch.errors import InputError, lazy_import

#: Side (cells) of the feature patch kept around each car's centre cell: a 3x3 decode
#: window around a peak up to one cell away, with a margin.
PATCH = 7
#: Layouts of the fitted covered map (see the module docstring).
LAYOUTS = ("row", "fine")
#: Prefix of the covered branch's node and initializer names in the ONNX file.
BRANCH_PREFIX = COVERED_BRANCH_PREFIX


@dataclass(frozen=True)
class CoveredConfig:
    """Everything that defines a covered-head fit (recorded in the card)."""

    scenes: int = 6000
    seed: int = 71
    styles: tuple[str, ...] = TRAIN_STYLES
    sim_fraction: float = 1.0
    #: "row" (the head's covered row) or "fine" (a branch that also reads the stem).
    layout: str = "fine"
    #: Width of the fine branch's hidden 1x1 layer (and of its stride-2 convolution).
    hidden: int = 32
    epochs: int = 15
    lr: float = 0.005
    weight_decay: float = 1e-4
    batch: int = 512
    threads: int = 2
    #: Share of the bank's crops held out to report the fit (by crop, not by car).
    val_share: float = 0.1
    #: Share of the simulator's uncovered hoppers drawn roofed (``TrainConfig``'s).
    roofed_hoppers: float = 0.0

    def __post_init__(self) -> None:
        """Refuse settings that would fail only after the bank is drawn and the features
        computed (``--epochs 0``, a learning rate of 0 or NaN, ``--threads 0``: internal
        errors of torch after minutes)."""
        if self.layout not in LAYOUTS:
            raise InputError(f"unknown covered layout {self.layout!r}: choose one of {LAYOUTS}")
        counts = {
            "scenes (--scenes)": self.scenes,
            "epochs (--epochs)": self.epochs,
            "threads (--threads)": self.threads,
            "batch": self.batch,
            "hidden": self.hidden,
        }
        for name, n in counts.items():
            if n < 1:
                raise InputError(f"{name} must be at least 1, got {n}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError(
                f"learning rate (--lr) must be a positive number (e.g. 0.005), got {self.lr}"
            )
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise InputError(f"weight_decay must be a number >= 0, got {self.weight_decay}")
        if not 0.0 <= self.val_share < 1.0:
            raise InputError(
                f"val_share must be within 0..1 (1 excluded: no crop left to fit on), got "
                f"{self.val_share}"
            )
        shares = {
            "sim_fraction (--sim-fraction)": self.sim_fraction,
            "roofed_hoppers (--roofed-hoppers)": self.roofed_hoppers,
        }
        for name, value in shares.items():
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name} must be within 0..1, got {value}")


@dataclass
class CarSet:
    """Per-car inputs of the covered fit."""

    feats: np.ndarray  #: (n, C, PATCH, PATCH) float32 head input around the centre cell
    heat: np.ndarray  #: (n, PATCH, PATCH) float32 frozen centre-heat probability
    peak: np.ndarray  #: (n, 2) int: the peak (dy, dx) in {-1, 0, 1} next to the centre
    covered: np.ndarray  #: (n,) bool
    cls: np.ndarray  #: (n,) int class index (-1: none)
    crop: np.ndarray  #: (n,) int index of the crop in the bank
    #: (n, C2, 2 * PATCH + 1, 2 * PATCH + 1) a stride-2 tensor around the centre, or None
    fine: np.ndarray | None = None


def head_input_name(model: Any) -> str:
    """Name of the tensor the last convolution (the 1x1 head) reads."""
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    if not convs:
        raise InputError("the model has no convolution: not the default detector's network")
    return str(convs[-1].input[0])


def _feature_session(weights: Path, threads: int, tensors: Sequence[str] = ()) -> Any:
    """ONNX Runtime session of ``weights`` with ``tensors`` (default: the head's input)
    as further outputs."""
    onnx: Any = lazy_import("onnx", "train", "re-fitting the covered head")
    import onnxruntime as ort

    model = onnx.load(str(weights))
    for name in tensors or (head_input_name(model),):
        model.graph.output.append(
            onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
        )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def extract_cars(
    bank: Bank,
    weights: Path,
    seed: int,
    threads: int = 2,
    progress: Callable[[int, int], None] | None = None,
    tensors: Sequence[str] = (),
    fine: str | None = None,
) -> CarSet:
    """Run the frozen network on every crop of ``bank`` (flips, quarter turns and channel
    gains as in training, seeded) and keep, for every car whose centre cell is inside the
    output grid, the head's input features and the heat around its centre."""
    rng = np.random.default_rng(seed)
    if not tensors:
        onnx: Any = lazy_import("onnx", "train", "re-fitting the covered head")
        tensors = (head_input_name(onnx.load(str(weights))),)
    sess = _feature_session(weights, threads, (*tensors, *([fine] if fine else [])))
    feats, heats, peaks, cov, cls, crop, fines = [], [], [], [], [], [], []
    r = PATCH // 2
    for i in range(len(bank.images)):
        img, boxes = augment_crop(bank.images[i], bank.boxes[i], rng)
        x = normalise(img)[None]
        maps, *fs = sess.run(None, {sess.get_inputs()[0].name: x})
        f2 = (
            np.pad(fs.pop()[0], ((0, 0), (2 * r + 1, 2 * r + 1), (2 * r + 1, 2 * r + 1)))
            if fine
            else None
        )
        f = np.concatenate(fs, axis=1)
        if maps.shape[1] != N_OUT:
            raise InputError(f"{weights} gives {maps.shape[1]} maps, expected {N_OUT}")
        heat = 1.0 / (1.0 + np.exp(-maps[0, 0]))
        gh, gw = heat.shape
        fp = np.pad(f[0], ((0, 0), (r, r), (r, r)))
        hp = np.pad(heat, r)
        for b in boxes:
            gx, gy = int(np.floor(b.cx / STRIDE)), int(np.floor(b.cy / STRIDE))
            if not (0 <= gx < gw and 0 <= gy < gh) or b.covered is None:
                continue  # outside, or a car whose covered flag is unknown
            hh = hp[gy : gy + PATCH, gx : gx + PATCH]
            win = hh[r - 1 : r + 2, r - 1 : r + 2]
            dy, dx = np.unravel_index(int(np.argmax(win)), win.shape)
            feats.append(fp[:, gy : gy + PATCH, gx : gx + PATCH])
            if f2 is not None:  # stride-2 pixels 2(gy-r)-1 .. 2(gy+r)+1 (padded by 2r+1)
                fines.append(
                    f2[:, 2 * gy : 2 * gy + 2 * PATCH + 1, 2 * gx : 2 * gx + 2 * PATCH + 1]
                )
            heats.append(hh)
            peaks.append((int(dy) - 1, int(dx) - 1))
            cov.append(bool(b.covered))
            cls.append(int(b.cls))
            crop.append(i)
        if progress is not None:
            progress(i + 1, len(bank.images))
    if not feats:
        raise InputError("no cars in the bank: draw more scenes")
    return CarSet(
        np.stack(feats).astype(np.float32),
        np.stack(heats).astype(np.float32),
        np.asarray(peaks, dtype=np.int64),
        np.asarray(cov, dtype=bool),
        np.asarray(cls, dtype=np.int64),
        np.asarray(crop, dtype=np.int64),
        np.stack(fines).astype(np.float16) if fines else None,
    )


def head_covered_row(weights: Path) -> tuple[np.ndarray, float]:
    """The covered row of the head of ``weights``: (C,) weights and the bias."""
    onnx: Any = lazy_import("onnx", "train", "re-fitting the covered head")
    from onnx import numpy_helper

    model = onnx.load(str(weights))
    head = [n for n in model.graph.node if n.op_type == "Conv"][-1]
    inits = {i.name: i for i in model.graph.initializer}
    w = numpy_helper.to_array(inits[head.input[1]])
    b = numpy_helper.to_array(inits[head.input[2]])
    return np.array(w[N_OUT - 1, :, 0, 0], np.float32), float(b[N_OUT - 1])


def _window_logit(torch: Any, out: Any, heat: Any, peak: Any, margin: int) -> Any:
    """Heat-weighted mean of ``out`` (n, S, S) over the 3x3 window around each car's
    peak, as ``model_core.decode`` does; ``margin`` is the index of the centre cell."""
    n = out.shape[0]
    ar = torch.arange(n)
    num = torch.zeros(n)
    den = torch.zeros(n)
    for oy in (-1, 0, 1):
        for ox in (-1, 0, 1):
            yy = margin + peak[:, 0] + oy
            xx = margin + peak[:, 1] + ox
            hy = PATCH // 2 + peak[:, 0] + oy
            hx = PATCH // 2 + peak[:, 1] + ox
            w = heat[ar, hy, hx]
            num = num + w * out[ar, yy, xx]
            den = den + w
    return num / den.clamp(min=1e-6)


def build_row(channels: int, row: tuple[np.ndarray, float] | None) -> Any:
    """The ``row`` layout: a 1x1 convolution started from ``row`` (weights, bias)."""
    torch: Any = lazy_import("torch", "train", "re-fitting the covered head")
    conv = torch.nn.Conv2d(channels, 1, 1)
    if row is not None:
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(row[0]).reshape(1, channels, 1, 1))
            conv.bias.fill_(row[1])
    return conv


def build_fine_branch(channels: int, fine_channels: int, hidden: int) -> Any:
    """The ``fine`` layout: a 3x3 stride-2 convolution of the stride-2 tensor (``hidden``
    channels, ReLU; no padding here, the patches carry their margin), joined to the
    stride-4 features, 1x1 -> ``hidden``, ReLU, 1x1 -> 1."""
    torch: Any = lazy_import("torch", "train", "re-fitting the covered head")
    nn = torch.nn

    class FineBranch(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.Conv2d(fine_channels, hidden, 3, stride=2)
            self.mix = nn.Conv2d(channels + hidden, hidden, 1)
            self.out = nn.Conv2d(hidden, 1, 1)

        def forward(self, f4: Any, f2: Any) -> Any:
            d = torch.relu(self.down(f2))
            return self.out(torch.relu(self.mix(torch.cat([f4, d], 1))))

    return FineBranch()


def covered_logits(torch: Any, branch: Any, cars: CarSet, idx: np.ndarray) -> Any:
    """Decoded covered logit of cars ``idx`` under ``branch`` (either layout)."""
    f4 = torch.from_numpy(cars.feats[idx])
    if isinstance(branch, torch.nn.Conv2d):
        out = branch(f4)[:, 0]
    else:
        if cars.fine is None:
            raise InputError("the fine layout needs the stride-2 features of the cars")
        out = branch(f4, torch.from_numpy(cars.fine[idx].astype(np.float32)))[:, 0]
    return _window_logit(
        torch,
        out,
        torch.from_numpy(cars.heat[idx]),
        torch.from_numpy(cars.peak[idx]),
        PATCH // 2,
    )


def split(cars: CarSet, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation car indices, split by crop."""
    crops = np.unique(cars.crop)
    rng = np.random.default_rng(seed)
    val_crops = rng.choice(crops, size=round(share * len(crops)), replace=False)
    is_val = np.isin(cars.crop, val_crops)
    return np.nonzero(~is_val)[0], np.nonzero(is_val)[0]


def fit_covered(
    cars: CarSet,
    cfg: CoveredConfig,
    row: tuple[np.ndarray, float] | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Fit the covered map (``cfg.layout``) on ``cars``; returns the torch module and a
    report: loss and accuracy at 0.5 on the cars of the held-out crops, before (the
    old covered row ``row``, when given) and after."""
    torch: Any = lazy_import("torch", "train", "re-fitting the covered head")
    if cfg.layout not in LAYOUTS:
        raise InputError(f"unknown covered layout {cfg.layout!r}: choose one of {LAYOUTS}")
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    tr, va = split(cars, cfg.val_share, cfg.seed)
    if len(tr) == 0:
        raise InputError(
            f"no car to fit on in the {cfg.scenes} training crops (after "
            f"{100 * cfg.val_share:g} % of them were held out): give more --scenes"
        )
    channels = cars.feats.shape[1]
    if cfg.layout == "row":
        branch = build_row(channels, row)
    else:
        if cars.fine is None:
            raise InputError("the fine layout needs the stride-2 features of the cars")
        branch = build_fine_branch(channels, cars.fine.shape[1], cfg.hidden)
    opt = torch.optim.AdamW(branch.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    nb = max(1, len(tr) // cfg.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=nb * cfg.epochs)
    rng = np.random.default_rng(cfg.seed + 1)
    y_all = torch.from_numpy(cars.covered.astype(np.float32))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    t0 = time.time()

    def evaluate(idx: np.ndarray, module: Any) -> dict[str, float]:
        if len(idx) == 0:
            return {"val_loss": float("nan"), "val_acc": float("nan")}
        with torch.no_grad():
            z = covered_logits(torch, module, cars, idx)
            loss = float(bce(z, y_all[idx]))
            acc = float(((z >= 0).numpy() == cars.covered[idx]).mean())
        return {"val_loss": round(loss, 4), "val_acc": round(acc, 4)}

    report: dict[str, Any] = {"cars": len(cars.covered), "covered": int(cars.covered.sum())}
    report["train_cars"], report["val_cars"] = len(tr), len(va)
    if row is not None:
        report["before"] = evaluate(va, build_row(channels, row))
    for epoch in range(cfg.epochs):
        order = rng.permutation(tr)
        total = 0.0
        for s in range(nb):
            idx = order[s * cfg.batch : (s + 1) * cfg.batch]
            loss = bce(covered_logits(torch, branch, cars, idx), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) / nb
        if log is not None:
            v = evaluate(va, branch)
            held_out = (
                f" val_loss={v['val_loss']:.4f} val_acc={v['val_acc']:.4f}" if len(va) else ""
            )
            took = time.time() - t0
            log(f"epoch {epoch + 1}/{cfg.epochs} ({took:.0f}s) loss={total:.4f}{held_out}")
    branch.eval()
    report["after"] = evaluate(va, branch)
    report["seconds"] = round(time.time() - t0, 1)
    return branch, report


def _head(model: Any) -> tuple[int, Any]:
    """Index and node of the head (the last convolution) of an ONNX model."""
    convs = [(i, n) for i, n in enumerate(model.graph.node) if n.op_type == "Conv"]
    if not convs:
        raise InputError("the model has no convolution: not the default detector's network")
    return convs[-1]


def fine_input_name(model: Any) -> str:
    """The stride-2 tensor the fine branch reads: the input of the second convolution
    (the first stem convolution's activation)."""
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    if len(convs) < 3:
        raise InputError("the model is too small to be the default detector's network")
    return str(convs[1].input[0])


def has_branch(model: Any) -> bool:
    """True when the ONNX model already carries a covered branch."""
    return any(n.name.startswith(BRANCH_PREFIX) for n in model.graph.node)


def write_covered_row(src: Path, dst: Path, weight: np.ndarray, bias: float) -> Path:
    """Copy the ONNX weights ``src`` to ``dst`` with the head's covered row replaced by
    ``weight`` (C,) and ``bias``; nothing else in the file changes."""
    onnx: Any = lazy_import("onnx", "train", "re-fitting the covered head")
    from onnx import numpy_helper

    model = onnx.load(str(src))
    _, head = _head(model)
    for k, name in enumerate(head.input[1:3]):
        for j, init in enumerate(model.graph.initializer):
            if init.name != name:
                continue
            arr = np.array(numpy_helper.to_array(init))
            if k == 0:
                arr[N_OUT - 1, :, 0, 0] = weight.astype(arr.dtype)
            else:
                arr[N_OUT - 1] = np.asarray(bias, dtype=arr.dtype)
            model.graph.initializer[j].CopyFrom(numpy_helper.from_array(arr, name))
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
    return dst


def write_covered_branch(src: Path, dst: Path, branch: Any) -> Path:
    """Copy the ONNX weights ``src`` to ``dst`` with the fine ``branch`` (torch module of
    :func:`build_fine_branch`) computing the covered map; see the module docstring."""
    onnx: Any = lazy_import("onnx", "train", "re-fitting the covered head")
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    if has_branch(model):
        raise InputError(f"{src} already has a covered branch: re-fit from the weights before it")
    g = model.graph
    pos, head = _head(model)
    f4, f2 = str(head.input[0]), fine_input_name(model)
    out_name = str(head.output[0])
    p = BRANCH_PREFIX

    def init(name: str, arr: Any) -> str:
        g.initializer.append(numpy_helper.from_array(np.asarray(arr), p + name))
        return p + name

    w = {k: v.detach().numpy().astype(np.float32) for k, v in branch.state_dict().items()}
    nodes = [
        helper.make_node(
            "Conv",
            [f2, init("down.weight", w["down.weight"]), init("down.bias", w["down.bias"])],
            [p + "down"],
            name=p + "down/Conv",
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Relu", [p + "down"], [p + "down_relu"], name=p + "down/Relu"),
        helper.make_node("Concat", [f4, p + "down_relu"], [p + "join"], name=p + "join", axis=1),
        helper.make_node(
            "Conv",
            [p + "join", init("mix.weight", w["mix.weight"]), init("mix.bias", w["mix.bias"])],
            [p + "mix"],
            name=p + "mix/Conv",
        ),
        helper.make_node("Relu", [p + "mix"], [p + "mix_relu"], name=p + "mix/Relu"),
        helper.make_node(
            "Conv",
            [p + "mix_relu", init("out.weight", w["out.weight"]), init("out.bias", w["out.bias"])],
            [p + "logit"],
            name=p + "out/Conv",
        ),
    ]
    for k, node in enumerate(nodes):  # before the head: it stays the last convolution
        g.node.insert(pos + k, node)
    head.output[0] = p + "head_maps"
    starts = init("slice.starts", np.array([0], np.int64))
    ends = init("slice.ends", np.array([N_OUT - 1], np.int64))
    axes = init("slice.axes", np.array([1], np.int64))
    g.node.append(
        helper.make_node(
            "Slice", [p + "head_maps", starts, ends, axes], [p + "other_maps"], name=p + "Slice"
        )
    )
    g.node.append(
        helper.make_node(
            "Concat", [p + "other_maps", p + "logit"], [out_name], name=p + "maps", axis=1
        )
    )
    onnx.checker.check_model(model)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
    return dst


def check_out_not_init(init: Path, out: Path) -> None:
    """An :class:`InputError` when ``out`` is the ``init`` file: the re-fit reads it as
    its frozen network while it runs."""
    if init.resolve() == out.resolve():
        raise InputError(
            f"--out {out} is the --init file, which the covered-head re-fit reads as its "
            "frozen network: give another --out, e.g. "
            f"{init.with_name(init.stem + '.covered.onnx')}"
        )


def refit_covered_head(
    init: str | Path,
    out: str | Path,
    cfg: CoveredConfig | None = None,
    log: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The whole step: bank, frozen features, fit of the covered map, new ONNX file at
    ``out`` (the card next to ``init`` is copied without its ``int8`` entry, with a
    ``covered_head`` entry). Returns the entry."""
    onnx: Any = lazy_import("onnx", "train", "re-fitting the covered head")
    cfg = cfg or CoveredConfig()
    if cfg.layout not in LAYOUTS:
        raise InputError(f"unknown covered layout {cfg.layout!r}: choose one of {LAYOUTS}")
    src, dst = Path(init), Path(out)
    if not src.is_file():
        raise InputError(f"{src} does not exist: give the fp32 ONNX weights to re-fit")
    check_out_not_init(src, dst)
    # copied whole into the new card: refused before the bank when it is not JSON (it
    # failed the re-fit at its end) or was written for other weights
    card = read_init_card(src)
    model = onnx.load(str(src))
    replaced = has_branch(model)
    if not replaced:
        return _refit(model, src, src, dst, cfg, log, progress, replaced=False, card=card)
    # re-fit the branch of these weights: from the network before it (a temporary file,
    # which the frozen network's ONNX Runtime session reads)
    frozen = dst.with_name(dst.name + ".frozen.tmp.onnx")
    bare = without_branch(model)
    try:
        onnx.save(bare, str(frozen))
        return _refit(bare, frozen, src, dst, cfg, log, progress, replaced=True, card=card)
    finally:
        frozen.unlink(missing_ok=True)


def without_branch(model: Any) -> Any:
    """A copy of ``model`` without its covered branch (:func:`write_covered_branch`): the
    head's output is the maps again, its own covered row included, so the network is
    the one the branch was fitted on, bit for bit."""
    onnx: Any = lazy_import("onnx", "train", "re-fitting the covered head")
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    p = BRANCH_PREFIX
    concat = [n for n in g.node if n.name == p + "maps"]
    if len(concat) != 1:
        raise InputError("the covered branch of these weights is not one railwatch wrote")
    maps = str(concat[0].output[0])
    keep = [n for n in g.node if not n.name.startswith(p)]
    for n in keep:
        for k, name in enumerate(n.output):
            if name == p + "head_maps":
                n.output[k] = maps
    del g.node[:]
    g.node.extend(keep)
    inits = [i for i in g.initializer if not i.name.startswith(p)]
    del g.initializer[:]
    g.initializer.extend(inits)
    onnx.checker.check_model(out)
    return out


def _refit(
    model: Any,
    src: Path,
    named: Path,
    dst: Path,
    cfg: CoveredConfig,
    log: Callable[[str], None] | None,
    progress: Callable[[int, int], None] | None,
    replaced: bool,
    card: dict[str, Any],
) -> dict[str, Any]:
    """:func:`refit_covered_head` on the branch-free network ``src`` (``named``: the
    file the user gave, whose ``card`` is copied)."""
    t0 = time.time()
    tcfg = TrainConfig(
        scenes=cfg.scenes,
        seed=cfg.seed,
        styles=cfg.styles,
        sim_fraction=cfg.sim_fraction,
        roofed_hoppers=cfg.roofed_hoppers,
    )
    bank = build_bank(tcfg, progress)
    t_bank = time.time() - t0
    fine = fine_input_name(model) if cfg.layout == "fine" else None
    cars = extract_cars(bank, src, cfg.seed + 2, cfg.threads, fine=fine)
    t_feat = time.time() - t0 - t_bank
    row = head_covered_row(src)
    branch, report = fit_covered(cars, cfg, row, log)
    by_cls = {
        c: [int((cars.cls == k).sum()), int((cars.covered & (cars.cls == k)).sum())]
        for k, c in enumerate(CLASSES)
    }
    entry: dict[str, Any] = {
        "config": asdict(cfg),
        "source": named.name,
        "replaced_branch": replaced,
        "bank": {
            "crops": len(bank.images),
            "sources": {s: bank.sources.count(s) for s in sorted(set(bank.sources))},
            "cars": report["cars"],
            "covered": report["covered"],
            "cars_and_covered_by_class": by_cls,
        },
        "fit": {k: v for k, v in report.items() if k not in ("cars", "covered")},
        "seconds": {
            "bank": round(t_bank, 1),
            "features": round(t_feat, 1),
            "fit": report["seconds"],
        },
        "parameters": int(sum(p.numel() for p in branch.parameters())),
        "method": "covered logit re-fitted on the frozen network with the decode's "
        "heat-weighted 3x3 average and a binary cross-entropy ("
        + (
            "the head's covered row"
            if cfg.layout == "row"
            else "branch: 3x3 stride-2 conv of the first stem activation, joined to the "
            "head's input, 1x1, ReLU, 1x1; nodes covered/*"
        )
        + "); all other weights and outputs unchanged",
    }
    card = dict(card)
    card.pop("int8", None)  # the INT8 file was made from the old weights
    card["covered_head"] = entry
    # written beside the target and moved over it whole with its card, which gets the
    # digest of these weights in place of the copied card's (move_pair_into_place): a
    # Ctrl-C or a full disk while writing left a truncated file, or new weights under
    # the card of the earlier ones, where an earlier re-fit's were
    tmp = dst.with_name(dst.name + ".tmp")
    try:
        if cfg.layout == "row":
            w = branch.weight.detach().numpy()[0, :, 0, 0]
            write_covered_row(src, tmp, w, float(branch.bias.detach().numpy()[0]))
        else:
            write_covered_branch(src, tmp, branch)
        move_pair_into_place(tmp, dst, card)
    finally:
        tmp.unlink(missing_ok=True)
    return entry
