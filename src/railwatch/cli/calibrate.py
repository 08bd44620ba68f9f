"""``railwatch calibrate``: measure how a detector's detections translate into counts."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from railwatch.cli._common import (
    comma_list,
    console,
    err_console,
    labelled_count,
    plural_s,
    progress_bar,
)
from railwatch.cli._json_summary import JSON_HELP, file_entry, run_for_json
from railwatch.detect.train import TRAIN_STYLES
from railwatch.errors import InputError, some

if TYPE_CHECKING:
    from railwatch.detect.calibration import Calibration
    from railwatch.detect.labels import LabelledSet

#: ``--scenes`` and ``--seed`` defaults (simulated scenes per resolution, first seed).
SIMULATED_SCENES = 60
FIRST_SEED = 5_000_000


def calibrate(
    weights: Annotated[
        Path | None,
        typer.Argument(
            help="ONNX weights of the default detector, whose card (the JSON beside them) "
            "gets the calibration. Required: to calibrate the shipped weights, copy them with "
            "their card, or name the package's file to change the package itself."
        ),
    ] = None,
    scenes: Annotated[
        int,
        typer.Option(
            help="Simulated scenes per resolution (60: about a minute on 2 cores; 6 until "
            "detector 2.7.1, too few for a steady recall per resolution)."
        ),
    ] = SIMULATED_SCENES,
    styles: Annotated[
        str, typer.Option(help="Comma-separated simulator style families to render.")
    ] = ",".join(TRAIN_STYLES),
    seed: Annotated[
        int, typer.Option(help="First scene seed (training never uses these).")
    ] = FIRST_SEED,
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
    string_pairs: Annotated[
        bool | None,
        typer.Option(
            "--string-pairs/--no-string-pairs",
            help="Whether two weak cars may continue a string together with --one-side/"
            "--two-sides (the end one scoring at least --one-side, the other at least "
            "--two-sides; not with the coarse pair); default: keep the card's.",
        ),
    ] = None,
    coarse_from: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.6,
            help="Ground sample distance (m) from which --coarse-one-side/--coarse-two-sides "
            "replace --one-side/--two-sides (default: keep the card's; 0 removes the "
            "coarse pair).",
        ),
    ] = None,
    coarse_one_side: Annotated[
        float | None,
        typer.Option(
            min=0.05,
            max=0.95,
            help="One-side string threshold from --coarse-from on (default: the card's, "
            "else --one-side).",
        ),
    ] = None,
    coarse_two_sides: Annotated[
        float | None,
        typer.Option(
            min=0.05,
            max=0.95,
            help="Both-sides string threshold from --coarse-from on (default: the card's, "
            "else --two-sides).",
        ),
    ] = None,
    refine: Annotated[
        bool,
        typer.Option(
            "--refine",
            help="Decode with the shipped weights' across-track refiner (each box moved "
            "across the track where the image places the car; it reads only the image, so "
            "it serves any weights) and record it in the card, as the shipped card does. "
            "For weights trained from scratch, whose card names none: without it they are "
            "compared with the shipped detector at a disadvantage. Default: keep the card's.",
        ),
    ] = False,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            help="Calibrate on your own labelled images instead of simulated scenes: a "
            "folder as `railwatch train --labels` reads it (each image with every car "
            "labelled; cars labelled 'railcar' count for precision and recall, not for the "
            "type thresholds). For fine-tuned weights, use images held out from the "
            "fine-tuning.",
        ),
    ] = None,
    class_threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Record this class threshold for every class instead of the ones fitted "
            "per class (each type right 80 % of the time); the measured class table is "
            "stored either way.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> dict[str, Any]:
    """Calibrate the default detector's counts on freshly simulated scenes and store the
    result in the card next to the weights (precision by score, recall by resolution).
    Runs the fp32 network, also when the card names INT8 weights (both use the card).

    With --json, standard output holds one JSON object: the card written (path, bytes)
    and the figures otherwise printed (recall by resolution, precision by score, class
    precision by confidence, the thresholds recorded).

    Example: railwatch calibrate weights.onnx --scenes 60
    Example: railwatch calibrate weights.onnx --labels my_labelled_chips/
    """
    if as_json:
        return run_for_json(calibrate, dict(locals()))
    from railwatch.detect.calibration import (
        FEW_LABELLED_CARS,
        calibrate_on_labels,
        calibrate_on_simulator,
        check_detector_weights,
        write_calibration,
    )
    from railwatch.detect.default import DefaultDetector, default_weights
    from railwatch.detect.labels import load_labelled_dir
    from railwatch.detect.refine import CARD_KEY as REFINE_KEY
    from railwatch.detect.refine import Refiner

    if labels is not None and (
        scenes != SIMULATED_SCENES or styles != ",".join(TRAIN_STYLES) or seed != FIRST_SEED
    ):
        raise typer.BadParameter(
            "--labels calibrates on your labelled images: leave out --scenes, --styles and "
            "--seed (they choose simulated scenes)"
        )
    if weights is None:  # it would rewrite the installed package's card unasked
        shipped = default_weights()
        raise InputError(
            "give the weights to calibrate: calibrate writes into the card beside them, and "
            f"the shipped ones ({shipped}) are the package's own, which every run of "
            f"railwatch reads. Calibrate a copy (copy {shipped.name} and "
            f"{shipped.with_suffix('.json').name} to a folder of yours, then `railwatch "
            "calibrate FOLDER/railwatch_default.onnx ...` and `--detector "
            "default:FOLDER/railwatch_default.onnx`), or name the shipped file to change "
            "the package itself"
        )
    path = weights
    if path.is_dir():
        raise typer.BadParameter(
            f"{path} is a folder: give the path of the ONNX weights file in it"
        )
    if not path.is_file():
        raise typer.BadParameter(f"{path} does not exist: give the path of an ONNX weights file")
    check_detector_weights(path, "calibrate")  # before minutes of rendering scenes
    labelled = (
        load_labelled_dir(labels, command="railwatch calibrate --labels")
        if labels is not None
        else None
    )
    if labelled is not None and labels is not None:
        _say_labels(labelled, labels)
    # only its card is read here: an INT8 copy that no longer matches it is no matter
    card_det = DefaultDetector(path, precision="fp32")
    strings = (
        one_side if one_side is not None else card_det.string_thresholds[0],
        two_sides if two_sides is not None else card_det.string_thresholds[1],
    )
    if strings[1] > strings[0]:
        raise typer.BadParameter(
            f"--two-sides ({strings[1]:g}) must not exceed --one-side ({strings[0]:g})"
        )
    coarse = _coarse_strings(card_det, strings, coarse_from, coarse_one_side, coarse_two_sides)
    # measured on the fp32 network (also where the card names INT8 weights): the card's
    # thresholds and calibration serve both precisions (docs/detection.md, step 11)
    det = DefaultDetector(
        path,
        threshold=threshold,
        string_thresholds=strings,
        coarse_string_thresholds=coarse,
        string_pairs=string_pairs,  # None: the card's
        precision="fp32",
    )
    refine_entry = _shipped_refine(path) if refine else None
    if refine_entry is not None:
        # measured with the refiner the card will name (it moves boxes: recall and
        # precision by IoU depend on it)
        det.refiner = Refiner.from_card(refine_entry, path)
    style_list = comma_list(styles)
    with progress_bar() as bar:
        if labelled is not None:
            task = bar.add_task("calibrating on labelled images", total=None)
            cal = calibrate_on_labels(
                det, labelled, progress=lambda i, n: bar.update(task, completed=i, total=n)
            )
        else:
            task = bar.add_task("calibrating on simulated scenes", total=None)
            cal = calibrate_on_simulator(
                det,
                styles=style_list,
                scenes_per_gsd=scenes,
                seed=seed,
                progress=lambda i, n: bar.update(task, completed=i, total=n),
            )
    # distinct cars where known: chips of export-labels overlap, a car labelled in each
    # (as train --labels since 9c9cd9d; session 40)
    distinct = labelled.distinct_cars if labelled is not None else None
    few = distinct if distinct is not None else (labelled.cars if labelled is not None else 0)
    if labelled is not None and few < FEW_LABELLED_CARS:
        what = (
            f"{few} labelled car{plural_s(few)}"
            if distinct is not None
            else f"{few} labelled object{plural_s(few)} (distinct cars not known: chips may "
            "overlap)"
        )
        err_console.print(
            f"warning: {what} make{'s' if few == 1 else ''} a noisy calibration (recall per "
            f"resolution and type thresholds); {FEW_LABELLED_CARS} or more are better"
        )
    fitted_class_threshold = cal.class_threshold
    fitted_per_class = dict(cal.class_thresholds)
    if class_threshold is not None:
        fitted = _thresholds_text(fitted_per_class, fitted_class_threshold)
        cal = dataclasses.replace(
            cal,
            class_threshold=class_threshold,
            class_thresholds={},
            source=f"{cal.source}; class threshold {class_threshold:g} for every class given "
            f"with --class-threshold (the fit chose {fitted})",
        )
    card = write_calibration(
        path,
        cal,
        threshold=det.threshold,
        string_thresholds={
            "one_side": det.string_thresholds[0],
            "two_sides": det.string_thresholds[1],
            **({"pairs": True} if det.string_pairs else {}),
        },
        string_thresholds_coarse=(
            None
            if det.coarse_string_thresholds is None
            else dict(
                zip(
                    ("from_gsd", "one_side", "two_sides"), det.coarse_string_thresholds, strict=True
                )
            )
        ),
        **({REFINE_KEY: refine_entry} if refine_entry is not None else {}),
    )
    spread_from = _spread_scenes(labelled) if labelled is not None else {}
    for g, r, sd in zip(cal.gsd, cal.recall, cal.recall_sd, strict=True):
        n = spread_from.get(g)
        # fewer than two images of 5 or more cars at a resolution: the calibration
        # assumes a spread of 0.1, which was printed as if measured (session 49); the
        # card says so since session 50 (recall_sd_assumed), and this reads it there
        if cal.spread_assumed_at(g):
            unit = "image" if labelled is not None else "scene"
            had = f"{n} {unit}{plural_s(n)}" if n is not None else f"fewer than 2 {unit}s"
            said = (
                f"sd {sd:.2f} assumed: {had} with 5 or more cars at this resolution, 2 are "
                "needed to measure the scene-to-scene spread; marked so in the card"
            )
        else:
            said = f"scene-to-scene sd {sd:.2f}"
        err_console.print(f"recall at {g:g} m: {r:.2f} ({said})")
    if cal.sd_assumed:
        err_console.print(
            "note: where the spread is assumed, the 90 % interval of a count rests on a "
            "guess, not a measurement: calibrate on more labelled images of 5 or more cars "
            "at those resolutions to measure it",
            highlight=False,
        )
    bins = ", ".join(
        f"{a:.1f}-{b:.1f}: {p:.2f}"
        for a, b, p in zip(cal.score_edges, cal.score_edges[1:], cal.precision, strict=False)
    )
    err_console.print(f"precision by score: {bins}")
    if cal.class_edges:
        err_console.print(f"class right by confidence: {class_bins_text(cal)}")
        err_console.print(
            "types reported from confidence "
            + _thresholds_text(dict(cal.class_thresholds), cal.class_threshold)
            + (
                " (given; the fit chose "
                f"{_thresholds_text(fitted_per_class, fitted_class_threshold)})"
                if class_threshold is not None
                else ""
            )
        )
    err_console.print(
        f"threshold {det.threshold:g} (in a string: {det.string_thresholds[0]:g} with a "
        f"neighbour on one side, {det.string_thresholds[1]:g} on both"
        + (f", pairs of weak cars from {det.string_thresholds[1]:g}" if det.string_pairs else "")
        + (
            ""
            if det.coarse_string_thresholds is None
            else "; from {:g} m: {:g} and {:g}".format(*det.coarse_string_thresholds)
        )
        + f"); calibrated on {cal.source}"
        + ("; with the shipped across-track refiner" if refine_entry is not None else "")
    )
    console.print(f"wrote calibration to {escape(str(card))}")
    return {
        "weights": str(path),
        "card": file_entry(card),
        "calibrated_on": "labels" if labelled is not None else "simulator",
        "labelled_cars": labelled.cars if labelled is not None else None,
        "source": cal.source,
        "threshold": det.threshold,
        "string_thresholds": {
            "one_side": det.string_thresholds[0],
            "two_sides": det.string_thresholds[1],
            "pairs": bool(det.string_pairs),
        },
        "string_thresholds_coarse": (
            None
            if det.coarse_string_thresholds is None
            else dict(
                zip(
                    ("from_gsd", "one_side", "two_sides"), det.coarse_string_thresholds, strict=True
                )
            )
        ),
        "refine": refine_entry is not None,
        "recall": [
            {"gsd": g, "recall": r, "sd": sd, "sd_assumed": cal.spread_assumed_at(g)}
            for g, r, sd in zip(cal.gsd, cal.recall, cal.recall_sd, strict=True)
        ],
        "precision_by_score": [
            {"from": a, "to": b, "precision": p}
            for a, b, p in zip(cal.score_edges, cal.score_edges[1:], cal.precision, strict=False)
        ],
        "class_right_by_confidence": [
            {"from": a, "to": b, "precision": p, "n": n} for a, b, p, n in class_bins(cal)
        ],
        "class_thresholds": dict(cal.class_thresholds),
        "class_threshold": cal.class_threshold,
    }


def _say_labels(labelled: LabelledSet, folder: Path) -> None:
    """What ``--labels`` gave (images, cars, where the labels come from) and what it left
    out, as `railwatch train --labels` says it (2026-12-07, session 49: calibrate said
    nothing, and a folder of `detect`'s uncorrected output calibrated the detector
    against its own boxes, recall 1.00, without a word; images without a label file were
    left out silently)."""
    from railwatch.detect.labels import describe_provenance

    n = len(labelled.images)
    empty = sum(1 for i in labelled.images if not i.cars)
    counts = labelled.provenance()
    by_class: dict[str, int] = {}
    for item in labelled.images:
        for cls, k in item.by_class().items():
            by_class[cls] = by_class.get(cls, 0) + k
    classes = ", ".join(f"{c} {k}" for c, k in sorted(by_class.items())) or "no cars"
    err_console.print(
        f"labels: {n} image{plural_s(n)} ({empty} without cars), "
        f"{labelled_count(labelled.distinct_cars, labelled.cars, escape(classes))} in "
        f"{escape(str(folder))}; origin: {escape(describe_provenance(counts))}",
        highlight=False,
        soft_wrap=True,
    )
    if counts.get("detector"):
        k = counts["detector"]
        err_console.print(
            f"[bold yellow]warning:[/] {k} image{plural_s(k)} of the detector's labels "
            "(railwatch detect's output, or export-labels' boxes, not marked verified): "
            "where they were not corrected, the calibration measures the detector against "
            "its own boxes (recall and precision near 1) and the card would promise counts "
            "it does not give. Correct them (save as NAME.truth.geojson; a file that keeps "
            "detect's 'detector' member is taken as uncorrected, unless it says "
            '"verified": true) or move them out of the folder',
            highlight=False,
            soft_wrap=True,
        )
    if labelled.unlabelled:
        k = len(labelled.unlabelled)
        err_console.print(
            f"[bold yellow]note:[/] not used (no label file): {k} image{plural_s(k)}, "
            f"{escape(some(labelled.unlabelled, 5))}; give an image without "
            "cars a label file with no cars to calibrate on it",
            highlight=False,
            soft_wrap=True,
        )


def _spread_scenes(labelled: LabelledSet) -> dict[float, int]:
    """The images of 5 or more cars at each resolution band the calibration pools the
    labelled images at (:func:`railwatch.detect.calibration.calibrate_on_labels`): the
    scene-to-scene spread of recall is measured on 2 or more, else taken as 0.1."""
    import math

    from railwatch.detect.calibration import LABEL_GSD_BANDS

    out: dict[float, int] = {}
    for item in labelled.images:
        band = min(LABEL_GSD_BANDS, key=lambda g: abs(math.log(g / item.native_gsd)))
        out[band] = out.get(band, 0) + (1 if len(item.cars) >= 5 else 0)
    return out


def _shipped_refine(weights: Path) -> dict[str, object]:
    """The shipped card's across-track refiner entry (``detect.refine``), for ``--refine``;
    an :class:`InputError` when the installed package's card names none, is missing or
    cannot be read (read with the one card reader, :func:`read_card`, and worded as it
    words a card, since session 31)."""
    from railwatch.detect.calibration import read_card
    from railwatch.detect.default import default_weights
    from railwatch.detect.refine import CARD_KEY

    shipped = default_weights()
    card_path = shipped.with_suffix(".json")
    todo = "reinstall railwatch, or leave out --refine"
    try:
        card = read_card(shipped, todo=todo)
    except InputError as err:
        raise InputError(f"--refine copies the shipped card's refiner, but {err}") from err
    if not card and not card_path.exists():
        raise InputError(
            f"--refine copies the shipped card's refiner, but the card {card_path} of "
            f"{shipped} is missing; {todo}"
        )
    entry = card.get(CARD_KEY)
    if not isinstance(entry, dict):
        raise InputError(
            f"--refine copies the shipped card's refiner, but {card_path} names none: leave "
            f"out --refine to calibrate {weights.name} without one"
        )
    return dict(entry)


def _thresholds_text(per_class: dict[str, float | None], common: float | None) -> str:
    """``boxcar 0.6, tank 0.5, gondola never`` (per class) or the common threshold."""
    if per_class:
        return ", ".join(
            f"{c} {'never' if t is None else f'{t:g}'}" for c, t in sorted(per_class.items())
        )
    if common is None:
        return "never (no confidence is right often enough; every car is 'railcar')"
    return f"{common:g}"


def _coarse_strings(
    card_det: object,
    strings: tuple[float, float],
    coarse_from: float | None,
    coarse_one_side: float | None,
    coarse_two_sides: float | None,
) -> tuple[float, float, float] | None:
    """The coarse string thresholds to calibrate with and record: the options given, the
    card's for the rest (the fine pair where the card has none); None for none."""
    card_coarse = getattr(card_det, "coarse_string_thresholds", None)
    if coarse_from == 0:
        if coarse_one_side is not None or coarse_two_sides is not None:
            raise typer.BadParameter(
                "--coarse-from 0 removes the coarse string thresholds: do not also give "
                "--coarse-one-side or --coarse-two-sides"
            )
        return None
    if coarse_from is None and card_coarse is None:
        if coarse_one_side is not None or coarse_two_sides is not None:
            raise typer.BadParameter(
                "the card has no coarse string thresholds: say from which resolution they "
                "apply with --coarse-from (e.g. --coarse-from 0.75)"
            )
        return None
    base = card_coarse if card_coarse is not None else (0.0, *strings)
    coarse = (
        coarse_from if coarse_from is not None else base[0],
        coarse_one_side if coarse_one_side is not None else base[1],
        coarse_two_sides if coarse_two_sides is not None else base[2],
    )
    if coarse[2] > coarse[1]:
        raise typer.BadParameter(
            f"--coarse-two-sides ({coarse[2]:g}) must not exceed --coarse-one-side ({coarse[1]:g})"
        )
    return coarse


def class_bins_text(cal: Calibration) -> str:
    """The class precision by confidence bin, as `calibrate` prints it: ``0.3-0.4: 0.49
    (n=57)``; a bin without a car ``– (n=0)``: it holds the fit's prior, 0.5, not a
    measure (2026-12-07, session 46: printed "0.9-1.0: 0.50 (n=0)")."""
    return ", ".join(
        f"{a:.1f}-{b:.1f}: {p:.2f} (n={n})" if n else f"{a:.1f}-{b:.1f}: – (n=0)"
        for a, b, p, n in class_bins(cal)
    )


def class_bins(cal: Calibration) -> list[tuple[float, float, float, int]]:
    """Each confidence bin of the class precision: (from, to, precision, cars in it)."""
    return list(
        zip(
            cal.class_edges,
            cal.class_edges[1:],
            cal.class_precision,
            cal.class_counts,
            strict=False,
        )
    )


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)
