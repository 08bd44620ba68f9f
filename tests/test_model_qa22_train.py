"""QA of `railwatch train`, `calibrate` and `quantize` on files they cannot take
(session 22): INT8 copies, YOLO-OBB models, cards without a layout, --out the same as
--init, --out NAME.json, and an export cut short."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from railwatch.cli.calibrate import calibrate
from railwatch.cli.train import check_out, train
from railwatch.detect.default import default_weights
from railwatch.errors import InputError

torch = pytest.importorskip("torch")


def _yolo(path: Path) -> Path:
    """A tiny model in the YOLO-OBB layout: input (1, 3, 64, 64), output (1, 6, 50)."""
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
        helper.make_node(
            "Constant",
            [],
            ["c"],
            value=numpy_helper.from_array(np.zeros((1, 6, 50), np.float32), "c0"),
        ),
        helper.make_node("Add", ["c", "m"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "obb",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 6, 50])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def _shipped_copy(folder: Path) -> Path:
    """The shipped fp32 and INT8 weights with their card, copied to ``folder``."""
    src = default_weights()
    folder.mkdir(parents=True, exist_ok=True)
    for name in (src.name, src.stem + ".int8.onnx", src.stem + ".json"):
        shutil.copy(src.with_name(name), folder / name)
    return folder / src.name


def _small(**kw: Any) -> dict[str, Any]:
    """Options of the smallest training run (procedural crops only, no calibration)."""
    return {
        "scenes": 2,
        "epochs": 1,
        "threads": 1,
        "sim_fraction": 0.0,
        "calibration_scenes": 0,
        "seed": 7,
        "styles": "temperate",
        "empty_fraction": 0.25,
        "blur_max": 1.0,
        "trackside": 0.0,
        "trackside_empty": 0.0,
        "gsd_range": "0.3,1",
        "arch": None,
        "init": None,
        "labels": None,
        "labels_share": 0.5,
        "lr": 3e-3,
        "recipe": None,
        "covered_head": False,
        **kw,
    }


def _no_bank(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("training crops drawn before the --init file was checked")


def test_init_of_a_yolo_model_or_int8_weights_is_refused_before_drawing_crops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A YOLO-OBB model or INT8 weights as --init were refused only after the whole bank
    was drawn ('does not have this network's layout; train from scratch')."""
    monkeypatch.setattr("railwatch.detect.train.build_bank", _no_bank)
    weights = _shipped_copy(tmp_path / "w")
    renamed = tmp_path / "renamed.onnx"  # INT8 under a plain name
    shutil.copy(weights.with_name(weights.stem + ".int8.onnx"), renamed)
    out = tmp_path / "out.onnx"
    with pytest.raises(InputError, match=r"not weights of railwatch's default detector.*onnx:"):
        train(out=out, **_small(init=_yolo(tmp_path / "yolo.onnx")))
    for int8 in (weights.with_name(weights.stem + ".int8.onnx"), renamed):
        with pytest.raises(InputError, match=r"holds INT8 \(quantised\) weights"):
            train(out=out, **_small(init=int8))
    assert not out.exists()


def test_init_weights_without_a_card_keep_their_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Weights without a card recording their layout (no card, or one made by
    `calibrate`) were taken for s4 and refused after drawing the bank."""
    from railwatch.detect.train import TrainConfig, build_net, export_onnx, init_layout

    s8 = export_onnx(build_net(arch="s8").eval(), tmp_path / "s8.onnx", TrainConfig(scenes=1))
    s4 = export_onnx(
        build_net(arch="s4").eval(), tmp_path / "s4.onnx", TrainConfig(scenes=1, arch="s4")
    )
    s8.with_suffix(".json").unlink()
    s4.with_suffix(".json").write_text(json.dumps({"threshold": 0.5}))  # no config
    assert init_layout(onnx.load(str(s8)), s8) == "s8"
    assert init_layout(onnx.load(str(s4)), s4) == "s4"
    monkeypatch.setattr("railwatch.detect.train.build_bank", _no_bank)
    with pytest.raises(InputError, match=r"--arch s4, but --init .* has the s8 layout"):
        train(out=tmp_path / "o.onnx", **_small(init=s8, arch="s4"))


def test_out_the_same_as_init_keeps_the_parent_threshold(tmp_path: Path) -> None:
    """With --out the --init file, the threshold was read from the card after the export
    had rewritten it: the parent's threshold was silently lost."""
    from railwatch.detect.train import TrainConfig, build_net, export_onnx

    w = export_onnx(build_net(arch="s8").eval(), tmp_path / "w.onnx", TrainConfig(scenes=1))
    card = json.loads(w.with_suffix(".json").read_text())
    w.with_suffix(".json").write_text(json.dumps({**card, "threshold": 0.37}))
    before = w.read_bytes()
    train(out=w, **_small(init=w))
    after = json.loads(w.with_suffix(".json").read_text())
    assert w.read_bytes() != before  # new weights
    assert after["threshold"] == 0.37 and after["threshold_from"] == str(w)
    assert after["config"]["init"] == str(w)


