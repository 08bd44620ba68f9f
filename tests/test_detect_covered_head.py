"""Re-fit of the covered (tarpaulin) output on the frozen detector (detect.covered_head)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from railwatch.detect.model_core import N_OUT, decode
from railwatch.errors import InputError


def test_fit_reads_the_covered_logit_as_decode_does() -> None:
    """The fit's car logit (heat-weighted 3x3 mean around the peak next to the centre)
    is the logit of the covered_score that `decode` gives that peak."""
    torch = pytest.importorskip("torch")
    from railwatch.detect.covered_head import PATCH, CarSet, build_row, covered_logits

    rng = np.random.default_rng(3)
    gh = gw = 12
    out = np.full((N_OUT, gh, gw), -6.0, np.float32)
    out[0, 5, 6] = 2.0  # the peak, one cell right of the centre cell (5, 5)
    out[0, 4:7, 5:8] += rng.uniform(-1, 0.5, (3, 3)).astype(np.float32)
    out[0, 5, 6] = 3.0
    out[3:5] = 0.0
    out[-1] = rng.normal(0, 2, (gh, gw)).astype(np.float32)
    (det,) = decode(out, 0.5)
    r = PATCH // 2
    cy, cx = 5, 5
    feats = np.zeros((1, 1, PATCH, PATCH), np.float32)
    feats[0, 0] = out[-1, cy - r : cy + r + 1, cx - r : cx + r + 1]
    heat = 1 / (1 + np.exp(-out[0, cy - r : cy + r + 1, cx - r : cx + r + 1]))
    cars = CarSet(
        feats,
        heat[None].astype(np.float32),
        np.array([[0, 1]]),
        np.array([True]),
        np.array([1]),
        np.array([0]),
    )
    branch = build_row(1, (np.ones(1, np.float32), 0.0))
    with torch.no_grad():
        z = float(covered_logits(torch, branch, cars, np.array([0]))[0])
    assert 1 / (1 + np.exp(-z)) == pytest.approx(det.covered_score, abs=1e-5)


def _tile() -> np.ndarray:
    from railwatch.detect.model_synth import draw_yard

    img, _ = draw_yard(np.random.default_rng(5), 128.0, 0.5)
    return img


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["fine", "row"])
def test_refit_changes_only_the_covered_output(tmp_path: Path, layout: str) -> None:
    """A tiny re-fit of a network without a covered branch: every map but the covered
    one is bit for bit the same on a tile, the covered one moves, the card records the
    step, and INT8 quantisation keeps the head and the output assembly in fp32."""
    pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    from railwatch.detect.covered_head import CoveredConfig, has_branch, refit_covered_head
    from railwatch.detect.default import DefaultDetector
    from railwatch.detect.quantize import _excluded_nodes
    from railwatch.detect.train import TrainConfig, build_net, export_onnx

    src = tmp_path / "src.onnx"
    export_onnx(build_net(arch="s8").eval(), src, TrainConfig(scenes=1))
    out = tmp_path / "w.onnx"
    cfg = CoveredConfig(
        scenes=6, epochs=2, sim_fraction=0.0, threads=1, val_share=0.2, hidden=4, layout=layout
    )
    entry = refit_covered_head(src, out, cfg)
    img = _tile()
    old, _ = DefaultDetector(src, precision="fp32").predict_maps(img, 0.5)
    new, _ = DefaultDetector(out, precision="fp32").predict_maps(img, 0.5)
    assert old.shape == new.shape
    assert np.array_equal(old[:-1], new[:-1])
    assert np.abs(old[-1] - new[-1]).max() > 1e-4
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["covered_head"]["config"]["layout"] == layout
    assert card["config"]["scenes"] == 1  # the source's card is carried over
    assert entry["bank"]["crops"] == 6 and entry["fit"]["train_cars"] > 0
    model = onnx.load(str(out))
    convs = [n.name for n in model.graph.node if n.op_type == "Conv"]
    kept = _excluded_nodes(model, ("head",))
    if layout == "fine":
        assert has_branch(model)
        assert kept == [convs[-1], "covered/Slice", "covered/maps"]
        # re-fitting weights that have a branch replaces it: from the network before it
        again = tmp_path / "again.onnx"
        entry2 = refit_covered_head(out, again, replace(cfg, seed=72))
        assert entry2["replaced_branch"] is True and entry2["source"] == "w.onnx"
        twice, _ = DefaultDetector(again, precision="fp32").predict_maps(img, 0.5)
        assert np.array_equal(old[:-1], twice[:-1])
        assert sum(n.name == "covered/maps" for n in onnx.load(str(again)).graph.node) == 1
        assert not list(tmp_path.glob("*.tmp.onnx"))  # the frozen copy is removed
        write_covered_branch = __import__(
            "railwatch.detect.covered_head", fromlist=["write_covered_branch"]
        ).write_covered_branch
        with pytest.raises(InputError, match="already has a covered branch"):
            write_covered_branch(out, tmp_path / "x.onnx", None)
    else:
        assert not has_branch(model) and kept == [convs[-1]]


def test_covered_head_needs_init(capsys: pytest.CaptureFixture[str]) -> None:
    from railwatch.cli.main import main

    assert main(["train", "--covered-head", "--scenes", "1"]) == 2
    assert "--covered-head re-fits given weights" in capsys.readouterr().err


def test_without_branch_gives_back_the_network_it_was_fitted_on() -> None:
    """The shipped weights without their branch: the same 15 maps bit for bit, and the
    head's own covered row as the 16th (what a re-fit starts from)."""
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort

    from railwatch.detect.covered_head import has_branch, head_covered_row, without_branch
    from railwatch.detect.default import default_weights

    model = onnx.load(str(default_weights()))
    bare = without_branch(model)
    assert has_branch(model) and not has_branch(bare)
    assert not any(i.name.startswith("covered/") for i in bare.graph.initializer)
    x = np.random.default_rng(0).random((1, 3, 64, 64)).astype(np.float32)
    a = ort.InferenceSession(model.SerializeToString()).run(None, {"image": x})[0]
    b = ort.InferenceSession(bare.SerializeToString()).run(None, {"image": x})[0]
    assert np.array_equal(a[:, : N_OUT - 1], b[:, : N_OUT - 1])
    assert not np.allclose(a[:, N_OUT - 1], b[:, N_OUT - 1])
    assert head_covered_row(default_weights())[0].shape == (32,)
