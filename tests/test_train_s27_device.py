"""`railwatch train --device/--amp/--workers/--channels` (session 27): training on a GPU
when there is one, the bank drawn and the batches prepared in several processes with
the same result for any number of them, and the CPU path unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.detect import train as train_mod
from railwatch.detect.train import (
    CROP,
    TrainConfig,
    build_bank,
    draw_plan,
    resolve_device,
)
from railwatch.errors import InputError

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")


def _small(**kw: Any) -> dict[str, Any]:
    """Options of a tiny training run (procedural crops only, no calibration)."""
    return {
        "scenes": 4,
        "epochs": 1,
        "threads": 1,
        "sim_fraction": 0.0,
        "calibration_scenes": 0,
        "seed": 7,
        **kw,
    }


def _no_bank(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("training crops drawn before the options were checked")


def _same_banks(a: train_mod.Bank, b: train_mod.Bank) -> None:
    assert a.sources == b.sources
    assert len(a.images) == len(b.images)
    for x, y in zip(a.images, b.images, strict=True):
        assert x.shape == y.shape and x.tobytes() == y.tobytes()
    assert a.boxes == b.boxes


def test_workers_1_and_2_draw_byte_identical_banks() -> None:
    """The per-draw seeding gives the same bank (simulator and procedural crops, pixel
    for pixel, cars and sources) in one process and in two."""
    cfg = TrainConfig(scenes=20, seed=3, sim_fraction=0.5, bank_seeding="per-draw", workers=1)
    one = build_bank(cfg)
    two = build_bank(TrainConfig(**{**cfg.__dict__, "workers": 2}))
    assert len(one.images) == 20
    assert {"synth"} < set(one.sources)  # simulator crops too
    _same_banks(one, two)
    # a reproducible scheme, not the sequential generator's bank
    seq = build_bank(TrainConfig(scenes=20, seed=3, sim_fraction=0.5))
    assert any(x.tobytes() != y.tobytes() for x, y in zip(seq.images, one.images, strict=True))


def test_per_draw_plan_takes_the_sequential_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan fixed before drawing gives each source the share the sequential loop
    gives it (8 crops per simulator scene, 1 per procedural yard, cut at --scenes)."""

    def fake_sim(rng: np.random.Generator, *a: Any, n_crops: int = 8, **k: Any) -> Any:
        return [(np.zeros((CROP, CROP, 3), np.uint8), []) for _ in range(n_crops)]

    def fake_synth(rng: np.random.Generator, *a: Any, **k: Any) -> Any:
        return np.zeros((CROP, CROP, 3), np.uint8), []

    monkeypatch.setattr(train_mod, "sim_samples", fake_sim)
    monkeypatch.setattr(train_mod, "synth_sample", fake_synth)
    for scenes, share in ((37, 0.5), (100, 0.25), (9, 1.0), (5, 0.0)):
        seq = build_bank(TrainConfig(scenes=scenes, sim_fraction=share, empty_fraction=0.0))
        per = build_bank(
            TrainConfig(
                scenes=scenes, sim_fraction=share, empty_fraction=0.0, bank_seeding="per-draw"
            )
        )
        assert per.sources == seq.sources, (scenes, share)
    plan = draw_plan(TrainConfig(scenes=37, sim_fraction=0.5), True, False)
    assert plan.count("sim") == 3 and plan.count("synth") == 16  # the last scene cut to 5


def test_batches_in_worker_processes_are_the_ones_drawn_here(tmp_path: Path) -> None:
    """The batch workers get every random draw from this process: their batches equal
    the sequential loop's (``_batch`` with the same generator), array for array."""
    bank = build_bank(TrainConfig(scenes=6, seed=2, sim_fraction=0.0))
    ref_rng = np.random.default_rng(11)
    expected = []
    for _ in range(2):  # the old loop: a permutation per epoch, then each batch
        order = ref_rng.permutation(6)
        for s in range(2):
            expected.append(train_mod._batch(bank, order[s * 3 : (s + 1) * 3], ref_rng))
    for workers in (1, 2):
        plan = train_mod._batch_plan(np.random.default_rng(11), 6, 3, 2, 2)
        got = list(train_mod._batches(bank, plan, workers, tmp_path))
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert g.keys() == e.keys()
            for k in e:
                assert g[k].tobytes() == e[k].tobytes(), (workers, k)


