"""``railwatch detect``: railcars in image files, written as GeoJSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from railwatch.cli._common import (
    bands_option,
    console,
    err_console,
    parse_bands_option,
    parse_radiometry_option,
    plural_s,
    print_json,
    print_table,
    progress_bar,
    radiometry_option,
    say_item_scaling,
)
from railwatch.errors import ImageryError, InputError, RailwatchError, some
from railwatch.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from railwatch.counting import ScaleWidening
    from railwatch.detect.api import DetectionResult
    from railwatch.imagery.quality import FileQuality
    from railwatch.imagery.read import Radiometry
    from railwatch.imagery.scale import RailScale, ScaleCheck


#: The -o/--output that means standard output (typer gives a file named '-' as the same
#: path: ./- is given as its full path). Until session 35 `detect IMG -o -` wrote a file
#: named '-' in the current folder and said "wrote -".
STDOUT = "-"


def _to_stdout(output: Path | None) -> bool:
    """Whether ``-o``/``--output`` asks for standard output (``-o -``)."""
    return output is not None and str(output) == STDOUT


def _output_for(
    image: Path, output: Path | None, out_dir: Path | None, cache: Path | None = None
) -> Path:
    """Where ``image``'s GeoJSON goes: ``output``, else NAME.detections.geojson in
    ``out_dir``, else beside the image; but in the current folder for an image inside
    ``cache`` (railwatch's cache folder, :func:`_cache_dir`), as the demo's images
    are: beside them the file was written among railwatch's cached imagery, where
    nobody looks for it and a new rendering of the demo may remove it (2026-12-05,
    session 33)."""
    if output is not None:
        return output
    name = f"{image.stem}.detections.geojson"
    if out_dir is not None:
        return out_dir / name
    if cache is not None and _inside(image, cache):
        return Path(name)
    return image.with_name(name)


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` lies in ``folder`` (either given through links, ``~`` or ``..``)."""
    try:
        path.expanduser().resolve().relative_to(folder.expanduser().resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _say_cached(images: list[Path], cache: Path | None) -> None:
    """A note (stderr) for the images in railwatch's cache folder: their GeoJSON goes
    to the current folder, not beside them."""
    if cache is None:
        return
    cached = [img for img in images if _inside(img, cache)]
    if not cached:
        return
    which = cached[0].name if len(cached) == 1 else f"{len(cached)} of the images"
    err_console.print(
        f"note: {escape(which)} lie{'s' if len(cached) == 1 else ''} in railwatch's cache "
        f"folder ({escape(str(cache))}), which is not for your files: the detections are "
        f"written to the current folder ({escape(str(Path.cwd()))}) instead of beside "
        f"{'it' if len(cached) == 1 else 'them'}; give --out-dir DIR or -o FILE to choose",
        highlight=False,
        soft_wrap=True,
    )


def _cache_dir() -> Path:
    """railwatch's cache folder (``RAILWATCH_CACHE_DIR``, default ~/.cache/railwatch)."""
    from railwatch.errors import checked_settings

    return Path(checked_settings().cache_dir)


def detect_command(
    images: Annotated[
        list[Path],
        typer.Argument(help="Image files: GeoTIFF (or any georeferenced raster), PNG, JPEG."),
    ],
    gsd: Annotated[
        str | None,
        typer.Option(
            "--gsd",
            metavar="M|auto",
            help="Ground sample distance in metres per pixel. Required for images without "
            "georeferencing (PNG, JPEG); overrides the GeoTIFF's. Give it to about ±10 %: the "
            "detector knows cars by their size in metres. For such images the scale is "
            "also measured from the rails (see `railwatch scale`) and a warning is printed "
            "when --gsd disagrees; '--gsd auto' uses the measured scale (an error when the "
            "rails cannot be measured).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            "--out",
            help="Output GeoJSON (one input image only); '-' writes it to standard output "
            "(the summary then goes to stderr). --out is the same option, as other "
            "commands name it.",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir",
            help="Directory for NAME.detections.geojson files (default: next to each "
            "image; the current folder for images in railwatch's cache folder, as the "
            "demo's are).",
        ),
    ] = None,
    detector: Annotated[
        str,
        typer.Option(
            "--detector",
            help="default | default:PATH (weights from railwatch train) | default-fp32[:PATH] "
            "(the fp32 network instead of INT8), each with ?views=N (average N = 2, 4 or 8 "
            "mirrored views: N times slower) and ?verify=true (second-stage verifier, "
            "opt-in; join with &) | onnx:PATH[?classes=a,b] (YOLO-OBB layout) | "
            "ultralytics:PATH.",
        ),
    ] = "default",
    wgs84: Annotated[
        bool,
        typer.Option("--wgs84", help="Write RFC 7946 longitude/latitude instead of the image CRS."),
    ] = False,
    tile: Annotated[
        int | None, typer.Option("--tile", help="Tile size in pixels (default: the detector's).")
    ] = None,
    tracks: Annotated[
        Path | None,
        typer.Option(
            "--tracks",
            help="GeoJSON of track centrelines (WGS84 lines): at 1.5 m and coarser the "
            "occupied length is read along them (much more accurate than lines found in "
            "the image); finer, only railcars within 10 m of them are kept, as railwatch "
            "process keeps a site's.",
        ),
    ] = None,
    sun: Annotated[
        str | None,
        typer.Option(
            "--sun",
            help="The sun's AZIMUTH,ELEVATION in degrees at the time of the image (azimuth "
            "clockwise from north), e.g. 160,35: at 1.5 m and coarser, shadows of strings on "
            "the next track are not counted. Default: from the image's STAC sidecar "
            "(view:sun_azimuth, view:sun_elevation) when there is one.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, max=8, help="Tiles detected at once (default: cores, at most 2)."
        ),
    ] = None,
    bands: Annotated[
        str | None,
        bands_option(
            "Band numbers (from 1) to read as red, green, blue, e.g. 3,2,1 for a "
            "blue-green-red-NIR file (Planet analytic, Maxar multispectral). Default: the "
            "bands the STAC sidecar (eo:bands) or the file labels so, else the first three "
            "(with a warning for four bands or more)."
        ),
    ] = None,
    radiometry: Annotated[
        str | None,
        radiometry_option(
            "How the values of 16-bit and float images relate to what a screen shows "
            "(as 'railwatch ingest --radiometry'): 'linear' (radiance or reflectance: "
            "analytic products; the default) is stretched per band with a display gamma; "
            "'display' (a visual product stored in 16 bits, e.g. 8-bit values x257) is "
            "mapped linearly, without the gamma. Recorded in the GeoJSON ('radiometry'). "
            "8-bit images are read as they are."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the per-image summary as JSON.")
    ] = False,
    no_scale_check: Annotated[
        bool,
        typer.Option(
            "--no-scale-check",
            help="Do not measure the scale of non-georeferenced images from their rails "
            "(no warning when --gsd disagrees with them, or with a georeferenced image's "
            "own pixel size).",
        ),
    ] = False,
) -> None:
    """Detect railcars in IMAGE... and write one GeoJSON FeatureCollection per image
    (an oriented polygon per car, with class, score and covered flag); print the
    count per class and the total with its 90 % interval (the detector's calibrated one;
    not widened for cloud or haze, which `railwatch process` judges). At 1.5 m per pixel
    and coarser, cars are not separable: the
    occupied track length is reported as car equivalents instead.

    Example: [bold]railwatch detect yard.tif -o yard.geojson[/]
    or [bold]railwatch detect photo.png --gsd 0.5[/]
    """
    from railwatch.detect.registry import get_detector

    auto = gsd is not None and gsd.strip().lower() == "auto"
    given = None if gsd is None or auto else _parse_gsd(gsd)
    radio = parse_radiometry_option(radiometry)
    images = _without_masks(images)
    if output is not None and len(images) > 1:
        raise InputError("-o/--output takes one image; use --out-dir DIR for several")
    if output is not None and out_dir is not None:
        raise InputError("give either -o/--output or --out-dir, not both")
    if _to_stdout(output) and as_json:
        # both would be written to standard output, one after the other: no JSON reader
        # could take them apart
        raise InputError(
            "-o - writes the GeoJSON to standard output, and --json writes the summary "
            "there: give one of them (-o FILE --json for both)"
        )
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out-dir {out_dir} is a file: give a directory")
    for img in images:
        if not img.exists():
            raise InputError(f"{img} does not exist: check the path")
        if not (img.is_file() or img.is_dir()):  # a pipe (<(...), a FIFO) or a device
            # GDAL blocked on a FIFO for ever, and read <(cat x.tif) as "IFD start should
            # be at offset 8 for a streamed TIFF" (2026-12-07, session 46)
            raise InputError(
                f"{img} is a pipe or a device, not an image file: detect reads image files "
                "(a GeoTIFF is read here and there, not from start to end); save the image "
                "to a file and give that"
            )
    if all(img.is_dir() for img in images):
        # a mistake of the command line (status 2), as a path that is not there; it was
        # the image's read error (status 1). A folder among images fails as a bad image
        # does, the others detected.
        folder = next(img for img in images if img.is_dir())
        raise InputError(
            f"cannot read image {folder}: it is a folder: give an image file (GeoTIFF, "
            f"PNG or JPEG), or name the images in it, e.g. {folder / '*.tif'}"
        )
    # the cache folder only where the default output (beside the image) is taken
    cache = _cache_dir() if output is None and out_dir is None else None
    _check_outputs(images, output, out_dir, cache)
    _say_cached(images, cache)
    run = _Run(
        detector=get_detector(detector),
        given=given,
        auto=auto,
        scale_check=not no_scale_check,
        tile=tile,
        workers=workers,
        tracks=_read_tracks(tracks) if tracks is not None else None,
        sun=_parse_sun(sun) if sun is not None else None,
        bands=parse_bands_option(bands),
        radiometry=radio,
        wgs84=wgs84,
        output=output,
        out_dir=out_dir,
        cache=cache,
    )
    summaries: list[dict[str, Any]] = []
    failed: list[tuple[Path, str]] = []
    with progress_bar(transient=True) as bar:
        for img in images:
            try:
                summaries.append(_detect_one(img, bar, run))
            except RailwatchError as err:
                if len(images) == 1:
                    raise
                # a bad image never stops the batch: the others are detected, and the
                # command ends with an error naming it
                failed.append((img, str(err)))
                err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False)
    if as_json:
        print_json(summaries + [{"image": str(img), "error": e} for img, e in failed])
    elif summaries:
        # with -o - standard output holds the GeoJSON alone: the summary goes to stderr
        _print_summary(summaries, err_console if _to_stdout(output) else console)
    _say_tracks_found(summaries)
    _say_lines_as_drawn(summaries)
    _say_uncalibrated(summaries, run.detector)
    say_not_railcars(run.detector)
    if failed:
        raise RailwatchError(
            f"{len(failed)} of {len(images)} images could not be detected "
            f"({', '.join(img.name for img, _ in failed)}: see above); "
            + (
                "nothing was written"
                if not summaries
                else "the other image was written"
                if len(summaries) == 1
                else f"the other {len(summaries)} were written"
            )
        )


def say_not_railcars(detector: Any) -> None:
    """Once, on stderr: the classes of an ``onnx:``/``ultralytics:`` model taken as not
    railcars, whose boxes are dropped (2026-12-07, session 49: a class name railwatch
    does not know, ``?classes=railcar,gondla`` or a fine-tuned model's ``ore_truck``, lost
    its cars without a word)."""
    from railwatch.detect.onnx_backend import general_words, not_railcars

    names = getattr(detector, "names", None)
    class_map = getattr(detector, "class_map", None)
    if not names or class_map is None:
        return
    if isinstance(class_map, dict):
        class_map = [class_map.get(k) for k in range(len(names))]
    dropped = not_railcars(names, class_map)
    if not dropped:
        return
    shown = some(dropped, 8)
    # car and train dropped only because the model also has road vehicles or people
    general = general_words(names, dropped)
    err_console.print(
        f"note: {len(dropped)} of the {len(names)} classes of {escape(detector.name)} "
        + (
            "is not a railcar class, and its boxes are dropped"
            if len(dropped) == 1
            else "are not railcar classes, and their boxes are dropped"
        )
        + f": {escape(shown)}. "
        + (
            f"{escape(some([repr(n) for n in general], 4))} "
            + ("is not taken as a railcar" if len(general) == 1 else "are not taken as railcars")
            + ": in a model that also has road vehicles or people, "
            "'car' is an automobile and 'train' a whole train, and without a class that is "
            "clearly rail (a locomotive, a 'tank car') a container, tanker or wagon may be "
            "a ship's or a lorry's. "
            if general
            else ""
        )
        + "Where one is a railcar, name it in the spec: onnx:MODEL?classes=a,b,... in the "
        "model's order, 'railcar' for a car of any type (or boxcar, gondola, hopper, tank, "
        "flat, container, locomotive; an ultralytics: model is exported to ONNX first, "
        "`yolo export model=M.pt format=onnx`)",
        highlight=False,
        soft_wrap=True,
    )


def _say_uncalibrated(summaries: list[dict[str, Any]], detector: Any) -> None:
    """Once, on stderr: that the weights have no count calibration (``train
    --calibration-scenes 0``, the fine-tuning quick path), so the interval of a total
    counted car by car is the uncalibrated one of
    :func:`railwatch.counting.count_interval`, not a measured 90 % (2026-12-07, session
    46: the table said "total (90 %)" of such weights without a word)."""
    calibration = getattr(detector, "calibration", False)
    if not any(s.get("method") == "objects" for s in summaries):
        return
    if calibration is not None:
        if calibration is not False:  # calibrated: say where its spread is assumed
            _say_spread_assumed(summaries, calibration)
        return  # (False: a backend without calibrations)
    weights = getattr(detector, "weights", None)
    name = str(weights) if weights is not None else "the detector's weights"
    err_console.print(
        f"note: {escape(name)} has no count calibration: the interval of a total counted "
        "car by car is estimated from the detections' scores and a nominal miss rate, not "
        f"the measured 90 % interval; `railwatch calibrate {escape(name)}` measures it on "
        "simulated scenes (--labels DIR: on your own labelled images)",
        highlight=False,
        soft_wrap=True,
    )


def _say_spread_assumed(summaries: list[dict[str, Any]], calibration: Any) -> None:
    """On stderr, once per resolution counted car by car: that the calibration's
    scene-to-scene spread of recall there is assumed, not measured
    (:meth:`Calibration.spread_note`; cards of ``calibrate --labels`` on few scenes,
    session 50), so the interval rests on a guess."""
    said: set[float] = set()
    for s in summaries:
        gsd = s.get("gsd")
        if s.get("method") != "objects" or not isinstance(gsd, int | float) or gsd in said:
            continue
        said.add(gsd)
        note = calibration.spread_note(float(gsd))
        if note:
            err_console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)


def _read_along(summaries: list[dict[str, Any]], tracks: str) -> tuple[str, int]:
    """The names of the images of 1.5-10 m whose car equivalents were measured along
    track lines ``tracks`` ("found" in the image, "given" with --tracks) and read some
    track, the first five and how many more, and how many they are."""
    read = [
        Path(s["image"]).name
        for s in summaries
        if s["method"] == "length" and s["tracks"] == tracks and s["track_m"]
    ]
    names = some(read, 5)
    return names, len(read)


def _say_tracks_found(summaries: list[dict[str, Any]]) -> None:
    """Once, on stderr: that images of 1.5-10 m were measured along track lines found in
    the image itself (no --tracks), far less accurate, and what to give (since
    2026-12-06, session 36: the table said only "length")."""
    names, n = _read_along(summaries, "found")
    if not n:
        return
    from railwatch.report.style import length_range

    # (1.5-10 m: it said 1.5-5 m until 2026-12-06, session 40, also of a 7 m image)
    err_console.print(
        f"note: {escape(names)} ({length_range()}) {'was' if n == 1 else 'were'} measured "
        "along track lines found in the image itself, far less accurate than along the "
        "yard's drawn centrelines (on simulated 3 m scenes 25 % read within ±15 % of the "
        'truth, against 54 %: docs/detection.md, "Coarse imagery"): give the centrelines '
        "with --tracks FILE (GeoJSON LineStrings in longitude/latitude).",
        highlight=False,
        soft_wrap=True,
    )


def _say_lines_as_drawn(summaries: list[dict[str, Any]]) -> None:
    """Once, on stderr: that images of 1.5-10 m were read along the --tracks lines where
    they are drawn, the image alone, which `railwatch process` does not do with a site's
    scene, and how far apart the two can be (2026-12-06, session 41: nothing said why
    the two commands read one file 25.1 and 5.9 car equivalents)."""
    names, n = _read_along(summaries, "given")
    if not n:
        return
    err_console.print(
        f"note: {escape(names)} {'was' if n == 1 else 'were'} read along the --tracks "
        "lines where they are drawn, from the image alone. railwatch process reads a "
        "site's scene otherwise: it moves the lines by the image's misregistration, "
        "measured against the site's other coarse images (3 m imagery is often 3-7 m off "
        "between dates), takes the yard's empty colour from those images too, and reads "
        "only inside the site polygon, so its count of the same file can differ widely "
        "(the demo's 3 m images: 25.1 here and 5.9 there for 5 cars, 96.0 and 149.1 for "
        '257; docs/detection.md, "railwatch detect and railwatch process on one coarse '
        'file").',
        highlight=False,
        soft_wrap=True,
    )


#: Below this clear share of what a 1.5 m or coarser file had to read
#: (:attr:`~railwatch.detect.api.DetectionResult.clear_share`) ``railwatch detect`` says
#: that cloud or haze hid part of it (railwatch process's usable threshold, 0.8 by
#: default, is of the site's clear share).
CLOUD_NOTE_BELOW = 0.9

#: Below this clear share a 1.5 m or coarser file read too little of its track (or, along
#: lines found in it, of the image) to judge the yard from it: ``railwatch detect`` does
#: not say that the yard looks crowded (its test read the few clear samples: a simulated
#: 3 m yard under 60 % cloud, 3 % of its track clear, was said to), and the cloud note
#: says that too little was read. The product's usable threshold
#: (``Settings.usable_threshold``, 0.8 by default), below which ``railwatch process``
#: does not count a scene whose site or tracks corridor is that little clear
#: (2026-12-06, session 41).
JUDGE_CLEAR_MIN = float(Settings.model_fields["usable_threshold"].default)


def _without_masks(images: list[Path]) -> list[Path]:
    """``images`` less the quality masks among them (``NAME.mask.tif``, ``NAME_udm2.tif``:
    :func:`railwatch.imagery.scan.is_quality_mask`), passed over with a note, as
    ``ingest`` passes over sidecars (``detect DIR/*.tif`` names them too); refused when
    there is nothing else. Read as images until 2026-12-07 (session 44), a mask's codes
    (0 clear, 1 cloud, ...) made a black picture: "0 railcars", an empty yard."""
    from railwatch.imagery.scan import is_quality_mask

    masks = [img for img in images if img.is_file() and is_quality_mask(img)]
    if not masks:
        return images
    if len(masks) == len(images):
        raise InputError(
            f"{masks[0]} is a quality mask (codes for clear, cloud, haze, snow, cloud "
            "shadow), read with the image beside it, not an image: give the image it "
            f"belongs to{_image_of_mask(masks[0])}"
        )
    shown = some([escape(m.name) for m in masks], 3)
    err_console.print(
        f"note: passed over {len(masks)} quality mask{plural_s(len(masks))} ({shown}): "
        "each is read with the image beside it, not detected as an image.",
        highlight=False,
        soft_wrap=True,
    )
    return [img for img in images if img not in masks]


def _image_of_mask(mask: Path) -> str:
    """`` (NAME.tif)`` where the simulator's ``NAME.mask.tif`` has its image beside it."""
    name = mask.name
    for ending in (".mask.tif", ".mask.tiff"):
        if name.lower().endswith(ending):
            image = mask.with_name(name[: -len(ending)] + ".tif")
            if image.exists():
                return f" ({image})"
    return ""


def _judge_image(img: Path, result: DetectionResult) -> FileQuality | None:
    """Cloud, haze and snow over a georeferenced image counted car by car
    (:func:`railwatch.imagery.quality.whole_image_quality`), by the quality mask ingest would take
    for it, else estimated; None where it cannot be judged (no CRS, a rotated grid), or
    where judging failed (said on stderr: the count stands)."""
    from railwatch.imagery.inspect import quality_mask_of
    from railwatch.imagery.quality import whole_image_quality

    if _crs_of(img) is None:
        return None
    try:
        return whole_image_quality(
            img,
            gsd=result.gsd,
            mask_uri=quality_mask_of(img),
            bands=result.bands,
            radiometry="display" if result.radiometry == "display" else "linear",
        )
    except RailwatchError as err:
        err_console.print(
            f"note: {escape(img.name)}: its cloud, haze and snow were not judged: "
            f"{escape(str(err))}",
            highlight=False,
            soft_wrap=True,
        )
        return None


def _say_off_track(img: Path, left_out: int, kept: int) -> None:
    """On stderr: how many railcars detected away from the --tracks lines were left out
    (0.3-1.5 m, 2026-12-07, session 44: the lines were ignored there until then), and,
    where none was near them, that the lines may not be this image's."""
    from railwatch.rails import TRACK_DISTANCE_M

    found = left_out + kept
    if kept == 0:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(img.name)}: none of the {found} railcar"
            f"{plural_s(found)} detected lies within {TRACK_DISTANCE_M:g} m of the --tracks "
            "lines, so none is counted: check that the lines are this image's (longitude, "
            "latitude order; the right site), or leave --tracks out.",
            highlight=False,
            soft_wrap=True,
        )
        return
    err_console.print(
        f"note: {escape(img.name)}: {left_out} of the {found} railcar{plural_s(found)} "
        f"detected {'lies' if left_out == 1 else 'lie'} farther than {TRACK_DISTANCE_M:g} m "
        f"from the --tracks lines and {'is' if left_out == 1 else 'are'} left out (lorries, "
        "roofs and the like), as railwatch process leaves them out of a site with "
        "centrelines.",
        highlight=False,
        soft_wrap=True,
    )


