"""``railwatch train``: rebuild the default detector's weights (needs the ``train`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from railwatch.cli._common import console, err_console, progress_bar
from railwatch.detect.train import TRAIN_STYLES


def train(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the ONNX weights (+ .json card).")
    ] = Path("railwatch_default.onnx"),
    scenes: Annotated[int, typer.Option(help="Training crops to draw (128 m each).")] = 800,
    epochs: Annotated[int, typer.Option(help="Passes over the crops.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed for data and training (reproducible).")] = 7,
    styles: Annotated[
        str,
        typer.Option(
            help="Comma-separated simulator style families to train on (empty: all); "
            "keep some out to validate on them."
        ),
    ] = ",".join(TRAIN_STYLES),
    sim_fraction: Annotated[
        float, typer.Option(help="Share of crops rendered by railwatch.sim (rest: procedural).")
    ] = 0.5,
    empty_fraction: Annotated[
        float,
        typer.Option(help="Share of simulator scenes rendered nearly empty (hard negatives)."),
    ] = 0.25,
    blur_max: Annotated[
        float, typer.Option(help="Largest Gaussian blur (sigma, source pixels) in augmentation.")
    ] = 1.0,
    threads: Annotated[int, typer.Option(help="CPU threads for torch.")] = 2,
    init: Annotated[
        Path | None,
        typer.Option(help="Continue from these ONNX weights (same layout) instead of scratch."),
    ] = None,
    lr: Annotated[float, typer.Option(help="Peak learning rate of the one-cycle schedule.")] = 3e-3,
    calibration_scenes: Annotated[
        int,
        typer.Option(
            help="Simulated scenes per resolution to calibrate the counts on afterwards "
            "(0: skip; `railwatch calibrate` does it later)."
        ),
    ] = 6,
) -> None:
    """Train the default railcar detector on synthetic yards and export it to ONNX.

    Example: railwatch train --out weights.onnx --scenes 800 --epochs 8 --seed 7
    """
    from railwatch.detect.train import TrainConfig, build_bank, export_onnx, train_model

    cfg = TrainConfig(
        scenes=scenes,
        epochs=epochs,
        seed=seed,
        styles=tuple(s.strip() for s in styles.split(",") if s.strip()),
        sim_fraction=sim_fraction,
        empty_fraction=empty_fraction,
        blur_max=blur_max,
        threads=threads,
        init=str(init) if init is not None else None,
        lr=lr,
    )
    with progress_bar() as bar:
        task = bar.add_task("drawing training crops", total=scenes)
        bank = build_bank(cfg, progress=lambda i, n: bar.update(task, completed=i))
    err_console.print(
        f"{len(bank.images)} crops, {sum(len(b) for b in bank.boxes)} cars "
        f"({', '.join(f'{s}: {bank.sources.count(s)}' for s in sorted(set(bank.sources)))})"
    )
    net = train_model(bank, cfg, log=err_console.print)
    path = export_onnx(net, out, cfg, bank)
    console.print(f"wrote {path} and {path.with_suffix('.json')}")
    if calibration_scenes > 0:
        from railwatch.cli.calibrate import calibrate

        calibrate(path, scenes=calibration_scenes, styles=",".join(cfg.styles))


def register(app: typer.Typer) -> None:
    app.command("train")(train)