def test_an_export_cut_short_keeps_the_previous_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ONNX file was exported straight to --out: a Ctrl-C (or a full disk) during the
    export left a truncated file where the previous run's weights were."""
    from railwatch.detect.train import TrainConfig, build_net, export_onnx

    w = export_onnx(build_net(arch="s8").eval(), tmp_path / "w.onnx", TrainConfig(scenes=1))
    weights, card = w.read_bytes(), w.with_suffix(".json").read_text()

    def cut(net: Any, x: Any, f: str, **kwargs: Any) -> None:
        Path(f).write_bytes(b"\x08\x07partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.onnx, "export", cut)
    with pytest.raises(KeyboardInterrupt):
        export_onnx(build_net(arch="s8").eval(), w, TrainConfig(scenes=1, seed=8))
    assert w.read_bytes() == weights
    assert w.with_suffix(".json").read_text() == card
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json", "w.onnx"]


@pytest.mark.parametrize("name", ["w.json", "w.int8.onnx", "W.INT8.ONNX"])
def test_out_that_is_a_card_or_int8_name_is_refused(tmp_path: Path, name: str) -> None:
    """--out w.json wrote the weights, then the card over them (both are NAME.json)."""
    with pytest.raises(InputError, match=r"give the path of the fp32 ONNX file, e\.g\."):
        check_out(tmp_path / name)


def test_negative_calibration_scenes_are_refused(tmp_path: Path) -> None:
    """--calibration-scenes -1 skipped the calibration silently, as 0 does."""
    with pytest.raises(InputError, match="--calibration-scenes -1: give 0 to skip"):
        train(out=tmp_path / "o.onnx", **_small(calibration_scenes=-1))


def test_calibrate_refuses_int8_copies_and_other_models(tmp_path: Path) -> None:
    """calibrate NAME.int8.onnx wrote its calibration to NAME.int8.json, which nothing
    reads (the card is NAME.json); a YOLO-OBB model was an internal error (ONNX Runtime's
    INVALID_ARGUMENT)."""
    weights = _shipped_copy(tmp_path / "w")
    int8 = weights.with_name(weights.stem + ".int8.onnx")
    with pytest.raises(InputError, match=rf"INT8 copy of {weights.name}: calibrate the fp32"):
        calibrate(int8, scenes=1)
    assert not int8.with_suffix(".json").exists()
    assert not weights.with_name(weights.stem + ".int8.json").exists()
    yolo = _yolo(tmp_path / "yolo.onnx")
    with pytest.raises(InputError, match="not railwatch's default detector network"):
        calibrate(yolo, scenes=1)
    assert not yolo.with_suffix(".json").exists()


def test_quantize_refuses_renamed_int8_and_other_models(tmp_path: Path) -> None:
    """INT8 weights under a plain name went through the renders into the quantiser; a
    YOLO-OBB model with convolutions failed inside it."""
    from railwatch.detect.quantize import QuantizeConfig, quantize_weights

    weights = _shipped_copy(tmp_path / "w")
    renamed = tmp_path / "renamed.onnx"
    shutil.copy(weights.with_name(weights.stem + ".int8.onnx"), renamed)
    with pytest.raises(InputError, match="already quantised"):
        quantize_weights(renamed, QuantizeConfig(tiles=1))
    with pytest.raises(InputError, match="not railwatch's default detector network"):
        quantize_weights(_yolo(tmp_path / "yolo.onnx"), QuantizeConfig(tiles=1))
    assert not (tmp_path / "renamed.int8.onnx").exists()
