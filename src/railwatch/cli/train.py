"""``railwatch train``: rebuild the default detector's weights (needs the ``train`` extra)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
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
from railwatch.detect.default import MAX_GSD
from railwatch.detect.train import TRAIN_STYLES, TrainConfig
from railwatch.errors import InputError, some

if TYPE_CHECKING:
    from railwatch.detect.covered_head import CoveredConfig
    from railwatch.detect.labels import LabelledSet

#: ``--gsd-range``'s default: the training configuration's.
DEFAULT_GSD_RANGE = ",".join(f"{g:g}" for g in TrainConfig.gsd_range)


#: Fewer labelled cars than this get a warning from train --labels.
FEW_TRAINING_CARS = 50


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
    trackside: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Chance that a procedural yard also gets track-side clutter: platforms "
            "(island platforms too), car parks, service roads and lorry parks, sheds, ramps "
            "and noise walls beside and parallel to the tracks (hard negatives). 0: the "
            "shipped weights' drawings up to v2.5. Recorded in the card.",
        ),
    ] = 0.0,
    trackside_empty: Annotated[
        float,
        typer.Option(
            "--trackside-empty",
            min=0.0,
            max=1.0,
            help="Share of the procedural yards drawn with empty tracks and track-side "
            "clutter (hard negatives).",
        ),
    ] = 0.0,
    roofed_hoppers: Annotated[
        float,
        typer.Option(
            "--roofed-hoppers",
            min=0.0,
            max=1.0,
            help="Share of the simulator's uncovered hoppers drawn as covered (roofed) "
            "hoppers: grain and cement cars whose roof and hatches are not a tarpaulin. 0: "
            "the simulator crops of the weights up to v2.8. Recorded in the card.",
        ),
    ] = 0.0,
    exact_paint: Annotated[
        float,
        typer.Option(
            "--exact-paint",
            min=0.0,
            max=1.0,
            help="Share of the simulator scenes and procedural yards painted at their true "
            "area: the default painting spills past every outline (cars 1.05-1.4 times their "
            "area, as no real car is). 0: the crops of the weights up to v2.9. Recorded in "
            "the card.",
        ),
    ] = 0.0,
    consistency: Annotated[
        float,
        typer.Option(
            "--consistency",
            min=0.0,
            help="Weight of a loss on the agreement of the network's turned and mirrored "
            "views: each step also runs the batch turned (a quarter turn or a mirror, each "
            "in turn) and penalises where its heat and body maps, turned back, differ from "
            "the plain view's (about twice the time a step). 0: the training of the weights "
            "up to v2.9. Recorded in the card.",
        ),
    ] = 0.0,
    threads: Annotated[int, typer.Option(help="CPU threads for torch.")] = 2,
    gsd_range: Annotated[
        str,
        typer.Option(
            "--gsd-range",
            help="MIN,MAX: ground sample distances (m per pixel) the training crops are "
            "drawn at, log-uniformly (before the +-20 % scale jitter); e.g. 0.6,1.1 for a "
            "network for coarse tiles. Recorded in the card (config.gsd_range).",
        ),
    ] = DEFAULT_GSD_RANGE,
    arch: Annotated[
        str | None,
        typer.Option(
            help="Network layout: s8 (the shipped weights' since v2.0) or s4 (v1.x; see "
            "docs/detection.md). Default: the --init weights' layout, else s8."
        ),
    ] = None,
    init: Annotated[
        Path | None,
        typer.Option(
            help="Continue from these ONNX weights (same layout) instead of scratch; "
            "'default' for the shipped weights (fine-tuning)."
        ),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            help="Directory of your labelled images: NAME.tif/.png with NAME.truth.geojson "
            "(railwatch detect's GeoJSON, corrected), DOTA labelTxt/NAME.txt, or what "
            "railwatch import-labels wrote; subfolders too. See docs/detection.md, "
            "'Fine-tuning on your own labels'.",
        ),
    ] = None,
    labels_share: Annotated[
        float,
        typer.Option(
            "--labels-share",
            min=0.0,
            max=1.0,
            help="Share of the training crops cut from --labels (the rest: simulator and "
            "procedural yards, so that the network does not forget them).",
        ),
    ] = 0.5,
    verified_only: Annotated[
        bool,
        typer.Option(
            "--verified-only",
            help="Train only on the --labels images whose labels are verified (an "
            "analyst's outlines from export-labels, import-labels --verified, or a GeoJSON "
            'label file\'s "verified": true); the others are named and left out.',
        ),
    ] = False,
    lr: Annotated[float, typer.Option(help="Peak learning rate of the one-cycle schedule.")] = 3e-3,
    calibration_scenes: Annotated[
        int,
        typer.Option(
            help="Simulated scenes per resolution to calibrate the counts on afterwards "
            "(0: skip; `railwatch calibrate` does it later; 6 until detector 2.7.1, too few "
            "for a steady recall per resolution)."
        ),
    ] = 60,
    recipe: Annotated[
        str | None,
        typer.Option(
            help="'default': make the shipped weights again (both training stages, the "
            "covered-head re-fit, the calibration with the shipped thresholds, then the INT8 "
            "quantisation; about 55 min with 2 cores to itself, hours when other work takes them). "
            "It reads only --out, --threads, --device, --amp and --workers; the other training "
            "options are refused (its settings are fixed)."
        ),
    ] = None,
    covered_head: Annotated[
        bool,
        typer.Option(
            "--covered-head",
            help="Re-fit only the tarpaulin (covered) output of the --init weights on frozen "
            "features (--scenes crops, --epochs, --lr, --seed, --styles, --sim-fraction, "
            "--roofed-hoppers, --threads; the other training options are refused); every "
            "other output stays bit for bit the same. See docs/detection.md.",
        ),
    ] = False,
    device: Annotated[
        str,
        typer.Option(
            "--device",
            help="Where the network trains: cpu, cuda (an NVIDIA GPU; refused without one) "
            "or auto (cuda when torch sees a GPU, else cpu). The random draws are the same "
            "on either: a CUDA run differs from a CPU run by floating-point rounding only. "
            "The bank is drawn on the CPU; the ONNX file is exported from a CPU copy. "
            "Recorded in the card (config.device; trained_on: the GPU).",
        ),
    ] = "cpu",
    amp: Annotated[
        bool,
        typer.Option(
            "--amp",
            help="bf16 autocast of the forward pass on a CUDA GPU (faster; the loss stays "
            "fp32). Refused on the CPU.",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Draw the training crops and prepare the batches in N processes. Seeds "
            "each draw of the bank from (--seed, draw number), so the bank is the same for "
            "any N but not the one drawn without --workers (one sequential generator: the "
            "shipped weights'). Recorded in the card (config.bank_seeding).",
        ),
    ] = None,
    channels: Annotated[
        int | None,
        typer.Option(
            "--channels",
            help="Width of the network: channels at stride 4 (twice that at stride 8 in "
            "s8). Default: the --init weights' width, else 32 (the shipped weights'); e.g. "
            "64 for a larger network (about 4x the parameters and multiply-adds).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> dict[str, Any]:
    """Train the default railcar detector on synthetic yards (and your own labelled
    images with --labels) and export it to ONNX.

    With --json, standard output holds one JSON object: the weights and card written
    (paths, bytes), the crops and cars trained on, and the calibration's figures (as
    `railwatch calibrate --json` gives them; null with --calibration-scenes 0).

    Example: railwatch train --out weights.onnx --scenes 800 --epochs 8 --seed 7
    or, fine-tuning: [bold]railwatch train --labels mylabels/ --init default --out tuned.onnx
    --scenes 1000 --epochs 4 --lr 0.0005[/]
    """
    if as_json:
        return run_for_json(train, dict(locals()))
    from railwatch.detect.train import (
        ARCHS,
        build_bank,
        export_onnx,
        require_train_extra,
        resolve_device,
        train_model,
    )

    check_out(out)  # before minutes of drawing crops and training
    if recipe is not None:
        # its settings are fixed: --recipe default --scenes 2 started the full run
        check_recipe_options(
            recipe,
            {
                "scenes": scenes,
                "epochs": epochs,
                "seed": seed,
                "styles": styles,
                "sim_fraction": sim_fraction,
                "empty_fraction": empty_fraction,
                "blur_max": blur_max,
                "trackside": trackside,
                "trackside_empty": trackside_empty,
                "roofed_hoppers": roofed_hoppers,
                "exact_paint": exact_paint,
                "consistency": consistency,
                "gsd_range": gsd_range,
                "arch": arch,
                "labels_share": labels_share,
                "verified_only": verified_only,
                "lr": lr,
                "calibration_scenes": calibration_scenes,
                "covered_head": covered_head,
            },
        )
    if verified_only and labels is None:
        raise InputError("--verified-only picks among the --labels images: give --labels DIR")
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: give at least 1 process (e.g. the CPU cores)")
    if channels is not None and not 4 <= channels <= 512:
        raise InputError(f"--channels {channels}: give a width of 4 to 512 (the shipped: 32)")
    run_on = resolve_device(device)  # before minutes of drawing crops
    if amp and run_on != "cuda":
        said = " (--device auto found no GPU)" if device == "auto" else ""
        raise InputError(
            f"--amp (bf16 autocast) is for training on a CUDA GPU, not the CPU{said}: leave "
            "out --amp, or train with --device cuda on a machine with an NVIDIA GPU"
        )
    if recipe is not None:
        if channels is not None:
            raise InputError("--recipe default has the shipped width: leave out --channels")
        return _run_recipe(
            recipe,
            out,
            threads,
            init=init,
            labels=labels,
            device=run_on,
            amp=amp,
            workers=workers,
        )
    if scenes < 1:
        raise InputError(
            f"--scenes {scenes}: give at least 1 training crop (the default is 800; a few "
            "for a quick try)"
        )
    if init is not None and str(init) == "default" and not init.exists():
        from railwatch.detect.default import default_weights

        init = default_weights()
    if init is not None and init.is_dir():
        raise InputError(f"--init {init} is a folder: give the ONNX weights file in it")
    if init is not None and not init.is_file():
        raise InputError(f"--init {init} does not exist: give an ONNX weights file or 'default'")
    init_arch = None
    init_width = None
    parent_card: dict[str, Any] = {}
    if init is not None:
        from railwatch.detect.train import (
            init_channels,
            init_layout,
            read_init_card,
            read_init_weights,
        )

        # read now: with --out the same file as --init, the card is rewritten by then;
        # a card for other weights, or not JSON, is refused before onnx or torch is needed
        parent_card = read_init_card(init)

        # not ONNX, INT8 or another kind of model: say so before minutes of drawing crops
        init_model = read_init_weights(init)
        init_arch = init_layout(init_model, init)
        init_width = init_channels(init_model)
        if channels is not None and channels != init_width:
            raise InputError(
                f"--channels {channels}, but --init {init} is {init_width} channels wide: "
                "leave out --channels to continue from them, or leave out --init to train "
                f"{channels} channels from scratch"
            )
    if calibration_scenes < 0:
        raise InputError(
            f"--calibration-scenes {calibration_scenes}: give 0 to skip the calibration, or "
            "the number of simulated scenes per resolution (e.g. 60)"
        )
    if covered_head:
        if init is None or labels is not None:
            raise InputError(
                "--covered-head re-fits given weights: pass --init W.onnx (no --labels)"
            )
        if run_on != "cpu" or workers is not None:
            raise InputError(
                "--covered-head runs on the CPU in one process (its features come from ONNX "
                "Runtime): leave out --device and --workers"
            )
        from railwatch.detect.covered_head import check_out_not_init

        check_out_not_init(init, out)
        if arch is not None and arch != init_arch:
            raise InputError(
                f"--arch {arch}, but --init {init} has the {init_arch} layout, which the "
                "covered-head re-fit keeps: leave out --arch"
            )
        # the re-fit draws its crops with the training defaults for these: said, not
        # ignored (--gsd-range 0.6,1.1 was taken and the crops drawn at 0.3-1.0 m)
        unused = {
            "--gsd-range": gsd_range != DEFAULT_GSD_RANGE
            and parse_gsd_range(gsd_range) != TrainConfig.gsd_range,
            "--empty-fraction": empty_fraction != TrainConfig.empty_fraction,
            "--blur-max": blur_max != TrainConfig.blur_max,
            "--trackside": trackside != TrainConfig.trackside,
            "--trackside-empty": trackside_empty != TrainConfig.trackside_empty,
            "--labels-share": labels_share != TrainConfig.labels_share,
            "--exact-paint": exact_paint != TrainConfig.exact_paint,
            "--consistency": consistency != TrainConfig.consistency,
        }
        given = [name for name, differs in unused.items() if differs]
        if given:
            raise InputError(
                f"--covered-head draws its crops with the training defaults except for "
                "--scenes, --seed, --styles, --sim-fraction and --roofed-hoppers: leave out "
                f"{', '.join(given)}"
            )
        cfg_covered = covered_config(
            scenes=scenes,
            epochs=epochs,
            seed=seed,
            lr=lr,
            styles=styles,
            sim_fraction=sim_fraction,
            threads=threads,
            roofed_hoppers=roofed_hoppers,
        )
        require_train_extra()  # after the options are checked, before any crop is drawn
        return _covered_head(init, out, cfg_covered)
    gsd_lo, gsd_hi = parse_gsd_range(gsd_range)
    if arch is None:
        arch = init_arch or "s8"
    if arch not in ARCHS:  # before minutes of drawing crops
        raise InputError(f"unknown --arch {arch!r}: choose one of {', '.join(ARCHS)}")
    if init_arch is not None and arch != init_arch:
        raise InputError(
            f"--arch {arch}, but --init {init} has the {init_arch} layout: leave out --arch "
            f"(or give --arch {init_arch}) to continue from them, or leave out --init to "
            f"train {arch} from scratch"
        )
    labelled = None
    if labels is not None:
        from railwatch.detect.labels import load_labelled_dir

        if not labels_share > 0:
            raise InputError("--labels-share must be above 0 when --labels is given")
        labelled = load_labelled_dir(labels)
        _say_provenance(labelled, verified_only)
        if verified_only:
            labelled = labelled.only_verified()
        by_class: dict[str, int] = {}
        for item in labelled.images:
            for cls, n in item.by_class().items():
                by_class[cls] = by_class.get(cls, 0) + n
        empty = sum(1 for item in labelled.images if not item.cars)
        classes = ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())) or "no cars"
        distinct = labelled.distinct_cars  # chips overlap: labels are not cars (session 40)
        err_console.print(
            f"labels: {len(labelled.images)} image{plural_s(len(labelled.images))} ({empty} "
            f"without cars), {labelled_count(distinct, labelled.cars, escape(classes))} "
            f"in {escape(str(labels))}; read from "
            f"{escape(_label_sources(labelled))}"
        )
        from railwatch.detect.labels import NO_COVERED_FLAG

        flagless = [i for i in labelled.images if i.source in NO_COVERED_FLAG]
        if any(i.cars for i in flagless):
            # DOTA and YOLO-OBB have no tarpaulin flag: said, as the covered output learns
            kinds = "/".join(sorted({i.source.upper() for i in flagless}))
            n_flagless = sum(len(i.cars) for i in flagless)
            err_console.print(
                f"note: {kinds} labels carry no covered flag: the "
                f"{n_flagless} label{plural_s(n_flagless)} of {len(flagless)} such image(s) "
                "teach nothing of tarpaulins (the covered output learns from the other "
                "labels and the renders only; to teach it on your images, correct in COCO, "
                "export-labels --format coco, and import-labels it, or use GeoJSON labels "
                "with 'covered')",
                style="yellow",
            )
        few = distinct if distinct is not None else labelled.cars
        if few < FEW_TRAINING_CARS:
            what = (
                f"{few} labelled car{plural_s(few)}"
                if distinct is not None
                else f"{few} labelled object{plural_s(few)} (distinct cars not known: "
                "chips may overlap)"
            )
            err_console.print(
                f"warning: {what} "
                f"{'is' if few == 1 else 'are'} few to fine-tune on (the "
                f"network may learn these images by heart); {FEW_TRAINING_CARS} or more "
                "are better, and measure the result on held-out images (railwatch eval)",
                style="yellow",
            )
        if labelled.unlabelled:
            more = " ..." if len(labelled.unlabelled) > 5 else ""
            err_console.print(
                f"not used (no label file): {len(labelled.unlabelled)} image(s), "
                f"{escape(', '.join(labelled.unlabelled[:5]))}{more}; give an image without "
                "cars a label file with no cars to train on it",
                style="yellow",
            )

    cfg = TrainConfig(
        scenes=scenes,
        epochs=epochs,
        seed=seed,
        styles=comma_list(styles),
        sim_fraction=sim_fraction,
        empty_fraction=empty_fraction,
        blur_max=blur_max,
        threads=threads,
        arch=arch,
        init=str(init) if init is not None else None,
        lr=lr,
        labels=str(labels) if labels is not None else None,
        labels_share=labels_share,
        gsd_range=(gsd_lo, gsd_hi),
        trackside=trackside,
        trackside_empty=trackside_empty,
        roofed_hoppers=roofed_hoppers,
        exact_paint=exact_paint,
        consistency=consistency,
        channels=channels if channels is not None else (init_width or TrainConfig.channels),
        device=run_on,
        amp=amp,
        bank_seeding="sequential" if workers is None else "per-draw",
        workers=workers or 1,
    )
    # after the options (TrainConfig checks them) and labels, their errors first; before
    # minutes of drawing crops (or hours of training: without onnx the export failed
    # at the end)
    require_train_extra()
    if run_on != "cpu":
        from railwatch.detect.train import device_description

        gpu = device_description(run_on).get("gpu", "?")
        err_console.print(f"training on {run_on} ({escape(str(gpu))}){', bf16' if amp else ''}")
    with progress_bar() as bar:
        task = bar.add_task("drawing training crops", total=scenes)
        bank = build_bank(
            cfg, progress=lambda i, n: bar.update(task, completed=i), labelled=labelled
        )
    n_cars = sum(len(b) for b in bank.boxes)
    err_console.print(
        f"{len(bank.images)} crop{plural_s(len(bank.images))}, {n_cars} car{plural_s(n_cars)} "
        f"({', '.join(f'{s}: {bank.sources.count(s)}' for s in sorted(set(bank.sources)))})"
    )
    net = train_model(bank, cfg, log=err_console.print)
    # in the card the export moves into place, not written after it: with --out the
    # --init file, the --init card is gone by then, and a Ctrl-C between lost its settings
    extra: dict[str, Any] = {}
    if labelled is not None:
        extra["labels"] = {**labelled.summary(), "crops": int(bank.sources.count("labels"))}
    decoding = decoding_entries(init, parent_card) if init is not None else {}
    path = export_onnx(net, out, cfg, bank, extra={**extra, **decoding})
    kept = [k for k in DECODING_KEYS if k in decoding]
    if kept:
        err_console.print(
            f"kept the --init weights' {', '.join(kept)} (re-choose them with "
            "`railwatch calibrate`)",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"wrote {escape(str(path))} and {escape(str(path.with_suffix('.json')))}")
    summary: dict[str, Any] = {
        "weights": file_entry(path),
        "card": file_entry(path.with_suffix(".json")),
        "crops": len(bank.images),
        "cars": n_cars,
        "crop_sources": {s: bank.sources.count(s) for s in sorted(set(bank.sources))},
        "scenes": cfg.scenes,
        "epochs": cfg.epochs,
        "seed": cfg.seed,
        "arch": cfg.arch,
        "channels": cfg.channels,
        "device": cfg.device,
        "init": cfg.init,
        "labels": (
            None
            if labelled is None
            else {
                "dir": str(labels),
                "images": len(labelled.images),
                "cars": labelled.cars,
                "distinct_cars": labelled.distinct_cars,
            }
        ),
        "kept_from_init": kept,
        "calibration": None,
    }
    if calibration_scenes > 0:
        from railwatch.cli.calibrate import calibrate

        summary["calibration"] = calibrate(
            path, scenes=calibration_scenes, styles=",".join(cfg.styles)
        )
    return summary


def _say_provenance(labelled: LabelledSet, verified_only: bool) -> None:
    """Where the labels come from (verified, the detector's, not said), and what a folder
    that mixes verified labels and the detector's means for training."""
    from railwatch.detect.labels import describe_provenance

    counts = labelled.provenance()
    err_console.print(
        f"labels' origin: {escape(describe_provenance(counts))}",
        highlight=False,
        soft_wrap=True,
    )
    if verified_only:
        dropped = [i.name for i in labelled.images if i.verified is not True]
        if dropped and counts["verified"]:
            err_console.print(
                f"--verified-only: training on the {counts['verified']} verified image(s); "
                f"left out {len(dropped)}: {escape(some(dropped, 5))}",
                highlight=False,
                soft_wrap=True,
            )
        return
    if counts["detector"]:
        mixed = (
            f"the folder mixes {counts['verified']} image(s) of verified labels with "
            if counts["verified"]
            else ""
        )
        err_console.print(
            f"warning: {mixed}{counts['detector']} image(s) of the detector's labels, not "
            "marked verified: where they were not corrected, the network is taught "
            "its own boxes, mistakes included. --verified-only trains on the verified ones "
            "only; import-labels --verified marks a set you have checked (a GeoJSON label "
            'file: a top-level "verified": true; `railwatch detect` output counts as the '
            "detector's while it keeps its 'detector' member, which QGIS's Save As drops)",
            style="yellow",
            highlight=False,
            soft_wrap=True,
        )


def _label_sources(labelled: LabelledSet) -> str:
    """What train --labels read, per folder and format: ``3 GeoJSON files, siteA: 12
    images of import-labels (coco)``."""
    groups: dict[tuple[str, str], int] = {}
    for item in labelled.images:
        folder = item.name.rsplit("/", 1)[0] if "/" in item.name else ""
        if item.label_path.name == "railwatch_labels.json":
            what = f"import-labels ({item.source})"
        else:
            what = {"geojson": "GeoJSON", "dota": "DOTA"}.get(item.source, item.source)
        groups[(folder, what)] = groups.get((folder, what), 0) + 1
    return ", ".join(
        f"{folder + ': ' if folder else ''}{n} image(s) of {what}"
        for (folder, what), n in sorted(groups.items())
    )


def check_out(out: Path) -> None:
    """An :class:`InputError` when ``--out`` cannot take the weights: a folder, or a path
    under a file or a folder that cannot be written; said before any training."""
    if str(out) == "-":
        # '-' is standard output elsewhere (`export -f csv -o -`, `detect -o -`); here it
        # wrote weights named '-' and '-.json' (until session 35)
        raise InputError(
            "--out - (standard output) is not for train: it writes an ONNX file and its "
            "card (NAME.json) beside it; give --out a file name, e.g. --out weights.onnx"
        )
    if out.is_dir():
        raise InputError(
            f"--out {out} is a folder: give the path of the ONNX file to write, e.g. "
            f"{out / 'railwatch_default.onnx'}"
        )
    from railwatch.detect.default import INT8_SUFFIX

    if out.suffix.lower() == ".json" or out.name.lower().endswith(INT8_SUFFIX):
        # NAME.json: the card (written beside the weights as NAME.json) replaced the
        # weights; NAME.int8.onnx is where `railwatch quantize` puts INT8 copies
        stem = out.name[: -len(INT8_SUFFIX)] if out.name.lower().endswith(INT8_SUFFIX) else out.stem
        raise InputError(
            f"--out {out}: the weights' card is written beside them as NAME.json and INT8 "
            f"copies as NAME{INT8_SUFFIX}; give the path of the fp32 ONNX file, e.g. "
            f"{out.with_name(stem + '.onnx')}"
        )
    refuse_folders(out, [out.with_suffix(".json")])
    for parent in out.parents:  # the deepest that exists: export_onnx makes the rest
        if parent.exists():
            if not parent.is_dir():
                raise InputError(
                    f"--out {out}: {parent} is a file, not a folder; give a path in a folder"
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InputError(
                    f"--out {out}: cannot write in {parent}; give a path in a folder you can "
                    "write to"
                )
            return


def refuse_folders(out: Path, paths: Iterable[Path]) -> None:
    """An :class:`InputError` when one of ``paths``, files that ``train --out OUT`` writes
    beside the weights (their card ``NAME.json``; with ``--recipe`` also the stages' and
    the INT8 file), is a folder: said before any training, which the export or the
    recipe's step would otherwise lose at its end."""
    for path in paths:
        if path.is_dir():
            raise InputError(
                f"--out {out}: {path} is a folder, where {path.name} is to be written beside "
                "the weights: move that folder away, or give another --out"
            )


#: What ``--recipe default`` reads of the training options; the recipe fixes the rest
#: (``detect.train.DEFAULT_RECIPE``). ``--init``, ``--labels`` and ``--channels`` are
#: refused with their own words.
RECIPE_OPTIONS = ("--out", "--threads", "--device", "--amp", "--workers")


def check_recipe_options(recipe: str, values: Mapping[str, Any]) -> None:
    """An :class:`InputError` for an unknown ``recipe``, or naming the options in
    ``values`` (``train``'s parameters by name) given other than their defaults, which
    the recipe does not read: they were ignored without a word, and ``--recipe default
    --scenes 2`` started the full run of about an hour. Before anything is drawn."""
    import inspect

    if recipe != "default":
        raise InputError(f"unknown --recipe {recipe!r}: the only recipe is 'default'")
    defaults = {k: p.default for k, p in inspect.signature(train).parameters.items()}
    given = []
    for name, value in values.items():
        default = defaults[name]
        if name == "styles":
            differs = comma_list(value) != comma_list(default)
        elif name == "gsd_range" and value != default:
            differs = _gsd_range_or_none(value) != TrainConfig.gsd_range
        else:
            differs = value != default
        if differs:
            given.append("--" + name.replace("_", "-"))
    if given:
        raise InputError(
            "--recipe default makes the shipped weights again with fixed settings (each "
            "stage's crops, epochs, seed, learning rate and styles, the covered-head re-fit, "
            "the calibration and the quantisation; see docs/detection.md): of the training "
            f"options it reads only {', '.join(RECIPE_OPTIONS)}. Leave out "
            f"{', '.join(given)}, or leave out --recipe to train with them"
        )


def _gsd_range_or_none(value: str) -> tuple[float, float] | None:
    """``--gsd-range`` parsed, or None when it does not parse (then it differs)."""
    try:
        return parse_gsd_range(value)
    except InputError:
        return None


def parse_gsd_range(value: str) -> tuple[float, float]:
    """``--gsd-range MIN,MAX`` as two floats, 0 < MIN <= MAX <= ``MAX_GSD`` (the detector
    refuses coarser tiles); an ``InputError`` naming the option otherwise."""
    parts = comma_list(value)
    try:
        lo, hi = (float(p) for p in parts) if len(parts) == 2 else (float("nan"),) * 2
    except ValueError:
        lo = hi = float("nan")
    if not (0.0 < lo <= hi <= MAX_GSD):
        raise InputError(
            f"--gsd-range {value!r}: give MIN,MAX in metres per pixel with "
            f"0 < MIN <= MAX <= {MAX_GSD:g}, e.g. 0.6,1.1"
        )
    return lo, hi


def covered_config(
    *,
    scenes: int,
    epochs: int,
    seed: int,
    lr: float,
    styles: str,
    sim_fraction: float,
    threads: int,
    roofed_hoppers: float = 0.0,
) -> CoveredConfig:
    """The covered-head re-fit's settings from ``train``'s options (or the recipe's
    ``covered_head`` step), checked (an :class:`InputError` naming the option) before
    any crop is drawn and before torch is needed."""
    from railwatch.detect.covered_head import CoveredConfig

    return CoveredConfig(
        scenes=scenes,
        epochs=epochs,
        seed=seed,
        lr=lr,
        styles=comma_list(styles),
        sim_fraction=sim_fraction,
        threads=threads,
        roofed_hoppers=roofed_hoppers,
    )


def _covered_head(init: Path, out: Path, cfg: CoveredConfig) -> dict[str, Any]:
    """``--covered-head``: re-fit the covered output of ``init`` (``detect.covered_head``)
    and write ``out`` with ``init``'s card plus a ``covered_head`` entry; what was written
    (``train --json``'s object)."""
    from railwatch.detect.covered_head import refit_covered_head

    with progress_bar() as bar:
        task = bar.add_task("drawing training crops", total=cfg.scenes)
        entry = refit_covered_head(
            init,
            out,
            cfg,
            log=err_console.print,
            progress=lambda i, n: bar.update(task, completed=i),
        )
    fit = entry["fit"]
    if fit["val_cars"]:
        before = fit.get("before", {}).get("val_acc", float("nan"))
        err_console.print(
            f"covered accuracy on the held-out crops' cars: {100 * before:.1f} % -> "
            f"{100 * fit['after']['val_acc']:.1f} % ({fit['val_cars']} "
            f"car{plural_s(fit['val_cars'])})"
        )
    else:  # it said 'nan % -> nan % (0 cars)'
        err_console.print(
            f"no car in the held-out crops ({100 * cfg.val_share:g} % of the "
            f"{cfg.scenes} crop{plural_s(cfg.scenes)}): the covered accuracy is not measured; "
            "give more --scenes to measure it",
            style="yellow",
        )
    console.print(f"wrote {escape(str(out))} and {escape(str(out.with_suffix('.json')))}")
    return {
        "weights": file_entry(out),
        "card": file_entry(out.with_suffix(".json")),
        "init": str(init),
        "covered_head": {
            "scenes": cfg.scenes,
            "epochs": cfg.epochs,
            "val_cars": fit["val_cars"],
            "val_acc_before": fit.get("before", {}).get("val_acc") if fit["val_cars"] else None,
            "val_acc_after": fit["after"]["val_acc"] if fit["val_cars"] else None,
        },
    }


def _run_recipe(
    recipe: str,
    out: Path,
    threads: int,
    *,
    init: Path | None,
    labels: Path | None,
    device: str = "cpu",
    amp: bool = False,
    workers: int | None = None,
) -> dict[str, Any]:
    """``--recipe default``: the stages of ``detect.train.DEFAULT_RECIPE``, each from the
    previous stage's weights (kept as ``OUT.stageN.onnx``), then (when the recipe has a
    ``covered_head`` step) the re-fit of the covered output on the frozen network, then
    the calibration, then the INT8 quantisation (``railwatch quantize``, default
    settings; ``OUT.int8.onnx``); what was written (``train --json``'s object)."""
    from railwatch.cli.calibrate import calibrate
    from railwatch.detect.train import DEFAULT_RECIPE

    if recipe != "default":  # checked first by check_recipe_options; kept for callers
        raise InputError(f"unknown --recipe {recipe!r}: the only recipe is 'default'")
    if init is not None or labels is not None:
        raise InputError(
            "--recipe default trains from scratch on rendered yards: leave out --init and "
            "--labels (to fine-tune on your labels, use --labels --init default instead)"
        )
    stages = DEFAULT_RECIPE["stages"]
    covered = DEFAULT_RECIPE.get("covered_head")
    from railwatch.detect.quantize import int8_path

    # the stages' weights and cards, and the INT8 copy: refused now, not an hour later
    last = len(stages) if covered else len(stages) - 1  # else the last stage writes --out
    staged = [out.with_suffix(f".stage{k}.onnx") for k in range(1, last + 1)]
    refuse_folders(
        out, [p for st in staged for p in (st, st.with_suffix(".json"))] + [int8_path(out)]
    )
    seconds: dict[str, float] = {}
    t_all = time.time()
    previous: Path | None = None
    stage_paths: list[Path] = []
    covered_summary: dict[str, Any] | None = None
    for k, stage in enumerate(stages, start=1):
        last = k == len(stages) and not covered
        target = out if last else out.with_suffix(f".stage{k}.onnx")
        err_console.print(f"recipe 'default', stage {k}/{len(stages)}: {stage}")
        t = time.time()
        train(
            out=target,
            threads=threads,
            init=previous,
            calibration_scenes=0,
            device=device,
            amp=amp,
            workers=workers,
            **stage,
        )
        seconds[f"stage{k}"] = round(time.time() - t, 1)
        previous = target
        stage_paths.append(target)
    if covered and previous is not None:
        # v2.2: the covered (tarpaulin) output re-fitted on the frozen network
        err_console.print(f"recipe 'default', covered head: {covered}")
        t = time.time()
        covered_summary = _covered_head(previous, out, covered_config(threads=threads, **covered))
        seconds["covered_head"] = round(time.time() - t, 1)
    from railwatch.detect.train import record_stages

    record_stages(out, stage_paths)
    cal = DEFAULT_RECIPE["calibrate"]
    err_console.print(f"recipe 'default', calibration: {cal}")
    t = time.time()
    # every key of the recipe's entry is an option of `railwatch calibrate` (none is
    # dropped: a key calibrate does not know fails here instead of being ignored)
    cal_summary = calibrate(out, **cal)
    seconds["calibrate"] = round(time.time() - t, 1)
    from railwatch.cli.quantize import quantize

    err_console.print(f"recipe 'default', INT8: {DEFAULT_RECIPE.get('quantize', {})}")
    t = time.time()
    int8 = quantize(out, **DEFAULT_RECIPE.get("quantize", {}))
    seconds["quantize"] = round(time.time() - t, 1)
    seconds["total"] = round(time.time() - t_all, 1)
    _record_recipe(out, threads, seconds, device=device, amp=amp, workers=workers)
    err_console.print(
        "recipe 'default' done: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in seconds.items())
    )
    return {
        "recipe": recipe,
        "weights": file_entry(out),
        "card": file_entry(out.with_suffix(".json")),
        "stages": [file_entry(p) for p in stage_paths],
        "covered_head": covered_summary["covered_head"] if covered_summary else None,
        "calibration": cal_summary,
        "int8": int8,
        "seconds": seconds,
    }


def _record_recipe(
    out: Path,
    threads: int,
    seconds: dict[str, float],
    *,
    device: str = "cpu",
    amp: bool = False,
    workers: int | None = None,
) -> None:
    """The ``recipe`` entry of the final card: the recipe's steps as run, the command,
    the wall time of each step, the versions of the numerical libraries (the bytes
    depend on them and on the CPU), and, trained on a GPU, which one."""
    from railwatch.detect.calibration import update_card
    from railwatch.detect.train import DEFAULT_RECIPE, library_versions, machine_description

    command = f"railwatch train --recipe default --out {out} --threads {threads}"
    if device != "cpu":
        command += f" --device {device}" + (" --amp" if amp else "")
    if workers is not None:
        command += f" --workers {workers}"
    entry = {
        "name": "default",
        "command": command,
        "steps": json.loads(json.dumps(DEFAULT_RECIPE)),
        "seconds": seconds,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_description(),
        "versions": library_versions(),
    }
    if device != "cpu":
        from railwatch.detect.train import device_description

        entry["device"] = device_description(device)  # the GPU the stages trained on
    update_card(out, {"recipe": entry})


#: What the card of the ``--init`` weights says about decoding their output, carried over
#: to the fine-tuned weights' card: the detection threshold, the string support
#: thresholds (and their coarse pair and string pairs), the across-track refiner and the
#: opt-in verifier. None of them is learned by ``train``: without them a fine-tuned copy
#: of the shipped weights decoded with the bare defaults (no refiner, no string pairs,
#: one string threshold pair for every resolution) and lost about 0.02 F1 on the
#: development scenes for that alone (session 26).
DECODING_KEYS = (
    "threshold",
    "string_thresholds",
    "string_thresholds_coarse",
    "refine",
    "verify",
)


def decoding_entries(init: Path, parent: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`DECODING_KEYS` of the ``--init`` weights' card (``parent``, read before
    training: ``--out`` may be the ``--init`` file, whose card the export rewrites) as
    entries of the new card, with ``decoding_from`` (and ``threshold_from``) naming
    ``init``; empty when that card has none."""
    entries: dict[str, Any] = {}
    for key in DECODING_KEYS:
        value = parent.get(key)
        if value is None:
            continue
        if key == "threshold" and (isinstance(value, bool) or not isinstance(value, int | float)):
            continue
        entries[key] = float(value) if key == "threshold" else value
    if not entries:
        return {}
    if "threshold" in entries:
        entries["threshold_from"] = str(init)
    return {**entries, "decoding_from": str(init)}


def _keep_decoding(init: Path, out: Path, parent: Mapping[str, Any]) -> list[str]:
    """Carry :func:`decoding_entries` over to the card of the weights ``out`` already
    written (``train`` puts them in the exported card itself); the keys carried."""
    from railwatch.detect.calibration import update_card

    entries = decoding_entries(init, parent)
    if entries:
        update_card(out, entries)
    return [k for k in DECODING_KEYS if k in entries]


def register(app: typer.Typer) -> None:
    app.command("train")(train)