def _say_not_clear(img: Path, judged: FileQuality, total: int, gsd: float) -> None:
    """On stderr, where less than :data:`CLOUD_NOTE_BELOW` of an image counted car by car
    is clear ground: the count is of the clear part only; below railwatch process's
    usable threshold (:data:`JUDGE_CLEAR_MIN`), a warning that process would not count a
    site so covered (2026-12-07, session 44)."""
    if judged.clear >= CLOUD_NOTE_BELOW:
        return
    parts = [
        f"{name} {share:.0%}"
        for name, share in (
            ("cloud and cloud shadow", judged.cloud),
            ("haze", judged.haze),
            ("snow", judged.snow),
        )
        if share >= 0.01
    ]
    by = (
        f"by its quality mask {escape(Path(judged.mask).name)}"
        if judged.mask is not None
        else "as estimated from its pixels: no quality mask beside it"
    )
    unusable = judged.clear < JUDGE_CLEAR_MIN
    head = "[bold yellow]warning:[/]" if unusable else "note:"
    tail = (
        f" railwatch process stores a scene with less than {JUDGE_CLEAR_MIN:.0%} of its site "
        "clear (snow is not clear) as unusable, by default, and never counts it."
        if unusable
        else ""
    )
    hidden = judged.cloud + judged.haze >= 0.01
    why = (
        ("Cars under cloud or haze are not seen" if hidden else "")
        + (" and " if hidden and judged.snow >= 0.01 else "")
        + ("cars in snow may be missed" if judged.snow >= 0.01 else "")
    )
    why = why[:1].upper() + why[1:]
    coarser = (
        f", judged at {judged.gsd:g} m a pixel (a large image is judged coarser)"
        if judged.gsd > gsd * 1.01
        else ""
    )
    err_console.print(
        f"{head} {escape(img.name)}: only {judged.clear:.0%} of the image is clear ground "
        f"({', '.join(parts) or 'no data'}; {by}{coarser}). {why}, so the count, {total} "
        f"railcar{plural_s(total)}, may be short of the yard's.{tail}",
        highlight=False,
        soft_wrap=True,
    )


