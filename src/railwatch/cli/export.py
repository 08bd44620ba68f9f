"""``railwatch export`` (GIS layers), ``export-labels`` and ``import-labels`` (training labels)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.markup import escape

from railwatch.cli._common import (
    console,
    err_console,
    labelled_count,
    open_db,
    plural_s,
    print_json,
    progress_bar,
)
from railwatch.errors import InputError, some
from railwatch.storage import Database

GIS_FORMATS = ("gpkg", "geoparquet", "geojson", "csv")
LABEL_FORMATS = ("coco", "dota", "yolo-obb")


def choice(value: str, choices: tuple[str, ...], option: str) -> str:
    """``value`` when it is one of ``choices``, else an :class:`InputError` naming them."""
    v = value.strip().lower()
    if v not in choices:
        raise InputError(f"{option} {value!r} is not supported: use one of {', '.join(choices)}")
    return v


def export(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: gpkg, geoparquet, geojson or csv.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output file (NAME.gpkg, NAME.csv; NAME.geojson or NAME.parquet with "
            "--layer) or directory (geoparquet, geojson); replaced if present. '-' writes "
            "the CSV to standard output (csv only).",
        ),
    ],
    layer: Annotated[
        str | None,
        typer.Option(
            "--layer",
            help="Write this layer alone (sites, scenes, detections, occupied_track or "
            "counts): geojson and geoparquet then write one file, --out NAME.geojson or "
            "NAME.parquet.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print what was written as JSON: the site, the format, --out and each "
            "file written with its layer and size in bytes.",
        ),
    ] = False,
) -> None:
    """Export a site's layers: sites, scenes (footprints), detections (car polygons with
    every property and the scene date), occupied_track (lines: the stretches of track a
    1.5-10 m image's length count read as occupied, with length_m and car_equivalents)
    and counts (one row per image).

    gpkg: one GeoPackage with those five layers (counts as a table), opens in QGIS.
    geoparquet: a directory of GeoParquet 1.1 files, one per layer. geojson: a directory
    of FeatureCollections, one per layer. csv: the counts only, for
    pandas.read_csv(path, parse_dates=["date"]). --layer NAME writes that layer alone,
    in one file for every format (GeoJSON and GeoParquet hold one layer per file: without
    --layer, --out NAME.geojson or NAME.parquet is refused, as it names one file).
    Coordinates are WGS84 longitude/latitude. Times (acquired, date) are UTC; the column
    day beside each is the image's local day at the site, in its zone (local_zone, after
    day in every layer with a time, and in the sites layer). An image without a count
    (unusable, failed, not processed) has empty count cells, never 0.

    --out - writes the CSV to standard output, and nothing else goes there (the other
    formats are binary files or folders of files: give them a name; --json with it is
    refused, as both would go there).

    With --json, standard output holds one JSON document, what was written (for a
    script: {"site", "format", "out", "files": [{"path", "layer", "bytes"}]}).

    Example: railwatch export tumangang --format gpkg --out tumangang.gpkg
    or: railwatch export tumangang -f csv -o - | head
    """
    from railwatch.export.gis import check_layer, export_site

    fmt = choice(fmt, GIS_FORMATS, "--format")
    check_layer(fmt, layer)
    if str(out) == STDOUT:
        _refuse_stdout(fmt, site, layer)
        if as_json:
            raise InputError(
                "--out - writes the CSV to standard output, where --json writes its JSON: "
                f"give one of them (--out {site}.csv --json for both)"
            )
    db = open_db(ctx)
    if str(out) == STDOUT:
        _csv_to_stdout(db, site)
        return
    created = _missing_folder(out)
    path = export_site(db, site, fmt, out, layer=layer)
    if created is not None:  # on stderr: stdout holds the JSON with --json
        err_console.print(
            f"note: created the folder {escape(str(created))}, which did not exist, for "
            "the export (check the --out path if that folder was not meant)",
            highlight=False,
            soft_wrap=True,
        )
    if as_json:
        from railwatch.storage import repo

        with db.session(readonly=True) as s:
            name = repo.get_site(s, site).name  # as stored (the argument may be another form)
        files = _written(path, fmt, layer)
        print_json({"site": name, "format": fmt, "out": str(path), "files": files})
        return
    console.print(f"wrote {escape(_written_words(path, fmt, layer))}", highlight=False)


def _missing_folder(out: Path) -> Path | None:
    """The outermost folder of ``out``'s that does not exist yet (the export creates it,
    as `report` and `export-labels` create theirs), or None. It was created without a
    word: ``-o exprots/yard.gpkg`` left the file in a new folder named by the typo
    (2026-12-07, session 46)."""
    missing = None
    for parent in out.expanduser().parents:
        if parent.exists() or parent.is_symlink():
            break
        missing = parent
    return missing


def _written(path: Path, fmt: str, layer: str | None = None) -> list[dict[str, object]]:
    """The files `export` wrote, as ``export --json`` lists them: each one's path, layer
    (None for the GeoPackage of every layer, which holds them all) and size in bytes
    (None for what is not a regular file)."""
    from railwatch.export.gis import LAYER_NAMES

    if layer is not None or fmt not in ("geojson", "geoparquet"):
        layer = layer or ("counts" if fmt == "csv" else None)
        return [{"path": str(path), "layer": layer, "bytes": _size(path)}]
    ext = "geojson" if fmt == "geojson" else "parquet"
    files = [(name, path / f"{name}.{ext}") for name in LAYER_NAMES]
    return [
        {"path": str(file), "layer": name, "bytes": _size(file)}
        for name, file in files
        if file.is_file()
    ]


def _size(path: Path) -> int | None:
    return path.stat().st_size if path.is_file() else None


def _written_words(path: Path, fmt: str, layer: str | None = None) -> str:
    """What `export` wrote: the file (one ``layer``'s), or for geojson and geoparquet the
    folder with its files (2026-12-05, session 33: "wrote rosario.geojson" was a folder
    of five files, read as one GeoJSON file)."""
    from railwatch.export.gis import LAYER_NAMES

    if layer is not None and fmt != "gpkg":
        return f"{path} (the {layer} layer)"
    if layer is not None:
        return f"{path} (a GeoPackage of the {layer} layer)"
    if fmt not in ("geojson", "geoparquet"):
        return str(path)
    ext = "geojson" if fmt == "geojson" else "parquet"
    files = [f"{name}.{ext}" for name in LAYER_NAMES if (path / f"{name}.{ext}").is_file()]
    return f"{path} (a folder: {', '.join(files)}, one file per layer)"


#: The --out that means standard output (a file named '-' is written as ./- : typer
#: gives both as the same path, so '-' is taken as standard output).
STDOUT = "-"


def _refuse_stdout(fmt: str, site: str, layer: str | None = None) -> None:
    """An :class:`InputError` for ``--out -`` with a format that is not CSV: a
    GeoPackage or GeoParquet is binary (and written whole under a temporary name), and
    geojson is a folder of files (``-o -`` wrote a file or a folder named ``-``); one
    ``layer`` of them is one file, written whole under a temporary name too."""
    if fmt == "csv":
        return
    kind = "a folder of files" if fmt in ("geojson", "geoparquet") else "a binary file"
    example = f"{site}.gpkg" if fmt == "gpkg" else f"{site}-{fmt}"
    if layer is not None and fmt != "gpkg":
        ext = "geojson" if fmt == "geojson" else "parquet"
        kind = f"one file (the {layer} layer), written whole and then renamed into place"
        example = f"{site}-{layer}.{ext}"
    raise InputError(
        f"--out - (standard output) is for --format csv only: a {fmt} export is {kind}; "
        f"give --out a name, e.g. --out {example}"
    )


def _refuse_dash_folder(out: Path | None, command: str, example: str) -> None:
    """An :class:`InputError` for ``--out -`` of a command that writes a folder of files
    (export-labels, import-labels): '-' means standard output elsewhere (export -f csv),
    and here it made a folder named '-'."""
    if out is not None and str(out) == STDOUT:
        raise InputError(
            f"--out - (standard output) is not for {command}: it writes a folder of images "
            f"and label files, not a stream; give --out a folder, e.g. --out {example} (a "
            "folder really named '-': give its full path)"
        )


def _csv_to_stdout(db: Database, site: str) -> None:
    """Write the counts CSV of ``site`` to standard output, byte for byte the file that
    ``--out NAME.csv`` writes (it is written to a temporary folder first, so a failure
    prints nothing), and nothing else."""
    import sys
    import tempfile

    from railwatch.export.gis import export_site

    with tempfile.TemporaryDirectory(prefix="railwatch-export-") as folder:
        data = export_site(db, site, "csv", Path(folder) / "counts.csv").read_bytes()
    sys.stdout.flush()
    stream = getattr(sys.stdout, "buffer", None)
    if stream is not None:
        _write_all(stream, data)
        stream.flush()
    else:  # a text-only stream (an embedding program's): the CSV is UTF-8 text
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()


def _write_all(stream: BinaryIO, data: bytes) -> None:
    """Write all of ``data``: with PYTHONUNBUFFERED (``python -u``) ``sys.stdout.buffer``
    is the raw file, whose ``write`` may write part of a large block and say how much (a
    pipe whose reader went away took the first 64 KiB and the rest was dropped, status 0);
    the next write then fails as it should (a closed pipe ends the command with status
    141, see railwatch.cli.main)."""
    import select

    view = memoryview(data)
    while view:
        written = stream.write(view)
        if written is None:  # a non-blocking stream that is full: wait until it takes more
            select.select([], [stream.fileno()], [])
            continue
        view = view[written:]


def export_labels_cmd(
    ctx: typer.Context,
    site: Annotated[str | None, typer.Argument(help="Site name (or give --scene).")] = None,
    scene: Annotated[int | None, typer.Option("--scene", help="One scene id instead.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Label format: coco, dota or yolo-obb.")
    ] = "coco",
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Output directory: new, or one holding no labels or chips yet."
        ),
    ] = Path("labels"),
    chip: Annotated[int, typer.Option("--chip", help="Chip size in pixels.")] = 1024,
    reviewed_only: Annotated[
        bool,
        typer.Option(
            "--reviewed-only",
            help="Only the scenes an analyst reviewed with outlines (railwatch scene review "
            "ID --cars): a verified training or evaluation set.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Cut the usable scenes of a site (or one scene) into PNG chips over the site and
    write their cars as training labels (COCO, DOTA or YOLO-OBB): a scene an analyst
    reviewed with outlines (railwatch scene review ID --cars) is labelled with the
    analyst's outlines (verified), every other with its detections (the detector's, to
    be corrected in a labelling tool and brought back with import-labels). Each chip is
    georeferenced as its scene: NAME.pgw (world file) and NAME.png.aux.xml (CRS) beside
    it, so QGIS opens it over the site. railwatch_export.json in the output lists each
    scene's chips, CRS and chip transforms, and where its labels come from.

    Example: railwatch export-labels tumangang --format yolo-obb --out labels/ --chip 1024
    Verified set: railwatch export-labels tumangang --reviewed-only --format dota --out truth/
    """
    from railwatch.export.label_chips import export_labels

    fmt = choice(fmt, LABEL_FORMATS, "--format")
    _refuse_dash_folder(out, "export-labels", "labels/")
    db = open_db(ctx)
    with progress_bar(transient=True) as bar:
        task = bar.add_task("cutting chips", total=None)
        result = export_labels(
            db, out, fmt, site=site, scene_id=scene, chip=chip,
            progress=lambda i, n: bar.update(task, completed=i, total=n),
            reviewed_only=reviewed_only,
        )  # fmt: skip
    if as_json:
        print_json({"out": str(result.out), "scenes": result.scenes, "chips": result.chips,
                    "objects": result.objects, "cars": result.cars,
                    "skipped": list(result.skipped),
                    "verified_scenes": list(result.verified),
                    "detector_scenes": list(result.detector),
                    "manifest": str(result.manifest) if result.manifest else None})  # fmt: skip
        return
    # the distinct cars, and the labels where chips overlap (a car in the overlap is a
    # label of each chip; session 40: "2 chips with 322 labelled cars" of 230 cars)
    overlap = (
        f" ({result.objects} labels: chips overlap, and a car in the overlap is labelled in each)"
        if result.objects != result.cars
        else ""
    )
    console.print(
        f"wrote {result.chips} chip{plural_s(result.chips)} with {result.cars} labelled "
        f"car{plural_s(result.cars)}{overlap} from {result.scenes} "
        f"scene{plural_s(result.scenes)} to {escape(str(result.out))} ({fmt})",
        highlight=False,
    )
    console.print(
        f"labels: {len(result.verified)} scene{plural_s(len(result.verified))} verified "
        "(an analyst's outlines), "
        f"{len(result.detector)} the detector's (to be corrected); each scene's in "
        f"{escape(str(result.manifest or 'railwatch_export.json'))}",
        highlight=False,
    )
    for reason in result.skipped:
        console.print(f"skipped: {escape(str(reason))}", highlight=False)


def import_labels_cmd(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="Directory with images and labels.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Label format of SRC: coco, dota or yolo-obb.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Training set directory (default: labels/SITE or labels/<SRC name>): new, "
            "or the one this SRC was imported to before (replaced); one holding another "
            "source's training set is refused.",
        ),
    ] = None,
    site: Annotated[
        str | None, typer.Option("--site", help="Site the labels belong to (must exist).")
    ] = None,
    gsd: Annotated[
        float | None,
        typer.Option(
            "--gsd",
            metavar="METRES",
            help="Ground sample distance for images that have none otherwise: an image's gsd "
            "comes from its labels (DOTA gsd: line, COCO railwatch.gsd), else from its scene "
            "in the railwatch_export.json that export-labels wrote in SRC (so an export-labels "
            "folder needs no --gsd, YOLO-OBB included), else from --gsd. Give it only for "
            "images the export does not list; a --gsd that contradicts the labels or the "
            "export is refused. train --labels needs a gsd for every image.",
        ),
    ] = None,
    verified: Annotated[
        bool,
        typer.Option(
            "--verified",
            help="You checked every image's labels in the labelling tool (the detector's "
            "that export-labels cut included): record them all as verified, which train "
            "and eval --verified-only keep.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Check a label dataset (COCO, DOTA or YOLO-OBB) and write it as a railwatch
    training set: images/NAME.png, labels/NAME.txt with dataset.yaml (Ultralytics OBB
    layout, railwatch class ids) and railwatch_labels.json (every object's pixel corners,
    class and covered flag, each image's ground sample distance and whether its labels
    are verified, plus the source and site), which railwatch train --labels reads.
    Nothing is written when any label is wrong: every problem is listed as file:line.

    Whether an image's labels are verified (an analyst's outlines) or the detector's (to
    be corrected) comes from what export-labels wrote (a COCO image's railwatch block, or
    railwatch_export.json in SRC); --verified marks them all verified.

    Example: railwatch import-labels corrected/ --format dota --site tumangang
    then: railwatch train --labels labels/tumangang --init default --out tuned.onnx
    """
    from railwatch.export.labels import check_gsd, import_labels

    fmt = choice(fmt, LABEL_FORMATS, "--format")
    _refuse_dash_folder(out, "import-labels", f"labels/{site or 'SITE'}")
    gsd = check_gsd(gsd)  # before the site look-up and reading the labels
    if site is not None:
        from railwatch.storage import repo

        db = open_db(ctx)
        with db.session(readonly=True) as s:  # a look-up: never waits for a writer
            repo.get_site(s, site)
    if not src.is_dir():
        raise InputError(f"{src} is not a directory")
    target = out if out is not None else Path("labels") / (site or src.resolve().name)
    summary = import_labels(src, fmt, target, site=site, gsd=gsd, verified=verified)
    if summary.without_gsd:
        # written (the YOLO-OBB layout trains as it is elsewhere), but said: train refuses it
        shown = escape(some(summary.without_gsd, 5))
        from railwatch.detect.labels import EXPORT_MANIFEST

        where = (
            f"{EXPORT_MANIFEST} in {src} does not list them"
            if (src / EXPORT_MANIFEST).is_file()
            else f"{src} has no {EXPORT_MANIFEST} (export-labels writes one with each scene's gsd)"
        )
        err_console.print(
            f"[bold yellow]warning:[/] {_images_have(len(summary.without_gsd))} no ground "
            f"sample distance ({shown}): their {fmt} labels carry none and "
            f"{escape(where)}, so railwatch train --labels cannot read "
            f"{escape(str(summary.out))}; import again with --gsd METRES (it is used only "
            "for images whose labels and export give none)",
            highlight=False,
        )
    if as_json:
        print_json({"out": str(summary.out), "images": summary.images,
                    "objects": summary.objects, "cars": summary.cars,
                    "by_class": summary.by_class,
                    "unlabelled": list(summary.unlabelled),
                    "without_gsd": list(summary.without_gsd),
                    "provenance": summary.provenance})  # fmt: skip
        return
    per_class = escape(", ".join(f"{k} {v}" for k, v in summary.by_class.items()) or "no objects")
    console.print(
        f"imported {summary.images} image{plural_s(summary.images)}, "
        f"{labelled_count(summary.cars, summary.objects, per_class)} "
        f"into {escape(str(summary.out))}",
        highlight=False,
    )
    from railwatch.detect.labels import describe_provenance

    console.print(
        f"labels: {escape(describe_provenance(summary.provenance))}"
        + (" (--verified)" if verified else ""),
        highlight=False,
    )
    if summary.provenance.get("detector"):
        err_console.print(
            f"[bold yellow]note:[/] {_images_carry(int(summary.provenance['detector']))} the "
            "detector's labels as export-labels cut them: if you corrected them in the "
            "labelling tool, import again with --verified; train and eval --verified-only "
            "leave them out",
            highlight=False,
        )
    if summary.unlabelled:
        shown = escape(some(summary.unlabelled, 5))
        err_console.print(
            f"[bold yellow]warning:[/] {_images_have(len(summary.unlabelled))} no label file "
            f"and {'was' if len(summary.unlabelled) == 1 else 'were'} left out "
            f"({shown}): give an image with no cars an empty label "
            "file to train on it",
            highlight=False,
        )


def _images_have(n: int) -> str:
    """The count of images and its verb: "1 image has", "3 images have" (they said
    "image(s) have" until session 47)."""
    return f"{n} image has" if n == 1 else f"{n} images have"


def _images_carry(n: int) -> str:
    """The count of images and its verb: "1 image carries", "3 images carry"."""
    return f"{n} image carries" if n == 1 else f"{n} images carry"


def register(app: typer.Typer) -> None:
    """Add ``export``, ``export-labels`` and ``import-labels`` to ``railwatch``."""
    app.command("export")(export)
    app.command("export-labels")(export_labels_cmd)
    app.command("import-labels")(import_labels_cmd)