def test_workers_train_the_same_weights_and_record_the_seeding(tmp_path: Path) -> None:
    """--workers 1 and --workers 2 write byte-identical weights; the card says how the
    bank was seeded; without --workers the sequential seeding is recorded."""
    from railwatch.cli.train import train

    paths = []
    for n in (1, 2):
        out = tmp_path / f"w{n}.onnx"
        train(out=out, **_small(scenes=6, workers=n))
        paths.append(out)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    card = json.loads(paths[1].with_suffix(".json").read_text())
    assert card["config"]["bank_seeding"] == "per-draw"
    assert card["config"]["workers"] == 2
    assert card["config"]["device"] == "cpu"
    plain = tmp_path / "plain.onnx"
    train(out=plain, **_small(scenes=6))
    card = json.loads(plain.with_suffix(".json").read_text())
    assert card["config"]["bank_seeding"] == "sequential" and card["config"]["workers"] == 1
    assert "trained_on" not in card


def test_device_auto_without_a_gpu_is_the_cpu(tmp_path: Path) -> None:
    """--device auto on a machine without a GPU trains on the CPU, the same bytes as
    --device cpu."""
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: auto is cuda")
    from railwatch.cli.train import train

    a, c = tmp_path / "auto.onnx", tmp_path / "cpu.onnx"
    train(out=a, **_small(device="auto"))
    train(out=c, **_small(device="cpu"))
    assert a.read_bytes() == c.read_bytes()
    assert json.loads(a.with_suffix(".json").read_text())["config"]["device"] == "cpu"


def test_cuda_without_a_gpu_and_amp_on_the_cpu_are_refused_before_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.cli.train import train

    monkeypatch.setattr("railwatch.detect.train.build_bank", _no_bank)
    out = tmp_path / "w.onnx"
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match=r"--device cuda: torch .* or use --device cpu"):
            train(out=out, **_small(device="cuda"))
        with pytest.raises(InputError, match=r"--amp .*--device auto found no GPU"):
            train(out=out, **_small(device="auto", amp=True))
    with pytest.raises(InputError, match=r"--amp \(bf16 autocast\) is for training on a CUDA"):
        train(out=out, **_small(amp=True))
    with pytest.raises(InputError, match=r"unknown --device 'gpu'"):
        train(out=out, **_small(device="gpu"))
    with pytest.raises(InputError, match=r"--workers 0"):
        train(out=out, **_small(workers=0))
    with pytest.raises(InputError, match=r"--covered-head runs on the CPU"):
        train(out=out, **_small(covered_head=True, init=_tiny_weights(tmp_path), workers=2))
    assert not out.exists()
    with pytest.raises(InputError, match="amp"):
        TrainConfig(amp=True)
    with pytest.raises(InputError, match="per-draw seeding"):
        TrainConfig(workers=2)


def _tiny_weights(folder: Path, channels: int = 32) -> Path:
    from railwatch.detect.train import build_net, export_onnx

    return export_onnx(
        build_net(channels).eval(), folder / f"init{channels}.onnx", TrainConfig(scenes=1)
    )


def test_channels_for_a_wider_network_and_from_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--channels sets the width; with --init it is the weights' width, and another one
    is refused before any crop is drawn (it failed after drawing the bank)."""
    import onnx

    from railwatch.cli.train import train
    from railwatch.detect.train import init_channels

    wide = tmp_path / "wide.onnx"
    train(out=wide, **_small(channels=40))
    assert json.loads(wide.with_suffix(".json").read_text())["config"]["channels"] == 40
    assert init_channels(onnx.load(str(wide))) == 40
    cont = tmp_path / "cont.onnx"
    train(out=cont, **_small(init=wide))  # continues at the --init weights' width
    assert json.loads(cont.with_suffix(".json").read_text())["config"]["channels"] == 40
    monkeypatch.setattr("railwatch.detect.train.build_bank", _no_bank)
    with pytest.raises(InputError, match=r"--channels 32, but --init .* is 40 channels wide"):
        train(out=tmp_path / "o.onnx", **_small(init=wide, channels=32))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_training_differs_from_the_cpu_by_rounding_only(tmp_path: Path) -> None:
    """On a GPU: the same bank and draws, weights within rounding of the CPU run's,
    exported from a CPU copy, the GPU named in the card."""
    import onnxruntime as ort

    from railwatch.cli.train import train

    outs = {}
    for dev in ("cpu", "cuda"):
        outs[dev] = tmp_path / f"{dev}.onnx"
        train(out=outs[dev], **_small(device=dev, scenes=8))
    card = json.loads(outs["cuda"].with_suffix(".json").read_text())
    assert card["config"]["device"] == "cuda" and card["trained_on"]["gpu"]
    x = np.random.default_rng(0).normal(size=(1, 3, 64, 64)).astype(np.float32)
    maps = [
        ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
        for p in outs.values()
    ]
    assert np.allclose(maps[0], maps[1], atol=1e-2)
    amp = tmp_path / "amp.onnx"
    train(out=amp, **_small(device="cuda", amp=True, scenes=8))
    assert json.loads(amp.with_suffix(".json").read_text())["config"]["amp"] is True


def test_resolve_device() -> None:
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InputError, match="choose one of cpu, cuda, auto"):
        resolve_device("tpu")