#: Below this share of an image counted car by car holding data (not no data, not black
#: fill) ``railwatch detect`` says that its count is of that part (session 45).
DATA_NOTE_BELOW = 0.9


def _say_image_problems(img: Path, judged: FileQuality, total: int) -> None:
    """On stderr: what makes an image counted car by car unusable whatever its cloud
    (blank or too dark, under-exposed, upsampled: ``railwatch process`` stores such a
    scene as unusable and never counts it), and how little of it holds data when that is
    under :data:`DATA_NOTE_BELOW`. Until 2026-12-07 (session 45) neither was said: a
    0.5 m yard at 4 % of its brightness, and one 70 % black fill with its cars in the
    black, each read "0 railcars", an empty yard."""
    cars = f"{total} railcar{plural_s(total)}"
    for problem in judged.problems:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(img.name)}: {escape(problem)}. railwatch "
            f"process stores such a scene as unusable and never counts it: the count, "
            f"{cars}, does not tell how many cars the yard holds.",
            highlight=False,
            soft_wrap=True,
        )
    _say_data_share(img, judged.data, total)


def _say_data_share(img: Path, share: float | None, total: int) -> None:
    """On stderr, when under :data:`DATA_NOTE_BELOW` of an image counted car by car holds
    data: the count is of that part, and no data near cars lowers it. Said of images the
    quality judgement cannot read too (no CRS, a rotated grid: from the pixels the
    detector read, :attr:`~railwatch.detect.api.DetectionResult.data_share`), which said
    nothing until 2026-12-07 (session 47: Muttenz turned by 30 degrees as a PNG, 47 % of
    it no-data corners)."""
    if share is None or share >= DATA_NOTE_BELOW:
        return
    cars = f"{total} railcar{plural_s(total)}"
    err_console.print(
        f"note: {escape(img.name)}: only {share:.0%} of the image holds data (the rest is "
        f"no data or black fill): the count, {cars}, is of that part. No data within about "
        "100 m of cars also lowers the detector's confidence in them: the real Muttenz "
        "yard framed by no data read 20 boxes where it reads 23 without "
        '(docs/detection.md, "Turned and resampled"): a copy with image all round the '
        "yard reads it better.",
        highlight=False,
        soft_wrap=True,
    )


