"""``railwatch calibrate``: measure how a detector's detections translate into counts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from railwatch.cli._common import comma_list, console, err_console, progress_bar
from railwatch.detect.train import TRAIN_STYLES


def calibrate(
    weights: Annotated[
        Path | None,
        typer.Argument(help="ONNX weights of the default detector (default: the shipped ones)."),
    ] = None,
    scenes: Annotated[int, typer.Option(help="Simulated scenes per resolution.")] = 6,
    styles: Annotated[
        str, typer.Option(help="Comma-separated simulator style families to render.")
    ] = ",".join(TRAIN_STYLES),
    seed: Annotated[int, typer.Option(help="First scene seed (training never uses these).")] = (
        5_000_000
    ),
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.05,
            max=0.95,
            help="Centre-heat threshold to record for these weights (default: keep the card's).",
        ),
    ] = None,
    one_side: Annotated[
        float | None,
        typer.Option(
            min=0.05,
            max=0.95,
            help="Lowest score of a car that continues a string of confident cars on one "
            "side, to record (default: keep the card's).",
        ),
    ] = None,
    two_sides: Annotated[
        float | None,
        typer.Option(
            min=0.05,
            max=0.95,
            help="Lowest score of a car with confident string neighbours on both sides, to "
            "record (default: keep the card's).",
        ),
    ] = None,
) -> None:
    """Calibrate the default detector's counts on freshly simulated scenes and store the
    result in the card next to the weights (precision by score, recall by resolution).

    Example: railwatch calibrate weights.onnx --scenes 6
    """
    from railwatch.detect.calibration import calibrate_on_simulator, write_calibration
    from railwatch.detect.default import DefaultDetector, default_weights

    path = weights if weights is not None else default_weights()
    if not path.is_file():
        raise typer.BadParameter(f"{path} does not exist: give the path of an ONNX weights file")
    strings = None
    if one_side is not None or two_sides is not None:
        card_det = DefaultDetector(path)
        strings = (
            one_side if one_side is not None else card_det.string_thresholds[0],
            two_sides if two_sides is not None else card_det.string_thresholds[1],
        )
        if strings[1] > strings[0]:
            raise typer.BadParameter(
                f"--two-sides ({strings[1]:g}) must not exceed --one-side ({strings[0]:g})"
            )
    det = DefaultDetector(path, threshold=threshold, string_thresholds=strings)
    style_list = comma_list(styles)
    with progress_bar() as bar:
        task = bar.add_task("calibrating on simulated scenes", total=None)
        cal = calibrate_on_simulator(
            det,
            styles=style_list,
            scenes_per_gsd=scenes,
            seed=seed,
            progress=lambda i, n: bar.update(task, completed=i, total=n),
        )
    card = write_calibration(
        path,
        cal,
        threshold=det.threshold,
        string_thresholds={
            "one_side": det.string_thresholds[0],
            "two_sides": det.string_thresholds[1],
        },
    )
    for g, r, sd in zip(cal.gsd, cal.recall, cal.recall_sd, strict=True):
        err_console.print(f"recall at {g:g} m: {r:.2f} (scene-to-scene sd {sd:.2f})")
    bins = ", ".join(
        f"{a:.1f}-{b:.1f}: {p:.2f}"
        for a, b, p in zip(cal.score_edges, cal.score_edges[1:], cal.precision, strict=False)
    )
    err_console.print(f"precision by score: {bins}")
    if cal.class_edges:
        cbins = ", ".join(
            f"{a:.1f}-{b:.1f}: {p:.2f} (n={n})"
            for a, b, p, n in zip(
                cal.class_edges,
                cal.class_edges[1:],
                cal.class_precision,
                cal.class_counts,
                strict=False,
            )
        )
        err_console.print(f"class right by confidence: {cbins}")
        err_console.print(
            "types reported from confidence "
            + (
                f"{cal.class_threshold:g}"
                if cal.class_threshold is not None
                else "never (no confidence is right often enough; every car is 'railcar')"
            )
        )
    err_console.print(
        f"threshold {det.threshold:g} (in a string: {det.string_thresholds[0]:g} with a "
        f"neighbour on one side, {det.string_thresholds[1]:g} on both); calibrated on "
        f"{cal.source}"
    )
    console.print(f"wrote calibration to {card}")


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)
