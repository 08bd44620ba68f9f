"""``railwatch demo``'s progress: the ingest stage is counted in files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.errors import DetectionError
from railwatch.settings import Settings
from railwatch.sim.io import write_scene
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import render_scene


def test_ingest_stage_ends_at_the_number_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bar ended at 1/1 after ingesting 223 files (a final report of (1, 1))."""
    import railwatch.demo as demo
    import railwatch.detect.registry as registry
    import railwatch.sim.scenario as scenario

    paths = [
        write_scene(
            render_scene(SceneParams(seed=i, gsd=0.5, size_px=(120, 120), n_cars=2)),
            tmp_path / "img",
            f"tumangang_2024010{i + 1}",
            preview=False,
        )
        for i in range(3)
    ]

    def fake_render(*_a: Any, progress: Any = None, **_k: Any) -> list[Any]:
        if progress is not None:
            progress(len(paths), len(paths))
        return paths

    def no_detector(*_a: Any, **_k: Any) -> Any:
        raise DetectionError("no detector in this test")

    monkeypatch.setattr(scenario, "render_scenario", fake_render)
    monkeypatch.setattr(registry, "get_detector", no_detector)
    stages: list[tuple[str, int, int]] = []
    result = demo.run_demo(
        tmp_path / "out",
        settings=Settings(cache_dir=tmp_path / "cache"),
        on_stage=lambda name, done, total: stages.append((name, done, total)),
    )
    assert result.scenes == 3 and result.missing  # stopped before detection
    ingest = [(done, total) for name, done, total in stages if name == "ingest"]
    assert ingest and ingest[-1] == (3, 3)
    assert all(total == 3 for _, total in ingest)