def _read_enough(share: float | None) -> bool:
    """Whether a coarse file's clear share
    (:attr:`~railwatch.detect.api.DetectionResult.clear_share`) is enough to judge the
    yard from what was read (:data:`JUDGE_CLEAR_MIN`)."""
    return share is not None and share >= JUDGE_CLEAR_MIN


def _say_cloud_left_out(
    img: Path, share: float | None, mask: str | None, tracks: str | None
) -> None:
    """On stderr, where cloud or haze hid part of what a coarse file had to read: it is
    left out, as railwatch process leaves it out of a scene (since 2026-12-06, session
    41; before, `railwatch detect` read it, and a cloud's bright edge along the tracks
    read as cars)."""
    if share is None or share >= CLOUD_NOTE_BELOW:
        return
    what = "the track along the --tracks lines" if tracks == "given" else "the image"
    by = (
        f"by its quality mask ({escape(Path(mask).name)})"
        if mask is not None
        else "as estimated from its pixels (no quality mask beside it)"
    )
    judge = (
        ""
        if _read_enough(share)
        else (
            " That is too little to judge the yard from (how full or crowded it is): "
            f"railwatch process counts a scene only with {JUDGE_CLEAR_MIN:.0%} of its site "
            "and of its tracks clear (by default)."
        )
    )
    err_console.print(
        f"note: {escape(img.name)}: only {share:.0%} of {what} was clear ground {by}; "
        "cloud and haze are not read, as railwatch process does not read them, so cars "
        f"under them are not counted.{judge}",
        highlight=False,
        soft_wrap=True,
    )


def _say_grey(img: Path, method: str) -> None:
    """On stderr: a 1.5 m or coarser image without colour reads low (until 2026-12-06,
    session 40, one was said to show a yard too crowded to read, its grey not named)."""
    what = (
        "its car equivalents are likely far too low"
        if method == "length"
        else ("its long-train flag is likely to miss trains")
    )
    err_console.print(
        f"[bold yellow]warning:[/] {escape(img.name)} has no colour (one grey band, or three "
        "equal ones): at 1.5 m and coarser cars are read mostly by their colour "
        "against the empty track, so a grey image reads low (simulated 3 m yards of 40 cars: "
        "0-27 car equivalents in grey, 35-46 in colour), and the interval does not allow "
        f"for it: {what}. Use a colour (RGB) image of the yard.",
        highlight=False,
        soft_wrap=True,
    )


def _say_too_coarse(img: Path, gsd: float) -> None:
    """On stderr, why an image coarser than 10 m has no long-train flag (it was "no long
    train" until 2026-12-06, session 40, while `railwatch process` stored the same image
    as unusable)."""
    from railwatch.imagery.quality import MAX_COUNT_GSD

    err_console.print(
        f"note: {escape(img.name)}: at {gsd:g} m it is too coarse to count railcars (railwatch "
        f"process stores images coarser than {MAX_COUNT_GSD:g} m as unusable), and the "
        f"long-train flag was measured on {MAX_COUNT_GSD:g} m images only (docs/detection.md, "
        '"The long-train flag at 10 m"): no flag is given. Use imagery of '
        f"{MAX_COUNT_GSD:g} m or finer.",
        highlight=False,
        soft_wrap=True,
    )


def _say_no_track_read(img: Path, tracks: Any) -> None:
    """On stderr, why no sample along the --tracks lines (WGS84) could be read in the
    georeferenced ``img``: they lie wholly outside it (another yard's lines, or a file
    written lat,lon), or cross it only where it has no data, cloud or haze (session 41)
    or too briefly. Until 2026-12-06 (session 40) the table said "no track read" and
    nothing said why."""
    import rasterio
    import rasterio.warp
    import shapely
    from rasterio.errors import RasterioError
    from shapely.geometry import box

    from railwatch.imagery.inspect import quality_mask_of
    from railwatch.sites import lat_lon_text

    try:
        with rasterio.open(img) as ds:
            west, south, east, north = rasterio.warp.transform_bounds(
                ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21
            )
    except (RasterioError, ValueError):
        return
    footprint = box(west, south, east, north)
    name = escape(img.name)
    if tracks.intersects(footprint):
        # only clear ground is read, as railwatch process reads a scene (session 41)
        mask = quality_mask_of(img)
        under = (
            f"its quality mask ({escape(Path(mask).name)}) calls cloud or haze"
            if mask is not None
            else "its pixels look like cloud or haze"
        )
        why = (
            f"the --tracks lines cross it only where it has no data or where {under} (only "
            "clear ground is read, as railwatch process reads it), or too briefly to read "
            "(a few pixels): use an image that shows the yard's tracks clear"
        )
    elif shapely.transform(tracks, lambda xy: xy[:, ::-1]).intersects(footprint):
        why = (
            "the --tracks lines lie outside it, but would cross it with the two numbers of "
            "each position swapped: the file is written lat,lon, and GeoJSON (RFC 7946) "
            "gives each position as lon,lat: swap them and try again"
        )
    else:
        why = (
            f"the --tracks lines (around {lat_lon_text(tracks)}) lie wholly outside it "
            f"(around {lat_lon_text(footprint)}): give the centrelines of the yard this "
            "image shows"
        )
    err_console.print(f"note: {name}: no track read: {why}.", highlight=False, soft_wrap=True)


