"""``railwatch scale``: measure an image's ground sample distance from its rails."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli._common import (
    bands_option,
    console,
    err_console,
    parse_bands_option,
    print_json,
    say_item_scaling,
)
from railwatch.rails import (
    BROAD_GAUGE_RAIL_CENTRES_M,
    MIN_SPACING_PX,
    RAIL_CENTRES_M,
    coarsest_measurable_m,
)

#: ``railwatch scale --help``: its figures from :mod:`railwatch.rails`, as the scale's
#: own messages give them (it said 0.37 m where they said 0.38 m; 2026-12-05, session 33).
SCALE_HELP = f"""Measure metres per pixel of IMAGE from the spacing of its rails (rail-head
centres are {RAIL_CENTRES_M:.3f} m apart on standard-gauge track). Prints the estimate with
its interval, or (on stderr) why it could not measure (no visible straight track, or rails
closer than {MIN_SPACING_PX:g} px: coarser than about {coarsest_measurable_m():.2f} m per pixel,
{coarsest_measurable_m(BROAD_GAUGE_RAIL_CENTRES_M):.2f} m with --gauge 1520); exits with
status 1 then. Use the result as [bold]railwatch detect IMAGE --gsd M[/] for images
without georeferencing.

Example: [bold]railwatch scale panel.png[/]
"""


def scale_command(
    image: Annotated[Path, typer.Argument(help="Image file: PNG, JPEG, GeoTIFF.")],
    gauge: Annotated[
        float,
        typer.Option(
            "--gauge",
            help="Track gauge in mm (1435 standard; 1520 Russian broad gauge gives a scale "
            "5.6 % coarser than standard).",
        ),
    ] = 1435.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    bands: Annotated[
        str | None,
        bands_option(
            "Band numbers (from 1) to mix as red, green, blue, as railwatch detect --bands "
            "reads them. Default: the bands the STAC sidecar (eo:bands) or the file labels "
            "so, else the first three, as detect chooses them."
        ),
    ] = None,
) -> None:
    """Measure metres per pixel of IMAGE from the spacing of its rails (the command's
    help, with the figures of :mod:`railwatch.rails`, is :data:`SCALE_HELP`)."""
    from railwatch.imagery.scale import measure_file, rail_centres_for_gauge

    found = measure_file(
        image, rail_centres_m=rail_centres_for_gauge(gauge), bands=parse_bands_option(bands)
    )
    s = found.scale
    say_item_scaling(image, found.item_scaling)
    if as_json:
        beside = found.item_scaling
        print_json(
            {
                "image": str(image),
                "width": found.width,
                "height": found.height,
                "georeferenced": found.georeferenced,
                "header_gsd": None if found.header_gsd is None else round(found.header_gsd, 4),
                "gauge_mm": gauge,
                **s.to_dict(),
                # the scales and offsets of the STAC item beside the file, where applied
                **(
                    {
                        "band_scaling": {
                            "scale": list(beside.scaling[0]),
                            "offset": list(beside.scaling[1]),
                            "from": beside.item,
                        }
                    }
                    if beside is not None and beside.scaling is not None
                    else {}
                ),
            }
        )
        if not s.measured:
            _not_measured(image, found.header_gsd, s.reason)
        return
    header = f" (its header says {found.header_gsd:.3g} m)" if found.header_gsd is not None else ""
    if s.measured and s.gsd is not None and s.gsd_low is not None and s.gsd_high is not None:
        console.print(
            f"[bold]{escape(image.name)}: {s.gsd:.3f} m per pixel[/] "
            f"({s.gsd_low:.3f}–{s.gsd_high:.3f}){header}: rails {s.spacing_px:.2f} px apart "
            f"in {s.strips} strips (spread {100 * (s.spread or 0):.1f} %), "
            f"{s.rail_centres_m:.3f} m between rail-head centres ({gauge:g} mm gauge)."
            + (
                f" Measured after {s.downsampled}× downsampling: the image looks upsampled."
                if s.downsampled > 1
                else ""
            )
        )
        return
    _not_measured(image, found.header_gsd, s.reason)


def _not_measured(image: Path, header_gsd: float | None, reason: str) -> None:
    """Say why the scale was not measured, on stderr as every failure is (stdout was
    left with the sentence, and ``--json`` exited 1 saying nothing on stderr), and exit
    with status 1."""
    header = f" (its header says {header_gsd:.3g} m)" if header_gsd is not None else ""
    err_console.print(
        f"[bold red]error:[/] {escape(image.name)}: not measured{header}: {escape(reason)}.",
        highlight=False,
    )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("scale", help=SCALE_HELP)(scale_command)
