"""``railwatch detect``: railcars in image files, written as GeoJSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from railwatch.cli._common import console, print_json, progress_bar
from railwatch.errors import InputError


def _output_for(image: Path, output: Path | None, out_dir: Path | None) -> Path:
    if output is not None:
        return output
    name = f"{image.stem}.detections.geojson"
    return (out_dir / name) if out_dir is not None else image.with_name(name)


def detect_command(
    images: Annotated[
        list[Path],
        typer.Argument(help="Image files: GeoTIFF (or any georeferenced raster), PNG, JPEG."),
    ],
    gsd: Annotated[
        float | None,
        typer.Option(
            "--gsd",
            help="Ground sample distance in metres per pixel. Required for images without "
            "georeferencing (PNG, JPEG); overrides the GeoTIFF's. Give it to about ±10 %: the "
            "detector knows cars by their size in metres (for a figure of unknown scale, "
            "measure it, e.g. from the rails: 1.5 m between rail heads).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Output GeoJSON (one input image only)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir",
            help="Directory for NAME.detections.geojson files (default: next to each image).",
        ),
    ] = None,
    detector: Annotated[
        str,
        typer.Option(
            "--detector",
            help="default | default:PATH (weights from railwatch train) | default-fp32[:PATH] "
            "(the fp32 network instead of INT8) | onnx:PATH[?classes=a,b] (YOLO-OBB layout) | "
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
            help="GeoJSON of track centrelines (WGS84 lines) to guide the coarse method "
            "(1.5 m and coarser); much more accurate than tracks found in the image.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, max=8, help="Tiles detected at once (default: cores, at most 2)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the per-image summary as JSON.")
    ] = False,
) -> None:
    """Detect railcars in IMAGE... and write one GeoJSON FeatureCollection per image
    (an oriented polygon per car, with class, score and covered flag); print the
    count per class. At 1.5 m per pixel and coarser, cars are not separable: the
    occupied track length is reported as car equivalents instead.

    Example: [bold]railwatch detect yard.tif -o yard.geojson[/]
    or [bold]railwatch detect photo.png --gsd 0.5[/]
    """
    from railwatch.detect.api import detect_file
    from railwatch.detect.geojson import WGS84, to_feature_collection, write_geojson
    from railwatch.detect.registry import get_detector

    if output is not None and len(images) > 1:
        raise InputError("-o/--output takes one image; use --out-dir DIR for several")
    if output is not None and out_dir is not None:
        raise InputError("give either -o/--output or --out-dir, not both")
    for img in images:
        if not img.exists():
            raise InputError(f"{img} does not exist: check the path")
    det = get_detector(detector)
    track_geom = _read_tracks(tracks) if tracks is not None else None
    summaries: list[dict[str, Any]] = []
    with progress_bar(transient=True) as bar:
        for img in images:
            task = bar.add_task(f"{img.name}: tiles", total=None)

            def on_tile(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=total)

            result = detect_file(
                img,
                gsd=gsd,
                detector=det,
                tile_px=tile,
                workers=workers,
                on_tile=on_tile,
                tracks=track_geom,
            )
            if wgs84 and result.crs is None:
                raise InputError(
                    f"{img.name} is not georeferenced: --wgs84 needs a georeferenced image"
                )
            extra: dict[str, Any] = {
                "source": img.name,
                "method": result.method,
                "detector": result.detector,
                "detector_version": result.detector_version,
            }
            if result.coarse is not None:
                c = result.coarse
                extra["coarse"] = {
                    "car_equivalents": c.car_equivalents,
                    "low": c.low,
                    "high": c.high,
                    "occupied_length_m": c.occupied_length_m,
                    "present": c.present,
                }
            fc = to_feature_collection(
                result.detections,
                crs=result.crs,
                gsd=result.gsd,
                to_crs=WGS84 if wgs84 else None,
                extra=extra,
            )
            out = write_geojson(_output_for(img, output, out_dir), fc)
            bar.remove_task(task)
            coarse = result.coarse
            summaries.append(
                {
                    "image": str(img),
                    "output": str(out),
                    "method": result.method,
                    "gsd": round(result.gsd, 3),
                    "total": result.total if coarse is None else coarse.car_equivalents,
                    "low": None if coarse is None else coarse.low,
                    "high": None if coarse is None else coarse.high,
                    "present": None if coarse is None else coarse.present,
                    "by_class": dict(result.counts),
                    "covered": sum(1 for d in result.detections if d.covered),
                }
            )
    if as_json:
        print_json(summaries)
        return
    classes = sorted({k for s in summaries for k in s["by_class"]})
    table = Table(title="Railcars detected")
    table.add_column("image")
    table.add_column("gsd m", justify="right")
    table.add_column("method")
    for cls in classes:
        table.add_column(cls, justify="right")
    table.add_column("covered", justify="right")
    table.add_column("total", justify="right", style="bold")
    table.add_column("output")
    for s in summaries:
        if s["method"] == "objects":
            total = str(s["total"])
        elif s["method"] == "length":
            total = f"≈{s['total']:.1f} ({s['low']:.0f}–{s['high']:.0f})"
        else:
            total = "long train present" if s["present"] else "no long train"
        table.add_row(
            Path(s["image"]).name,
            f"{s['gsd']:g}",
            s["method"],
            *[str(s["by_class"].get(c, 0)) for c in classes],
            str(s["covered"]),
            total,
            s["output"],
        )
    console.print(table)


def _read_tracks(path: Path) -> Any:
    """Lines of a GeoJSON file (FeatureCollection, Feature or geometry), WGS84."""
    import json

    from shapely.geometry import MultiLineString, shape

    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read tracks {path}: {err}") from err
    feats = data.get("features") if data.get("type") == "FeatureCollection" else [data]
    lines: list[Any] = []
    for f in feats or []:
        geom = shape(f.get("geometry", f))
        lines += list(getattr(geom, "geoms", [geom]))
    lines = [g for g in lines if g.geom_type == "LineString"]
    if not lines:
        raise InputError(f"{path} holds no LineString track centrelines")
    return MultiLineString(lines)


def register(app: typer.Typer) -> None:
    app.command("detect")(detect_command)