def _print_summary(summaries: list[dict[str, Any]], out: Console) -> None:
    """The per-image table, then where the GeoJSON files went, on ``out``."""
    # per-class counts in one wrapping column: a column per class (up to eight) cut every
    # cell to "objec…" in an 80-column terminal
    table = Table(title="Railcars detected")
    table.add_column("image", overflow="fold")
    table.add_column("gsd m", justify="right", no_wrap=True)
    table.add_column("method", no_wrap=True)
    table.add_column("total\n(90 %)", justify="right", style="bold", no_wrap=True)
    table.add_column("covered", justify="right", no_wrap=True)
    table.add_column("by class", ratio=1)
    for s in summaries:
        if s.get("too_coarse"):  # over 10 m: no flag was ever measured there
            total = "too coarse"
        elif s["method"] == "presence" and s["tracks"] != "given":
            total = "give --tracks"  # the flag is read along given centrelines only
        elif s["method"] == "presence" and s["present"] is None and s["track_m"]:
            total = "no 300 m of track read"  # no train's length read in one piece
        elif s["method"] != "objects" and s["track_m"] == 0.0 and s["present"] is None:
            # nothing of the yard was measured: not 0
            total = "no track read" if s["tracks"] == "given" else "no track found"
        elif s["method"] == "objects":
            total = f"{s['total']} ({s['low']:.0f}–{s['high']:.0f})"
        elif s["method"] == "length":
            total = f"≈{s['total']:.1f} ({s['low']:.0f}–{s['high']:.0f})"
        else:
            total = "long train present" if s["present"] else "no long train"
        by_class = sorted(s["by_class"].items(), key=lambda kv: (-kv[1], kv[0]))
        table.add_row(
            escape(Path(s["image"]).name),
            f"{s['gsd']:g}",
            s["method"],
            total,
            "–" if s["covered"] is None else str(s["covered"]),
            ", ".join(f"{c} {n:g}" for c, n in by_class) or "–",
        )
    print_table(table, out)
    # where the GeoJSON went, below the table (as a column it was cut to "/tmp/s…" at 80)
    if [s["output"] for s in summaries] == [STDOUT]:
        out.print("wrote the GeoJSON to standard output", soft_wrap=True)
        return
    outputs = [Path(str(s["output"])) for s in summaries]
    folders = {o.parent for o in outputs}
    if len(outputs) == 1:
        out.print(f"wrote {escape(str(outputs[0]))}", soft_wrap=True)
    elif len(folders) == 1:
        out.print(
            f"wrote {len(outputs)} GeoJSON files to {escape(str(folders.pop()))}", soft_wrap=True
        )
    else:
        for s, o in zip(summaries, outputs, strict=True):
            out.print(f"{escape(Path(s['image']).name)} → {escape(str(o))}", soft_wrap=True)


@dataclass(frozen=True)
class _Run:
    """What ``railwatch detect`` does to every image."""

    detector: Any
    given: float | None  # --gsd (None: the file's own, or measured from the rails)
    auto: bool  # --gsd auto
    scale_check: bool
    tile: int | None
    workers: int | None
    tracks: Any
    sun: tuple[float, float] | None
    bands: tuple[int, int, int] | None
    radiometry: Radiometry | None  # --radiometry (None: linear, the default)
    wgs84: bool
    output: Path | None
    out_dir: Path | None
    cache: Path | None = None  # railwatch's cache folder, where the default output is taken


def _check_outputs(
    images: list[Path], output: Path | None, out_dir: Path | None, cache: Path | None = None
) -> None:
    """Refuse, before any detection, an image given twice (two spellings of one path, a
    link to it), images that would write the same GeoJSON file (two ``scene.tif`` from
    different folders into one --out-dir, or ``a.tif`` and ``a.vrt``) and an output
    :func:`~railwatch.detect.geojson.write_geojson` would refuse (a folder, an image:
    until 2026-12-06, session 39, refused only once the image had been detected)."""
    from railwatch.detect.geojson import check_output

    _check_given_once(images)
    to_stdout = _to_stdout(output)
    seen: dict[Path, Path] = {}
    for img in images:
        given = _output_for(img, output, out_dir, cache)
        if not to_stdout:
            check_output(given)
        out = given.resolve()
        if out in seen:
            raise InputError(
                f"{seen[out]} and {img} would both be written to {out}: detect them in "
                "separate runs with different --out-dir folders (or rename one)"
            )
        seen[out] = img


def _check_given_once(images: list[Path]) -> None:
    """Refuse an image given twice, however spelled (``a/scene.tif a/./scene.tif``, a
    link to it): it was said to be two images writing one GeoJSON file, "a/scene.tif and
    a/scene.tif would both be written" (until 2026-12-06, session 39)."""
    seen: dict[tuple[int, int], Path] = {}
    for img in images:
        try:
            st = img.stat()
        except OSError:
            continue  # detection says why it cannot be read
        key = (st.st_dev, st.st_ino)
        first = seen.get(key)
        if first is None:
            seen[key] = img
            continue
        if str(first) == str(img):  # typer gives a/./scene.tif as a/scene.tif
            said = f"{first} is given twice"
        else:
            said = f"{first} and {img} are the same image (given twice)"
        raise InputError(f"{said}: give it once")


