"""``railwatch eval``: score detections against ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from railwatch.cli._common import (
    console,
    err_console,
    parse_radiometry_option,
    plural_s,
    print_json,
    print_table,
    radiometry_option,
)
from railwatch.errors import InputError, RailwatchError, some

if TYPE_CHECKING:
    from railwatch.detect.eval import LabelledTruth, Pairing, SceneEval
    from railwatch.imagery.read import Radiometry

#: Why a prediction file is left out when it matches no truth (warned of), as
#: :data:`railwatch.detect.eval.NO_TRUTH` says it (not imported: the CLI starts fast).
NO_TRUTH = "matches no truth file"


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.1f} %" if pct else f"{x:.3g}" if isinstance(x, float) else str(x)


def _match_row(label: str, g: dict[str, Any]) -> list[str]:
    """Group, scenes, then precision, recall and F1 at IoU 0.3 and 0.5; "–" where no box
    was matched, found or missed (no true car and no detection: the scenes reviewed by
    count only, which `eval --site` showed as a perfect 1, 1, 1)."""
    boxes = g.get("iou0.3")
    # the scenes matched box by box (not those reviewed by count only)
    n = boxes["scenes"] if boxes and "scenes" in boxes else g.get("scenes", g["count"]["scenes"])
    cells = [label, str(n)]
    for key in ("iou0.3", "iou0.5"):
        m = g.get(key)
        if m and (m.get("tp"), m.get("fp"), m.get("fn")) != (0, 0, 0):
            cells += [_fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"])]
        else:
            cells += ["–"] * 3
    return cells


def _match_caption(groups: list[tuple[str, dict[str, Any]]]) -> str | None:
    """What a "–" in the box table means, where one is shown (session 49: an empty yard
    read as empty showed a row of "–" without a word): precision is undefined where
    nothing was detected, recall where the truth has no car, F1 where neither was a box
    found or missed; 0 where boxes were found or missed and none matched."""
    for _, g in groups:
        for key in ("iou0.3", "iou0.5"):
            m = g.get(key)
            if m and None in (m.get("precision"), m.get("recall"), m.get("f1")):
                return (
                    "–: nothing to measure (precision: nothing detected; recall: no car in "
                    "the truth; F1: neither a car found nor missed, e.g. an empty yard read "
                    "as empty)"
                )
    return None


def _count_row(label: str, g: dict[str, Any]) -> list[str]:
    """Group, then the count errors and the covered and type attributes."""
    c = g["count"]
    return [
        label,
        _fmt(c["mae"]),
        _fmt(c["mape"], pct=True),
        "–" if c.get("net_relative_error") is None else f"{100 * c['net_relative_error']:+.1f} %",
        _fmt(c["within_15pct"], pct=True),
        _fmt(g.get("covered_accuracy"), pct=True),
        _fmt(g.get("typed_share"), pct=True),
        _fmt(g.get("typed_accuracy"), pct=True),
    ]


def _say_empty_truth(c: dict[str, Any]) -> None:
    """Under the counts: the scenes without a car in the truth, which count MAPE and
    within ±15 % leave out (a relative error of 0 cars is undefined), and what was
    predicted in them (since 2026-12-06, session 39: an empty yard given 21 false cars
    showed MAPE 0 % and 100 % within ±15 % over all the scenes, without a word)."""
    empty = c.get("empty_truth_scenes") or 0
    if not empty:
        return
    n = c["scenes"]
    wrong = c.get("empty_truth_with_predictions") or 0
    rel = c.get("relative_scenes") or 0
    total = f"{c['empty_truth_predicted']:g}"
    if rel:
        over = (
            f"count MAPE and within ±15 % are over the {rel} of {n} scenes with cars in the "
            "truth (a relative error is undefined at 0 cars)"
        )
    else:
        over = "count MAPE and within ±15 % are undefined: no scene has a car in the truth"
    if empty == 1:
        said = f"{total} predicted there" if wrong else "nothing predicted there"
    elif wrong:
        said = f"{wrong} of them {'has' if wrong == 1 else 'have'} predictions, {total} in all"
    else:
        said = "none has a prediction"
    console.print(
        f"{over}; {empty} scene{plural_s(empty)} without a car in the truth: {said}"
        + ((" (in count MAE and net count)." if rel else " (in count MAE).") if wrong else "."),
        highlight=False,
    )


def _presence_row(label: str, g: dict[str, Any]) -> list[str] | None:
    """Group, then its presence scenes' long-train flags scored (None without any)."""
    p = g.get("presence")
    if not p:
        return None
    return [
        label,
        str(p["scenes"]),
        str(p["right"]),
        str(p["wrong"]),
        str(p["missed"]),
        str(p["false_alarms"]),
        str(p["unknown"]),
        _fmt(p["accuracy"], pct=True),
    ]


