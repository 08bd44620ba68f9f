"""``railwatch quantize``: INT8 weights for the default detector (needs ``onnx``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from railwatch.cli._common import comma_list, console, err_console, plural_s, progress_bar
from railwatch.cli._json_summary import JSON_HELP, file_entry, run_for_json
from railwatch.detect.train import TRAIN_STYLES
from railwatch.errors import InputError


def quantize(
    weights: Annotated[
        Path | None,
        typer.Argument(
            help="fp32 ONNX weights of the default detector (default: the shipped ones)."
        ),
    ] = None,
    tiles: Annotated[int, typer.Option(min=1, help="Calibration tiles to render.")] = 32,
    seed: Annotated[
        int, typer.Option(help="First calibration seed (training and benchmarks never use it).")
    ] = 6_000_000,
    styles: Annotated[
        str, typer.Option(help="Comma-separated simulator style families to render.")
    ] = ",".join(TRAIN_STYLES),
    exclude: Annotated[
        str,
        typer.Option(
            help="Comma-separated nodes to keep in fp32: first-conv, head ('none': quantise "
            "every convolution)."
        ),
    ] = "head",
    space_to_depth: Annotated[
        bool,
        typer.Option(
            "--space-to-depth/--no-space-to-depth",
            help="Run the INT8 first convolution over a space-to-depth copy of the quantised "
            "input (the same numbers, faster).",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> dict[str, Any]:
    """Quantise the default detector to INT8 (ONNX Runtime static quantisation, calibrated
    on rendered tiles with a fixed seed) and write NAME.int8.onnx next to NAME.onnx; the
    card records how, and the detector then runs it by default (`--detector
    default-fp32` runs the original).

    With --json, standard output holds one JSON object: the INT8 file and the card
    written (path, bytes), the settings, the check against fp32 and the detector version.

    Example: railwatch quantize weights.onnx
    """
    if as_json:
        return run_for_json(quantize, dict(locals()))
    from railwatch.detect.default import DefaultDetector, default_weights
    from railwatch.detect.quantize import QuantizeConfig, quantize_weights

    if weights is not None and weights.is_dir():
        raise InputError(f"{weights} is a folder: give the fp32 ONNX weights file in it")
    if weights is not None and weights.is_file():
        from railwatch.detect.calibration import check_detector_weights

        check_detector_weights(weights, "quantize")  # before the bar and the renders
    cfg = QuantizeConfig(
        tiles=tiles,
        seed=seed,
        styles=comma_list(styles),
        exclude=tuple(s for s in comma_list(exclude) if s != "none"),
        space_to_depth=space_to_depth,
    )
    command = (
        f"railwatch quantize {weights if weights is not None else ''} --tiles {tiles} "
        f"--seed {seed} --styles {','.join(cfg.styles)}"
        + f" --exclude {','.join(cfg.exclude) or 'none'}"
        + ("" if space_to_depth else " --no-space-to-depth")
    ).replace("  ", " ")
    with progress_bar() as bar:
        task = bar.add_task("rendering calibration tiles", total=tiles)
        out = quantize_weights(
            weights,
            cfg,
            progress=lambda i, n: bar.update(task, completed=i, total=n),
            command=command,
        )
    det = DefaultDetector(out)
    check = det.card["int8"]["check"]
    err_console.print(
        f"calibrated on {cfg.tiles} tile{plural_s(cfg.tiles)} (seed {cfg.seed}); centre heat "
        "on the first tile "
        f"differs from fp32 by at most {check['heat_max_abs_diff']:.3f} "
        f"(mean {check['heat_mean_abs_diff']:.4f}); detector version {det.version}"
    )
    console.print(
        f"wrote {escape(str(out))} ({out.stat().st_size / 1e6:.2f} MB) and its entry in the card"
    )
    fp32 = weights if weights is not None else default_weights()
    return {
        "weights": str(fp32),
        "int8": file_entry(out),
        "card": file_entry(fp32.with_suffix(".json")),
        "tiles": cfg.tiles,
        "seed": cfg.seed,
        "styles": list(cfg.styles),
        "exclude": list(cfg.exclude),
        "space_to_depth": cfg.space_to_depth,
        "heat_max_abs_diff": check["heat_max_abs_diff"],
        "heat_mean_abs_diff": check["heat_mean_abs_diff"],
        "detector_version": det.version,
    }


def register(app: typer.Typer) -> None:
    app.command("quantize")(quantize)
