"""`railwatch train --recipe default` records every step in the final card: both training
stages (configuration and bank), the covered-head re-fit, the calibration, the INT8
quantisation, and the recipe itself with the wall time of each step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_recipe_card_records_every_stage_and_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from typer.testing import CliRunner

    from railwatch.cli.main import build_app
    from railwatch.detect import train as train_mod

    tiny = {
        "stages": (
            {"arch": "s8", "scenes": 3, "epochs": 1, "seed": 11, "lr": 1e-3, "sim_fraction": 0.0},
            {"arch": "s8", "scenes": 4, "epochs": 1, "seed": 12, "lr": 1e-3, "sim_fraction": 0.0},
        ),
        "covered_head": {
            "scenes": 4,
            "epochs": 1,
            "seed": 13,
            "lr": 0.005,
            "styles": "temperate",
            "sim_fraction": 0.0,
        },
        "calibrate": {
            "threshold": 0.5,
            "one_side": 0.42,
            "two_sides": 0.33,
            "scenes": 1,
            "refine": True,
            "string_pairs": True,
        },
        "quantize": {"tiles": 2, "seed": 6_000_000, "exclude": "head"},
    }
    monkeypatch.setattr(train_mod, "DEFAULT_RECIPE", tiny)
    out = tmp_path / "w.onnx"
    r = CliRunner().invoke(
        build_app(), ["train", "--recipe", "default", "--out", str(out), "--threads", "1"]
    )
    assert r.exit_code == 0, r.output
    card = json.loads(out.with_suffix(".json").read_text())

    # both stages, in order, each with its own seed, size and bank (the top-level
    # config is the last stage's only)
    stages = card["stages"]
    assert [s["file"] for s in stages] == ["w.stage1.onnx", "w.stage2.onnx"]
    assert [s["config"]["seed"] for s in stages] == [11, 12]
    assert [s["config"]["scenes"] for s in stages] == [3, 4]
    assert stages[0]["config"]["init"] is None
    assert stages[1]["config"]["init"] == str(out.with_suffix(".stage1.onnx"))
    assert [s["bank"]["crops"] for s in stages] == [3, 4]
    assert card["config"] == stages[1]["config"]

    # the later steps keep their own entries
    assert card["covered_head"]["config"]["seed"] == 13
    assert card["calibration"]["scenes"] == 4  # 1 scene at each of 4 resolutions
    assert card["threshold"] == 0.5
    assert card["string_thresholds"]["pairs"] is True and card["refine"]["file"]
    assert card["int8"]["config"]["tiles"] == 2
    assert (tmp_path / "w.int8.onnx").is_file()

    # the recipe as run, with a time for every step
    recipe = card["recipe"]
    assert recipe["name"] == "default"
    assert recipe["steps"]["stages"][1]["seed"] == 12
    assert recipe["steps"]["quantize"]["tiles"] == 2
    assert "--threads 1" in recipe["command"]
    steps = ("stage1", "stage2", "covered_head", "calibrate", "quantize")
    assert set(recipe["seconds"]) == {*steps, "total"}
    assert all(recipe["seconds"][k] >= 0 for k in steps)
    assert recipe["seconds"]["total"] >= max(recipe["seconds"][k] for k in steps)
    assert "torch" in recipe["versions"] and "onnxruntime" in recipe["versions"]


def test_the_recipe_decodes_like_the_shipped_card() -> None:
    """`train --recipe default` calibrates with every decoding setting of the shipped card
    (until session 27 it left out v2.5's refiner and v2.7's string pairs, so a reproduced
    network was decoded unlike the shipped one and scored lower for that alone)."""
    from railwatch.detect.default import default_weights
    from railwatch.detect.train import DEFAULT_RECIPE

    shipped = json.loads(default_weights().with_suffix(".json").read_text())
    cal = DEFAULT_RECIPE["calibrate"]
    assert cal["threshold"] == shipped["threshold"]
    fine, coarse = shipped["string_thresholds"], shipped["string_thresholds_coarse"]
    assert (cal["one_side"], cal["two_sides"]) == (fine["one_side"], fine["two_sides"])
    assert cal.get("string_pairs", False) == fine.get("pairs", False)
    assert (cal["coarse_from"], cal["coarse_one_side"], cal["coarse_two_sides"]) == (
        coarse["from_gsd"],
        coarse["one_side"],
        coarse["two_sides"],
    )
    assert cal.get("refine", False) == ("refine" in shipped)