def _detect_one(img: Path, bar: Any, run: _Run) -> dict[str, Any]:
    """Detect one image, write its GeoJSON and return its summary row."""
    from rasterio.errors import RasterioIOError

    from railwatch.counting import count_detections, widen_for_scale
    from railwatch.detect.api import detect_file, method_for_gsd
    from railwatch.detect.base import tells_class
    from railwatch.detect.coarse import long_train_flag
    from railwatch.detect.geojson import WGS84, to_feature_collection, write_geojson
    from railwatch.imagery.inspect import is_low_sun, unreadable_pixels
    from railwatch.imagery.scale import ScaleCheck, check_gsd, measure_file

    _check_bands(img)
    if run.wgs84 and _crs_of(img) is None:  # before the detection, not after it
        # with how to map it, as without --wgs84 (an image of GCPs or RPCs, a lost CRS)
        raise InputError(
            f"{img.name} is not georeferenced: --wgs84 needs a georeferenced image{_crs_hint(img)}"
        )
    check = None
    img_gsd = run.given
    if run.auto or (run.given is None and run.scale_check):
        # None: georeferenced
        found = measure_file(
            img, skip_georeferenced=True, command="railwatch detect", bands=run.bands
        )
        if found is not None:
            img_gsd = _gsd_from_rails(img, found.scale, run.auto)
            check = ScaleCheck(img_gsd, found.scale, 0.15)
    elif run.given is not None and run.scale_check and method_for_gsd(run.given) != "objects":
        # 1.5 m and coarser: the rails are under a pixel apart, never measured (every
        # such image got "no rail pairs found ... the detector needs the scale to about
        # ±10 %" until 2026-12-06, session 40)
        if _crs_of(img) is None:
            _say_coarse_scale_unchecked(img, run.given)
    elif run.given is not None and run.scale_check:
        check = check_gsd(img, run.given)  # None for georeferenced images
        if check is not None:
            _report_scale_check(img, check)
    _warn_georeferencing(img, run.given if run.scale_check else None)
    task = bar.add_task(f"{escape(img.name)}: tiles", total=None)

    def on_tile(done: int, total: int, task: Any = task) -> None:
        bar.update(task, completed=done, total=total)

    try:
        result = detect_file(
            img,
            gsd=img_gsd,
            detector=run.detector,
            tile_px=run.tile,
            workers=run.workers,
            on_tile=on_tile,
            tracks=run.tracks,
            sun=run.sun,
            bands=run.bands,
            radiometry=run.radiometry or "linear",
            check_scale=False,  # checked above, and said in the CLI's own words
            log_alpha_as_data=False,  # said below as a warning, once (session 46)
        )
    except ImageryError as err:
        # a truncated file read "cannot read pixels of F: Read failed. See previous
        # exception for details.": neither what is wrong nor what to do
        if isinstance(err.__cause__, RasterioIOError):
            raise unreadable_pixels(img.name, err.__cause__) from err
        raise
    if run.radiometry is not None and result.radiometry is None:
        err_console.print(
            f"[dim]note: {escape(img.name)} is an 8-bit image, read as it is: --radiometry is for "
            "16-bit and float images.[/]",
            highlight=False,
        )
    if run.radiometry is None and result.eight_bit is not None:
        # an 8-bit image saved as 16 bits, read as radiance by default: stretched and
        # gamma-encoded, without a word until 2026-12-06 (session 39). Default unchanged
        from railwatch.imagery.inspect import eight_bit_words  # as ingest words it

        err_console.print(
            f"[bold yellow]hint:[/] {escape(img.name)}: its values are 8-bit ones "
            f"({escape(eight_bit_words(result.eight_bit))}): a visual "
            "product stored in 16 bits or as floats, read as linear radiance (--radiometry "
            "linear, the default) it is stretched with a display gamma and comes out washed "
            "out, and "
            "the detector may count it unlike the 8-bit image (a simulated 0.5 m yard's "
            "copy: 43 cars against 31; docs/detection.md). If it is a picture as a "
            "screen shows it, re-run with [bold]--radiometry display[/].",
            highlight=False,
        )
    beside = result.item_scaling
    say_item_scaling(img, beside)
    if result.method == "objects" and is_low_sun(result.sun_elevation):
        err_console.print(
            f"[dim]note: {escape(img.name)}: the sun was {result.sun_elevation:.0f}° high: cars "
            "cast long shadows, which the detector may count as cars (on test drawings it had "
            "never seen, counts ran 6-7 % high with the sun at 15-35°); check the boxes on the "
            "shadow side of strings.[/]",
            highlight=False,
        )
    # cloud, haze and snow over the image (0.3-1.5 m), as process judges a site: until
    # 2026-12-07 (session 44) nothing was said of them (a 95 % cloudy scene read 13 cars)
    judged = _judge_image(img, result) if result.method == "objects" else None
    if judged is not None:
        _say_image_problems(img, judged, result.total)
        _say_not_clear(img, judged, result.total, result.gsd)
    elif result.method == "objects":
        # no CRS (PNG, JPEG) or a rotated grid: the share the detector read (session 47)
        _say_data_share(img, result.data_share, result.total)
    if result.off_track:
        _say_off_track(img, result.off_track, result.total)
    if result.coarse is not None and result.coarse.grey:
        # what is wrong is the grey, not a crowded yard (said so until session 40)
        _say_grey(img, result.method)
    elif (
        result.coarse is not None
        and result.coarse.empty_from == "image, crowded"
        # not of a few clear samples: the cloud note says too little was read (session 41)
        and _read_enough(result.clear_share)
    ):
        err_console.print(
            f"[dim]note: {escape(img.name)}: the yard looks crowded (hardly any bare track "
            "between the cars), so this image alone cannot tell how full it is: the "
            "estimate may be well off (most often low) and its interval reaches every metre "
            f"of track read ({result.coarse.high:g} car equivalents). In a site with three "
            "or more other images, railwatch process reads it against the site's empty "
            "track from them.[/]",
            highlight=False,
        )
    if result.coarse is not None and result.coarse.too_coarse:
        _say_too_coarse(img, result.gsd)
    elif result.coarse is not None and result.tracks == "given" and result.coarse.track_m == 0.0:
        _say_no_track_read(img, run.tracks)
    elif result.coarse is not None and result.coarse.track_m:
        _say_cloud_left_out(img, result.clear_share, result.quality_mask, result.tracks)
    if result.bands_guessed:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(img.name)} has four or more bands and none is "
            "labelled red, green or blue: bands "
            f"{','.join(str(b) for b in result.bands)} were read as red, green, blue. "
            "If the file is blue, green, red, NIR (Planet analytic, Maxar), re-run with "
            "[bold]--bands 3,2,1[/].",
            highlight=False,
        )
    if result.alpha_as_data is not None:
        # a band GDAL labels alpha that holds data (NIR), read as data: said here, not
        # also in the log (log_alpha_as_data=False above; 2026-12-07, session 46)
        from railwatch.imagery.inspect import alpha_as_data_text

        said = alpha_as_data_text(img.name, *result.alpha_as_data)
        err_console.print(f"[bold yellow]warning:[/] {escape(said)}", highlight=False)
    if run.wgs84 and result.crs is None:
        raise InputError(f"{img.name} is not georeferenced: --wgs84 needs a georeferenced image")
    extra: dict[str, Any] = {
        "source": img.name,
        "method": result.method,
        "detector": result.detector,
        "detector_version": result.detector_version,
    }
    if result.radiometry is not None:  # how 16-bit or float pixels were mapped to 8 bits
        extra["radiometry"] = result.radiometry
    if beside is not None and beside.scaling is not None:  # the sidecar item's, applied
        extra["band_scaling"] = {
            "scale": list(beside.scaling[0]),
            "offset": list(beside.scaling[1]),
            "from": beside.item,
        }
    if check is not None:
        extra["scale_check"] = check.to_dict()
    if judged is not None:  # 0.3-1.5 m: how much of the image was clear (session 44)
        extra["clear_share"] = round(judged.clear, 3)
        extra["quality_mask"] = None if judged.mask is None else Path(judged.mask).name
        # session 45: the share of the image with data, and what makes it unusable
        extra["data_share"] = round(judged.data, 3)
        extra["quality_problems"] = list(judged.problems)
    elif result.data_share is not None:  # no CRS, a rotated grid (session 47)
        extra["data_share"] = round(result.data_share, 3)
    if result.off_track is not None:  # 0.3-1.5 m with --tracks (session 44); not "tracks",
        # which a truth file holds as lines
        extra["off_track"] = result.off_track
    low = high = None
    widening = None
    if result.method == "objects":
        # the detector's calibrated 90 % interval (its score-based one without a
        # calibration); not widened for cloud or haze (the note above says how much of
        # the image is clear; `railwatch process` judges a site). Widened for the scale's error
        # when --gsd was given and the rails did not confirm it (session 39)
        counted = widen_for_scale(
            count_detections(
                result.detections,
                gsd=result.gsd,
                calibration=getattr(run.detector, "calibration", None),
            ),
            check,
        )
        low, high = counted.low, counted.high
        extra["count_interval"] = [low, high]
        widening = counted.scale_widening
        if widening is not None:
            extra["count_interval_widened"] = widening.to_dict()
            _say_interval_widened(img, counted.total, widening, low, high)
    if result.coarse is not None:
        c = result.coarse
        # no track read (as the summary's no_track below): no estimate and no flag, not
        # 0 car equivalents, 0-1, and present false, an empty yard (until 2026-12-06,
        # session 40, while the summary said "no track read")
        unread = c.track_m == 0.0 and (result.method == "length" or result.tracks == "given")
        # 10 m and coarser: no count (only the long-train flag, as the table and --json
        # say), so no car equivalents: the occupied length summed there reads each string
        # on several lines and noise as cars (docs/detection.md, "The long-train flag at
        # 10 m"); until 2026-12-06 (session 40) the block gave them, 60.71 (14.9-141.8)
        presence = result.method == "presence"
        flag = long_train_flag(c, result.tracks) if presence else None
        extra["coarse"] = {
            "car_equivalents": None if unread or presence else c.car_equivalents,
            "low": None if unread or presence else c.low,
            "high": None if unread or presence else c.high,
            "occupied_length_m": c.occupied_length_m,
            # 10 m and coarser: only where it was read (coarse.long_train_flag)
            "present": None if unread else flag if presence else c.present,
            # the string the flag is read from: none where no flag was read (lines found
            # in the image, no train's length read in one piece, coarser than 10 m)
            "longest_string_m": c.longest_string_m if flag is not None else None,
            # lines given (--tracks) or found in the image, and metres of them read: 0 is
            # no measurement of the yard, not an empty one
            "tracks": result.tracks,
            "track_m": c.track_m,
            # where the empty track's colour came from (coarse.EMPTY_FROM): "image,
            # crowded" is a yard the image alone cannot read well
            "empty_from": c.empty_from,
        }
        if c.too_coarse:  # coarser than 10 m: said why there is no flag
            extra["coarse"]["too_coarse"] = True
    fc = to_feature_collection(
        result.detections,
        crs=result.crs,
        gsd=result.gsd,
        to_crs=WGS84 if run.wgs84 else None,
        extra=extra,
        occupied=result.occupied,
    )
    if _to_stdout(run.output):
        typer.echo(json.dumps(fc, ensure_ascii=False))
        out: Path | str = STDOUT
    else:
        out = write_geojson(_output_for(img, run.output, run.out_dir, run.cache), fc)
    bar.remove_task(task)
    coarse = result.coarse
    presence = result.method == "presence"
    # no track line read at all (none found at 1.5-5 m, or the given ones outside the
    # data): no count and no presence flag, not 0 car equivalents or "no long train" (as
    # the pipeline judges it)
    no_track = (
        coarse is not None
        and coarse.track_m == 0.0
        and (result.method == "length" or result.tracks == "given")
    )
    # at 10 m and coarser the long-train flag only where it was read: along given
    # centrelines, with a train's length of track in one piece
    no_flag = presence and (coarse is None or long_train_flag(coarse, result.tracks) is None)
    return {
        "image": str(img),
        "output": str(out),
        "method": result.method,
        "gsd": round(result.gsd, 3),
        # presence only (10 m and coarser): no count, as the table says
        "total": None
        if presence or no_track
        else result.total
        if coarse is None
        else coarse.car_equivalents,
        "low": None if presence or no_track else low if coarse is None else coarse.low,
        "high": None if presence or no_track else high if coarse is None else coarse.high,
        "present": None if coarse is None or no_track or no_flag else coarse.present,
        "longest_string_m": None if coarse is None or no_flag else coarse.longest_string_m,
        "track_m": None if coarse is None else coarse.track_m,
        "tracks": result.tracks,
        # 0.3-1.5 m with --tracks: railcars left out as farther than 10 m from the lines
        "off_track": result.off_track,
        "empty_from": None if coarse is None else coarse.empty_from,
        # coarser than 10 m: no long-train flag (coarse.CoarseEstimate.too_coarse)
        "too_coarse": coarse is not None and coarse.too_coarse,
        # no colour: reads low at 1.5 m and coarser (coarse.CoarseEstimate.grey)
        "grey": coarse is not None and coarse.grey,
        # the share of the track (or, along lines found, of the image) that was clear
        # ground and read, and the quality mask that said so (None: estimated): cloud
        # and haze are not read, as railwatch process does not read them (session 41)
        # 0.3-1.5 m (session 44): the share of the image's pixels with data that was
        # clear ground (not cloud, cloud shadow, haze or snow), judged as process judges
        # a site; None where not judged (no CRS, a rotated grid)
        "clear_share": (None if judged is None else round(judged.clear, 3))
        if coarse is None
        else result.clear_share,
        "quality_mask": result.quality_mask
        if coarse is not None or judged is None
        else judged.mask,
        # 0.3-1.5 m (session 45): the share of the image's pixels with data (not no
        # data, not black fill), and what makes it unusable whatever its cloud (blank or
        # too dark, under-exposed, upsampled); None / [] where not judged; where not
        # judged (no CRS, a rotated grid) the share of the pixels the detector read with
        # data (session 47)
        "data_share": round(judged.data, 3)
        if judged is not None
        else None
        if result.data_share is None
        else round(result.data_share, 3),
        "quality_problems": [] if judged is None else list(judged.problems),
        "by_class": dict(result.counts),
        # covered loads are told car by car only: unknown (None) from occupied length or
        # a presence flag, not 0, as the counts say it (detect.base.tells_class; until
        # 2026-12-06, session 40, 0 here and in the table while exports gave it empty)
        "covered": sum(1 for d in result.detections if d.covered)
        if tells_class("covered", result.method)
        else None,
        "radiometry": result.radiometry,
        "scale_check": None if check is None else check.to_dict(),
        # why low-high is wider than the detector's interval (None: it is not)
        "count_interval_widened": None if widening is None else widening.to_dict(),
    }