_SHOWN = 10  # file names listed in one message, then "and N more"


def _names(paths: list[str]) -> str:
    return some(paths, _SHOWN)


def _rel(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _check_pairing(truth: Path, pred: Path | None, verified_only: bool = False) -> Pairing | None:
    """Pair the files before any scene is evaluated (:func:`~railwatch.detect.eval.
    pair_files`): an :class:`InputError` naming every truth file without its prediction
    in ``pred`` (or, without ``pred``, its image beside it), so that nothing is evaluated
    (before, evaluation stopped at the first one, after the scenes before it had been
    evaluated, a detector run on each). Folders that do not exist are left to
    :func:`~railwatch.detect.eval.evaluate_dirs` to refuse (None)."""
    from railwatch.detect.eval import pair_files

    if not truth.is_dir() or (pred is not None and not pred.is_dir()):
        return None
    pairing = pair_files(truth, pred, verified_only=verified_only)
    n = len(pairing.scenes)
    if pairing.labelled is not None:
        missing = [t.scene for t in pairing.unmatched]
        if not missing:
            return pairing
        extra = (
            [_rel(f, pred) for f, why in pairing.pred_left_out if why == NO_TRUTH] if pred else []
        )
        raise InputError(
            f"{len(missing)} of the {n} labelled images in {truth} have no prediction in "
            f"{pred}: {_names(missing)} (expected NAME.detections.geojson, as `railwatch "
            "detect --out-dir` writes for image NAME.png)"
            + (f"; prediction files there that match no image: {_names(extra)}" if extra else "")
            + "; nothing was evaluated"
        )
    missing = [_rel(t.truth, truth) for t in pairing.unmatched]
    if not missing:
        return pairing
    if pred is None:
        raise InputError(
            f"{len(missing)} of the {n} truth files in {truth} have no image "
            f"NAME.tif/.png beside them for --detector to run on: {_names(missing)}; "
            "nothing was evaluated"
        )
    extra = [_rel(f, pred) for f, _ in pairing.pred_left_out]
    raise InputError(
        f"{len(missing)} of the {n} truth files in {truth} have no prediction "
        f"in {pred}: {_names(missing)} (expected NAME.detections.geojson, as "
        "`railwatch detect --out-dir` writes, for truth NAME.truth.geojson)"
        + (f"; prediction files there that match no truth: {_names(extra)}" if extra else "")
        + "; nothing was evaluated (a scene the detector failed on has no score: run "
        "it again, or move its truth file out of the folder)"
    )


def _say_labels_read(labelled: LabelledTruth, truth: Path) -> None:
    """What a training-labels folder gave as truth: images, cars, formats, and that the
    covered flag is not judged where the labels have none."""
    n, cars = len(labelled.scenes), labelled.cars
    classes = ", ".join(f"{c} {k}" for c, k in labelled.by_class.items())
    sources = ", ".join(f"{k} {src}" for src, k in labelled.sources.items())
    err_console.print(
        f"truth: {n} labelled image{'s' if n != 1 else ''} with {cars} "
        f"car{'s' if cars != 1 else ''} ({escape(classes) or 'none'}) read from "
        f"{escape(str(truth))} as `railwatch train --labels` reads it ({escape(sources)})",
        highlight=False,
        soft_wrap=True,
    )
    from railwatch.detect.labels import describe_provenance

    counts = labelled.provenance
    only = (
        f"; --verified-only scores the {n} verified image{'s' if n != 1 else ''} only"
        if labelled.verified_only
        else ""
    )
    err_console.print(
        f"truth labels' origin: {escape(describe_provenance(counts))}{only}",
        highlight=False,
        soft_wrap=True,
    )
    if counts.get("detector") and not labelled.verified_only:
        v = counts.get("verified", 0)
        mixed = f"{v} verified image{'s' if v != 1 else ''} and " if v else ""
        err_console.print(
            f"[bold yellow]warning:[/] the truth holds {mixed}{counts['detector']} "
            f"image{'s' if counts['detector'] != 1 else ''} of the detector's labels, not "
            "marked verified: where they were not corrected, the scores measure "
            "agreement with that detector, not accuracy. --verified-only scores against "
            "the verified ones only",
            highlight=False,
            soft_wrap=True,
        )
    blind = sum(1 for t in labelled.scenes if not t.covered_known)
    if blind:
        err_console.print(
            f"note: {blind} of them {'has' if blind == 1 else 'have'} labels without a covered "
            "flag (DOTA, YOLO-OBB): they are in no covered accuracy (import COCO labels "
            "to judge tarpaulins)",
            highlight=False,
            soft_wrap=True,
        )


def _say_own_radiometry(pairing: Pairing, given: Radiometry) -> None:
    """A note naming the images whose files say another radiometry than --radiometry:
    they are read as they say (the option is the default for the others)."""
    own = [t for t in pairing.scenes if t.radiometry is not None and t.radiometry != given]
    if not own:
        return
    names = _names([f"{t.scene} ({t.radiometry})" for t in own])
    err_console.print(
        f"note: {len(own)} image{'s say' if len(own) != 1 else ' says'} how to read "
        f"{'it' if len(own) == 1 else 'them'} (the label or truth file's 'radiometry', or "
        f"the sidecar's), which wins over --radiometry {given}: {escape(names)}",
        highlight=False,
        soft_wrap=True,
    )


def _say_frames_moved(scenes: list[SceneEval]) -> None:
    """A note (stderr) naming the scenes whose truth or predictions came in the pixels of
    a georeferenced image (an export-labels chip) and were placed in its CRS to be scored
    (each scene's row says it too: ``frame_moved``; session 35)."""
    moved = [s for s in scenes if s.frame_moved is not None]
    if not moved:
        return
    n = len(moved)
    err_console.print(
        f"note: {n} scene{plural_s(n)} came with truth and predictions in different frames "
        "(pixels and a CRS): the side in pixels was placed in the CRS by its image's "
        f"georeference, e.g. {escape(moved[0].name)}: {escape(moved[0].frame_moved or '')}",
        highlight=False,
        soft_wrap=True,
    )


def _say_detector_truth(scenes: list[SceneEval]) -> None:
    """A warning naming the truth files that are `railwatch detect`'s output as it wrote
    it (its 'detector' and 'detector_version', not marked verified): scored against
    them, a detector is measured for agreement with the one that made them, not accuracy
    (session 49: `detect`'s output copied as NAME.truth.geojson scored F1 1 without a
    word; a labels folder said so already)."""
    named = [s.name for s in scenes if s.truth_format is None and s.truth_verified is False]
    if not named:
        return
    n = len(named)
    err_console.print(
        f"[bold yellow]warning:[/] {n} truth file{plural_s(n)} {'is' if n == 1 else 'are'} "
        f"railwatch detect's output as it wrote {'it' if n == 1 else 'them'} (top-level "
        f"'detector', not marked verified): {escape(_names(named))}. Where not corrected, "
        "the scores measure agreement with that detector, not accuracy: correct "
        f"{'it' if n == 1 else 'them'} (QGIS: save as NAME.truth.geojson) or add "
        '"verified": true to a file you have checked',
        highlight=False,
        soft_wrap=True,
    )


def _left_out(pairing: Pairing, truth: Path, pred: Path | None) -> list[dict[str, str]]:
    """The files found but not evaluated, each with why (for the report)."""
    out = [
        {"file": _rel(f, truth), "folder": "truth", "reason": why}
        for f, why in pairing.truth_left_out
    ]
    if pred is not None:
        out += [
            {"file": _rel(f, pred), "folder": "pred", "reason": why}
            for f, why in pairing.pred_left_out
        ]
    return out


def eval_command(
    ctx: typer.Context,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help=(
                "Folder of truth files NAME.truth.geojson or NAME.labels.geojson (the "
                "simulator's, or drawn in a GIS tool; subfolders too, names in any case), "
                "or of training labels (the folder import-labels writes, an export-labels "
                "DOTA folder), read as 'railwatch train --labels' reads it."
            ),
        ),
    ] = None,
    pred: Annotated[
        Path | None,
        typer.Option(
            "--pred",
            help="Directory of NAME.detections.geojson (railwatch detect; in any CRS, "
            "--wgs84 output too: reprojected to the truth's).",
        ),
    ] = None,
    detector: Annotated[
        str | None,
        typer.Option("--detector", help="Run this detector on the truth dir's images instead."),
    ] = None,
    radiometry: Annotated[
        str | None,
        radiometry_option(
            "With --detector: how to read 16-bit and float images (as 'railwatch "
            "detect --radiometry'; default linear) whose files do not say: an image whose "
            "label or truth file (top-level 'radiometry') or sidecar NAME.json says it is "
            "read so, whatever this option says. 8-bit images are read as they are."
        ),
    ] = None,
    verified_only: Annotated[
        bool,
        typer.Option(
            "--verified-only",
            help="With a training-labels --truth folder: score only the images whose labels "
            "are verified (an analyst's outlines, import-labels --verified); the others "
            "are left out, with why.",
        ),
    ] = False,
    site: Annotated[
        str | None,
        typer.Option(
            "--site",
            help="Score the detector's stored results of this site against your reviews "
            "(railwatch scene review): boxes where you gave outlines, counts where you gave "
            "counts. Instead of --truth.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Score detections against truth: oriented-polygon IoU matching, precision, recall and
    F1 at IoU 0.3 and 0.5, count errors per scene, class and resolution, covered accuracy,
    and the share of matched cars given a type ("typed") with how often that type is right.
    10 m scenes (presence: whether a long train, 300 m of occupied track, is there) are
    scored on that flag against the truth's total box length, never as a count.

    Example: [bold]railwatch eval --truth bench/ --pred out/[/]
    or [bold]railwatch eval --truth bench/ --detector default --json[/]
    or, against your reviews of a site's scenes, [bold]railwatch eval --site tumangang[/]
    """
    from railwatch.detect.eval import evaluate_dirs, summarise

    if site is not None:
        if truth is not None or pred is not None or detector is not None or radiometry:
            raise InputError(
                "--site scores the stored results against your reviews: give it alone "
                "(not with --truth, --pred, --detector or --radiometry)"
            )
        if verified_only:
            raise InputError(
                "--site scores against your reviews, which are all verified: leave out "
                "--verified-only (it picks among the images of a --truth labels folder)"
            )
        _print_report(*_review_report(ctx, site), as_json=as_json)
        return
    if truth is None:
        raise InputError(
            "give --truth DIR (with --pred DIR or --detector NAME), or --site SITE to score "
            "the stored results against your reviews"
        )
    if (pred is None) == (detector is None):
        raise InputError("give --pred DIR or --detector NAME (one of them)")
    if radiometry is not None and detector is None:
        raise InputError(
            "--radiometry says how --detector reads the images; with --pred the detections "
            "were made already (give it to 'railwatch detect')"
        )
    radio: Radiometry = parse_radiometry_option(radiometry) or "linear"
    pairing = _check_pairing(truth, pred, verified_only)
    left_out = _left_out(pairing, truth, pred) if pairing is not None else []
    extra = [d["file"] for d in left_out if d["folder"] == "pred" and d["reason"] == NO_TRUTH]
    if extra:
        err_console.print(
            f"[bold yellow]warning:[/] {len(extra)} prediction "
            f"{'file' if len(extra) == 1 else 'files'} in {escape(str(pred))} "
            f"{'matches' if len(extra) == 1 else 'match'} no truth file and "
            f"{'is' if len(extra) == 1 else 'are'} not evaluated: {escape(_names(extra))}",
            highlight=False,
            soft_wrap=True,
        )
    labelled = pairing.labelled if pairing is not None else None
    if labelled is not None:
        _say_labels_read(labelled, truth)
    if detector is not None and pairing is not None:
        from railwatch.detect.eval import with_radiometry

        pairing = with_radiometry(pairing)  # every file read before a detector runs
        if radiometry is not None:
            _say_own_radiometry(pairing, radio)
    for d in left_out:
        if d["folder"] == "truth":
            err_console.print(
                f"[bold yellow]warning:[/] {escape(d['file'])} in {escape(str(truth))} is not "
                f"evaluated: {escape(d['reason'])}",
                highlight=False,
                soft_wrap=True,
            )
    predict = None
    if detector is not None:
        from railwatch.detect.api import detect_file
        from railwatch.detect.coarse import long_train_flag
        from railwatch.detect.eval import Prediction
        from railwatch.detect.geojson import FeatureSet
        from railwatch.detect.registry import get_detector

        det = get_detector(detector)
        from railwatch.cli.detect import say_not_railcars

        say_not_railcars(det)

        def predict(
            image: Path, gsd: float | None, truth: FeatureSet, radiometry: Radiometry
        ) -> Prediction:
            # coarse scenes use the truth file's track centrelines when it has them (not
            # scenes counted car by car: detect_file would keep only the cars near them
            # since session 44, and the detector is scored as `detect` alone reads it);
            # radiometry: the image's own where its files say, else --radiometry
            tracks_crs = truth.crs or "EPSG:4326"
            r = detect_file(
                image,
                gsd=gsd,
                detector=det,
                tracks=None if _car_by_car(image, gsd) else truth.tracks,
                tracks_crs=tracks_crs,
                radiometry=radiometry,
                check_scale=False,  # the labels' gsd is scored as given, not checked
            )
            cars = r.coarse.car_equivalents if r.coarse is not None else None
            no_flag = (
                r.method == "presence"
                and r.coarse is not None
                and long_train_flag(r.coarse, r.tracks) is None
            )
            if no_flag:
                cars = None  # no flag where none was read, nor one made up from a length
            features = FeatureSet(r.detections, r.crs, r.gsd, None, r.method, cars)
            if r.coarse is None:
                return Prediction(features, radiometry=r.radiometry)
            # given lines that read no track: no flag (as `railwatch detect` says); a
            # 1.5-5 m estimate that read no track measured nothing (no 0 in the errors)
            unread = r.coarse.track_m == 0.0 and r.tracks == "given"
            unread |= no_flag  # at 10 m: coarse.long_train_flag
            measured = not (r.method == "length" and r.coarse.track_m == 0.0)
            present = None if unread else r.coarse.present
            return Prediction(features, present, measured, radiometry=r.radiometry)

    def on_scene(name: str) -> None:
        if not as_json:
            err_console.print(f"evaluated {escape(name)}", style="dim", highlight=False)

    scenes = evaluate_dirs(
        truth,
        pred_dir=pred,
        predict=predict,
        on_scene=on_scene,
        pairing=pairing,
        radiometry=radio if radiometry is not None else None,
    )
    _say_frames_moved(scenes)
    _say_detector_truth(scenes)
    report = summarise(scenes)
    # which files were paired is in each scene's row (truth_file, pred_file/image_file)
    report["left_out"] = left_out
    if labelled is not None:
        report["truth"] = labelled.as_dict()
    _print_report(
        report, len(scenes), sum(1 for sc in scenes if sc.method != "objects"), as_json=as_json
    )


def _review_report(ctx: typer.Context, site: str) -> tuple[dict[str, Any], int, int]:
    """The report of ``railwatch eval --site``: the stored results against the reviews."""
    from railwatch.cli.site import open_db
    from railwatch.detect.eval import summarise
    from railwatch.review import evaluate_reviews

    db = open_db(ctx)
    with db.session(readonly=True) as s:
        ev = evaluate_reviews(s, site)
    if not ev.scenes:
        why = (
            f"; {len(ev.left_out)} review{plural_s(len(ev.left_out))} left out: "
            + "; ".join(f"scene {d['scene_id']}: {d['reason']}" for d in ev.left_out)
            if ev.left_out
            else ""
        )
        # status 1, not 2: nothing on the command line is wrong (an unknown site is
        # status 1 too); the site has nothing to score yet (session 31)
        raise RailwatchError(
            f"site {site!r} has no reviewed scene to score{why}. Review some first: "
            "`railwatch scene review ID --cars corrected.geojson` (or --count N)"
        )
    report = summarise(ev.scenes)
    report["left_out"] = list(ev.left_out)
    report["reviews"] = {"outlines": ev.outlines, "counts_only": ev.counts_only}
    err_console.print(
        f"{len(ev.scenes)} reviewed scene{plural_s(len(ev.scenes))} of {escape(site)}: "
        f"{ev.outlines} with your "
        f"outlines (boxes matched), {ev.counts_only} with your counts only (count errors "
        "only)" + (f"; {len(ev.left_out)} left out" if ev.left_out else ""),
        highlight=False,
    )
    for d in ev.left_out:
        err_console.print(
            f"[bold yellow]warning:[/] scene {d['scene_id']} is not evaluated: "
            f"{escape(d['reason'])}",
            highlight=False,
        )
    report["reviews"]["unchanged"] = list(ev.unchanged)
    if ev.unchanged:
        n = len(ev.unchanged)
        err_console.print(
            f"[bold yellow]note:[/] {n} of the {ev.outlines} review{plural_s(ev.outlines)} "
            f"with outlines kept the detector's cars unchanged (scene{plural_s(n)} "
            f"{', '.join(map(str, ev.unchanged))}): {'it scores' if n == 1 else 'they score'} "
            "as perfect, which measures the detector only if you checked every car on the "
            "image. Correct the outlines (`railwatch scene cars ID -o cars.geojson`, edit, "
            "`railwatch scene review ID --cars cars.geojson`) where it missed or invented a car.",
            highlight=False,
        )
    coarse = sum(1 for sc in ev.scenes if sc.method != "objects")
    return report, len(ev.scenes), coarse


def _heading(report: dict[str, Any], n_scenes: int, coarse: int) -> str:
    """The evaluation's heading, saying what was evaluated: how many scenes were matched
    box by box (the table's "scenes") and what the others were compared by. A scene
    reviewed by count only (`scene review ID --count N`) has no box labels and a scene at
    1.5 m and coarser (``coarse``: counted by track length, or a 10 m presence flag) no
    boxes: neither is matched box by box (2026-12-06, session 40: `eval --site` of
    count-only reviews read "Detection evaluation (1 scene): boxes matched" over a table
    of 0 scenes)."""
    boxes = report["overall"].get("iou0.3") or {}
    boxed = int(boxes.get("scenes", 0))
    counted = max(n_scenes - coarse - boxed, 0)  # cars counted one by one, no box labels
    head = f"Detection evaluation ({n_scenes} scene{plural_s(n_scenes)})"
    if boxed == n_scenes:
        return head + ": boxes matched"
    # short enough for an 80-column terminal, where a title runs on past the edge
    if boxed:
        said = [f"boxes matched in {boxed}"]
    else:
        said = ["no box labels" if counted and not coarse else "no boxes matched"]
    if counted:
        said.append(f"{counted} reviewed by count only")
    if coarse:
        said.append(f"{coarse} at 1.5 m and coarser")
    return f"{head}: " + "; ".join(said)


def _print_report(report: dict[str, Any], n_scenes: int, coarse: int, *, as_json: bool) -> None:
    """The evaluation's tables (or its JSON)."""
    if as_json:
        print_json(report)
        return
    # two tables of at most 8 columns, so that each fits an 80-column terminal (one table
    # of 14 was cut to unreadable "0.…" cells there)
    groups = [("all", report["overall"])]
    groups += [(f"{res} m", g) for res, g in report["by_resolution"].items()]
    table = Table(title=_heading(report, n_scenes, coarse), caption=_match_caption(groups))
    for col in ("group", "scenes", "P@.3", "R@.3", "F1@.3", "P@.5", "R@.5", "F1@.5"):
        table.add_column(col, justify="left" if col == "group" else "right")
    counts = Table(title="Counts per scene and attributes of matched cars")
    for col in (
        "group",
        "count\nMAE",
        "count\nMAPE",
        "net\ncount",
        "within\n±15 %",
        "covered\nright",
        "typed",
        "typed\nright",
    ):
        counts.add_column(col, justify="left" if col == "group" else "right")
    for i, (label, g) in enumerate(groups):
        style = "bold" if i == 0 else None
        table.add_row(*_match_row(label, g), style=style)
        counts.add_row(*_count_row(label, g), style=style)
    print_table(table)
    print_table(counts)
    _say_empty_truth(report["overall"]["count"])
    unmeasured = report["overall"]["count"].get("not_measured")
    if unmeasured:
        console.print(
            f"{unmeasured} scene{'s' if unmeasured != 1 else ''} at 1.5-5 m read no track "
            "(centrelines under cloud, or no line found) and measured nothing: left out of "
            "the count errors, as `railwatch process` leaves them uncounted.",
            highlight=False,
        )
    presence = [(label, row) for label, g in groups if (row := _presence_row(label, g))]
    if presence:
        flags = Table(
            title="Long train present (10 m and coarser: a flag, not a count)",
            caption="truth: 300 m or more of car length in the truth file; missed: a long "
            "train said absent; false: said present; unknown: no flag",
        )
        for col in ("group", "scenes", "right", "wrong", "missed", "false", "unknown", "right\n%"):
            flags.add_column(col, justify="left" if col == "group" else "right")
        for label, row in presence:
            flags.add_row(*row, style="bold" if label == "all" else None)
        print_table(flags)
    classes = Table(
        title="Per class",
        caption="railcar: cars given no type (a detector may name a type only where it is "
        "confident of it)"
        + (
            f"; the {coarse} scene{'s' if coarse != 1 else ''} at 1.5 m and coarser "
            "(length, presence) tell no type and are not in this table"
            if coarse
            else ""
        ),
    )
    for col in ("class", "truth", "predicted", "count MAE / scene", "total rel. error"):
        classes.add_column(col, justify="left" if col == "class" else "right")
    for cls, c in report["by_class"].items():
        classes.add_row(
            cls,
            _fmt(c["truth"]),
            _fmt(c["pred"]),
            _fmt(c["count_mae"]),
            _fmt(c["total_relative_error"], pct=True),
        )
    if classes.row_count:  # reviews of totals only give no class: no empty table
        print_table(classes)
    _print_scenes(report.get("scenes") or [])


#: Scenes listed one by one on screen; past it, the ones furthest off (all in --json).
SCENES_SHOWN = 20
WORST_SHOWN = 10


def _print_scenes(rows: list[dict[str, Any]]) -> None:
    """Each scene's truth, prediction, count error and F1 (session 49: the tables gave
    groups only, and an analyst scoring six held-out images could not see which one was
    off without --json); past :data:`SCENES_SHOWN` scenes, the :data:`WORST_SHOWN` whose
    count is furthest off."""
    if not rows:
        return
    shown = rows
    caption = None
    if len(rows) > SCENES_SHOWN:
        counted = [r for r in rows if r.get("count_error") is not None]
        shown = sorted(counted, key=lambda r: -abs(r["count_error"]))[:WORST_SHOWN]
        caption = (
            f"the {len(shown)} of {len(rows)} scenes whose count is furthest off; every "
            "scene in --json ('scenes')"
        )
        if not shown:
            return
    why = []
    if any("f1_iou0.3" in r and r["f1_iou0.3"] is None for r in shown):
        why.append("no car in the truth and none predicted")
    if any("f1_iou0.3" not in r for r in shown):
        why.append("no boxes to match (a scene reviewed by count only, or 1.5 m and coarser)")
    if why:
        dash = f"F1 –: nothing to measure ({'; '.join(why)})"
        caption = f"{caption}; {dash}" if caption else dash
    table = Table(title="Per scene", caption=caption)
    for col in ("scene", "gsd m", "truth", "predicted", "error", "F1@.3"):
        table.add_column(col, justify="left" if col == "scene" else "right")
    for r in shown:
        if r.get("long_train_truth") is not None or r.get("method") == "presence":
            flag = r.get("long_train_present")
            pred = "–" if flag is None else ("long train" if flag else "none")
            error = "–"
        else:
            pred = _fmt(r.get("pred"))
            err = r.get("count_error")
            error = "–" if err is None else f"{err:+g}" if err else "0"
        table.add_row(
            escape(str(r["name"])),
            _fmt(r.get("gsd")),
            _fmt(r.get("truth")),
            pred,
            error,
            _fmt(r.get("f1_iou0.3")),
        )
    print_table(table)


def _car_by_car(image: Path, gsd: float | None) -> bool:
    """Whether ``image`` (at ``gsd``, else its own) is counted car by car (finer than
    1.5 m); False where its scale cannot be read here (detect_file then says why)."""
    import rasterio
    from rasterio.errors import RasterioError

    from railwatch.detect.api import gsd_of, method_for_gsd

    if gsd is None:
        import warnings

        from rasterio.errors import NotGeoreferencedWarning

        try:
            with warnings.catch_warnings():
                # a PNG without a world file: detect_file says what is missing (session 49:
                # rasterio's warning was printed with its source line)
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                with rasterio.open(image) as ds:
                    gsd = gsd_of(ds)
        except (RailwatchError, RasterioError, ValueError):
            return False
    return method_for_gsd(gsd) == "objects"


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