def _parse_gsd(text: str) -> float:
    from railwatch.detect.api import GSD_SANE

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise InputError(
            f"--gsd {text!r}: give the ground sample distance in metres per pixel (e.g. "
            "--gsd 0.5), or --gsd auto to measure it from the rails"
        )
    lo, hi = GSD_SANE
    if not lo <= value <= hi:  # said here, before a note on the rails that measured it
        hint = " (degrees? give metres)" if value < lo else ""
        raise InputError(
            f"--gsd {value:g} m per pixel is not the scale of an aerial or satellite image"
            f"{hint}: give metres per pixel between {lo:g} and {hi:g}, e.g. --gsd 0.5"
        )
    return value


def _gsd_from_rails(img: Path, scale: RailScale, auto: bool) -> float:
    """The scale measured from the rails of a non-georeferenced image, with --gsd auto;
    without any --gsd, an error that says what was measured (or why nothing was)."""
    if scale.measured and scale.gsd is not None:
        if auto:
            err_console.print(
                f"{escape(img.name)}: scale measured from the rails: {scale.gsd:.3f} m per pixel "
                f"({scale.gsd_low:.3f}–{scale.gsd_high:.3f}, {scale.strips} strips)",
                highlight=False,
            )
            return float(scale.gsd)
        raise InputError(
            f"{img.name} is not georeferenced: pass --gsd METRES (ground sample distance). "
            f"Its rails show about {scale.gsd:.3f} m per pixel ({scale.gsd_low:.3f}–"
            f"{scale.gsd_high:.3f}): --gsd {scale.gsd:.3f} or --gsd auto to use that"
            f"{_crs_hint(img)}"
        )
    if auto:
        raise InputError(
            f"{img.name}: --gsd auto could not measure the scale from the rails "
            f"({scale.reason}); measure it by hand (rail heads are 1.5 m apart) and pass "
            "--gsd METRES"
        )
    raise InputError(
        f"{img.name} is not georeferenced: pass --gsd METRES (ground sample distance); "
        f"its scale could not be measured from the rails ({scale.reason}){_crs_hint(img)}"
    )


def _open_quietly(img: Path) -> Any:
    """``img`` opened with rasterio, without the not-georeferenced warning
    (:func:`railwatch.imagery.inspect.open_quietly`); None when it cannot be opened
    (detection then says why)."""
    from rasterio.errors import RasterioError

    from railwatch.imagery.inspect import open_quietly

    try:
        return open_quietly(img)
    except (RasterioError, OSError):
        return None


def _crs_of(img: Path) -> Any:
    """The CRS of ``img``, None when it has none (or cannot be opened)."""
    ds = _open_quietly(img)
    if ds is None:
        return None
    with ds:
        return ds.crs


def _check_bands(img: Path) -> None:
    """Refuse ``img`` when it has no bands of its own (a NetCDF or HDF file of
    subdatasets: :func:`railwatch.imagery.inspect.check_bands`); nothing when it cannot
    be opened (said where it is read)."""
    from railwatch.imagery.inspect import check_bands

    ds = _open_quietly(img)
    if ds is None:
        return
    with ds:
        check_bands(ds, img.name)


def _crs_hint(img: Path) -> str:
    """How to give ``img`` its lost CRS when it has a geotransform without one."""
    from railwatch.detect.api import missing_crs_hint

    ds = _open_quietly(img)
    if ds is None:
        return ""
    with ds:
        return missing_crs_hint(ds, img.name)


#: --gsd may differ from a georeferenced image's own pixel size by this share before
#: the command warns (the detector needs the scale to about ±10 %).
GSD_OVERRIDE_TOLERANCE = 0.15


def _warn_georeferencing(img: Path, given: float | None) -> None:
    """Warnings for a georeferenced image: when its pixels are not square on the ground
    (a geographic CRS away from the equator), a note that cars were detected on it
    resampled to square pixels (:func:`railwatch.detect.api.square_view`) or, for the
    coarse methods, which read it as it is, a warning (`process` warps scenes to a UTM
    grid); and when ``given`` (--gsd) overrides its own pixel size by more than
    ``GSD_OVERRIDE_TOLERANCE`` (cars are then read at the wrong size)."""
    import warnings

    import rasterio
    import rasterio.warp
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    from shapely.geometry import Point

    from railwatch.detect.api import ANISOTROPY_TOLERANCE, method_for_gsd
    from railwatch.errors import ImageryError
    from railwatch.imagery._geo import utm_crs_for
    from railwatch.imagery.inspect import ground_pixel_size
    from railwatch.rails import LENGTH_GSD

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(img) as ds:
                if ds.crs is None:
                    return
                gx, gy = ground_pixel_size(ds)
                x, y = ds.xy(ds.height / 2, ds.width / 2, offset="ul")  # the centre
                lon, lat = rasterio.warp.transform(ds.crs, "EPSG:4326", [x], [y])
                crs = ds.crs.to_string()
    except (RasterioError, ImageryError, ValueError):
        return  # detect_file reports unreadable files itself
    own = math.sqrt(gx * gy)
    if given is not None and abs(given / own - 1.0) > GSD_OVERRIDE_TOLERANCE:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(img.name)} ({crs}) is georeferenced at "
            f"{own:.3g} m per pixel on the ground, and --gsd {given:g} overrides that "
            f"({given / own:.2g} times): the detector knows cars by their size in metres, so "
            "it will look for cars of the wrong size. Leave --gsd out to use the file's own "
            "scale, unless "
            f"the file's georeferencing is wrong. Detections below use --gsd {given:g}.",
            highlight=False,
        )
    if max(gx, gy) <= (1.0 + ANISOTROPY_TOLERANCE) * min(gx, gy):
        return
    utm = utm_crs_for(Point(lon[0], lat[0]))
    res = f"{math.sqrt(gx * gy):.2g}"
    if method_for_gsd(given if given is not None else own) == "objects":
        err_console.print(
            f"[dim]note: {escape(img.name)} ({crs}) has pixels {gx:.2f} x {gy:.2f} m on the "
            f"ground, not square: cars are detected on it resampled to square {res} m "
            "pixels, and their boxes are written in its CRS, where a car at an angle to the "
            "grid is a parallelogram: each is drawn as the rectangle of the car's axis, "
            "length and area. For exact rectangles detect on a UTM copy (gdalwarp -t_srs "
            f"{utm} -tr {res} {res} -r bilinear IN.tif OUT.tif); `railwatch process` warps "
            "every scene to the site's UTM grid itself.[/]",
            highlight=False,
        )
        return
    # 1.5 m and coarser the image is read as it is, one pixel size for both axes (said
    # as "the detector takes square pixels, so cars look shorter" until session 40)
    err_console.print(
        f"[bold yellow]warning:[/] {escape(img.name)} ({crs}) has pixels {gx:.2f} x {gy:.2f} m "
        f"on the ground, not square: at {LENGTH_GSD:g} m and coarser it is read as it is, with "
        f"one pixel size ({given or own:.2g} m) both ways, so track lengths, and the car "
        "equivalents and long strings read along them, are up to "
        f"{100 * (max(gx, gy) / own - 1):.0f} % off depending on the track's direction. "
        f"Warp it to a UTM grid first (gdalwarp -t_srs {utm} -tr {res} {res} -r bilinear "
        "IN.tif OUT.tif), or ingest it into a site: `railwatch process` warps every scene "
        "to the site's UTM grid.",
        highlight=False,
    )


def _say_coarse_scale_unchecked(img: Path, given: float) -> None:
    """A note on stderr that --gsd of 1.5 m or more cannot be checked against the rails
    (they are less than a pixel apart there), and what the scale does to the estimate.
    Coarser than :data:`~railwatch.imagery.quality.MAX_COUNT_GSD` it asks whether
    centimetres were meant (2026-12-07, session 46: `--gsd 50` of a 0.5 m photo read
    1,697 km of track in a 51 km image, and nothing asked whether 50 cm was meant)."""
    from railwatch.imagery.quality import MAX_COUNT_GSD
    from railwatch.rails import LENGTH_GSD

    cm = (
        f" --gsd is in metres per pixel: if you meant {given:g} cm, give --gsd {given / 100:g}."
        if given > MAX_COUNT_GSD
        else ""
    )
    err_console.print(
        f"[dim]note: {escape(img.name)}: --gsd {given:g} cannot be checked against the rails: "
        f"at {LENGTH_GSD:g} m per pixel and coarser the two rails of a track are less than a "
        "pixel apart. The occupied track length, and with it the car equivalents, is in "
        f"proportion to it: make sure of it.{cm}[/]",
        highlight=False,
    )


def _report_scale_check(img: Path, check: ScaleCheck) -> None:
    """A warning on stderr when --gsd disagrees with the rails, a note when they could
    not be measured; nothing when they agree."""
    s = check.scale
    if not s.measured:
        err_console.print(
            f"[dim]note: {escape(img.name)}: --gsd {check.given:g} not checked against the rails: "
            f"{s.reason}. The detector needs the scale to about ±10 % (20 % too small lost "
            "a third of the cars on simulated yards): make sure of it (the source's stated "
            "resolution, a known length in the image, or `railwatch scale` on a finer copy "
            "of it).[/]",
            highlight=False,
        )
        return
    if not check.disagrees or s.gsd is None:
        return
    hint = ""
    if check.maybe_tracks_for_rails:
        hint = (
            f" If the image really is about {check.given:g} m per pixel, the lines measured "
            "may be two neighbouring tracks rather than the two rails of one."
        )
    err_console.print(
        f"[bold yellow]warning:[/] {escape(img.name)}: --gsd {check.given:g} m disagrees with the "
        f"scale its rails show, {s.gsd:.3f} m per pixel ({s.gsd_low:.3f}–{s.gsd_high:.3f}, "
        f"rails {s.spacing_px:.2f} px apart in {s.strips} strips, standard gauge). The "
        "detector needs the scale to about ±10 %: re-run with "
        f"[bold]--gsd {s.gsd:.3f}[/], or pass --no-scale-check if you know the scale "
        f"better.{hint} Detections below use --gsd {check.given:g}.",
        highlight=False,
    )


def _say_interval_widened(
    img: Path, total: float, widening: ScaleWidening, low: float, high: float
) -> None:
    """A note on stderr that the count's 90 % interval was widened for a --gsd the rails
    did not confirm, from what to what and why."""
    was_low, was_high = widening.interval
    err_console.print(
        f"[dim]note: {escape(img.name)}: the 90 % interval of its {total:g} cars is "
        f"{low:.0f}–{high:.0f}, widened from the detector's {was_low:.0f}–{was_high:.0f}: "
        f"{escape(widening.why)}. The count is unchanged; a scale the rails confirm, or a "
        "georeferenced copy, keeps the detector's own interval.[/]",
        highlight=False,
    )


def _parse_sun(text: str) -> tuple[float, float]:
    """``AZIMUTH,ELEVATION`` in degrees, or an error that shows the form."""
    from railwatch.detect.coarse import check_sun

    parts = text.replace(" ", "").split(",")
    if len(parts) != 2:
        raise InputError(f"--sun {text!r}: give AZIMUTH,ELEVATION in degrees, e.g. --sun 160,35")
    try:
        return check_sun((parts[0], parts[1]))
    except InputError as err:
        raise InputError(f"--sun {text!r}: {err}") from None


def _read_tracks(path: Path) -> Any:
    """Lines of a GeoJSON file (FeatureCollection, Feature or geometry), WGS84, checked
    as `railwatch site add --tracks` checks them (a malformed file is an InputError)."""
    from railwatch.sites import load_tracks

    return load_tracks(path, what="--tracks")


def register(app: typer.Typer) -> None:
    app.command("detect")(detect_command)
