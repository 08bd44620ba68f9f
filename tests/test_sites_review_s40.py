"""Review of the site definition path (2026-12-06, session 40): faults a user hit with
`railwatch site add/edit` and their fixes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from railwatch.cli.main import main
from railwatch.errors import GeometryError
from railwatch.sites import site_from_geojson

YARD = [[8.50, 47.37], [8.52, 47.37], [8.52, 47.38], [8.50, 47.38], [8.50, 47.37]]
YARD_WKT = "((8.50 47.37, 8.52 47.37, 8.52 47.38, 8.50 47.38, 8.50 47.37))"


# ------------------------------------------------- an empty part of a MultiPolygon


@pytest.mark.parametrize(
    "text",
    [
        f"MULTIPOLYGON ({YARD_WKT}, EMPTY)",
        json.dumps({"type": "MultiPolygon", "coordinates": [[YARD], [[]]]}),
    ],
    ids=["wkt", "geojson-empty-ring"],
)
def test_an_empty_part_of_a_multipolygon_is_refused_not_hung_on(text: str) -> None:
    # a MultiPolygon with an empty polygon among its parts made the parts' distance
    # check look for that part's nearest neighbour for ever (its box is NaN): `site
    # add` hung (a subprocess, so that a hang fails the test instead of the run)
    code = (
        "import sys\n"
        "from railwatch.errors import GeometryError\n"
        "from railwatch.sites import GeoJSONText, site_from_geojson\n"
        "try:\n"
        "    site_from_geojson('yard', GeoJSONText(sys.stdin.read()))\n"
        "except GeometryError as err:\n"
        "    print(err)\n"
    )
    try:
        run = subprocess.run(
            [sys.executable, "-c", code],
            input=text,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("site_from_geojson did not return on a MultiPolygon with an empty part")
    assert run.returncode == 0, run.stderr
    assert "polygon 1 is empty (it has no positions): remove it from the MultiPolygon" in (
        run.stdout
    )


def test_a_multipolygon_part_without_rings_is_named_in_a_clear_message(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # it was "not a valid GeoJSON geometry: list index out of range"
    path = tmp_path / "yard.geojson"
    path.write_text(json.dumps({"type": "MultiPolygon", "coordinates": [[YARD], []]}))
    with pytest.raises(GeometryError, match=r"\(polygon 1\) is empty .*remove it from"):
        site_from_geojson("yard", path)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "polygon 1) is empty" in err and "list index" not in err
    assert not (tmp_path / "railwatch-test.db").exists()  # refused before the database


# --------------------------------------------- `railwatch scale` on a palette image


def test_scale_measures_a_palette_image_on_its_colours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `railwatch scale` (and detect's --gsd check) read a palette PNG's indexes as grey:
    # in no order of brightness, its rails were no dark lines, "no rail pairs found"
    from PIL import Image

    from railwatch.imagery.scale import measure_file
    from test_rail_scale import rails_image

    rgb = rails_image(8.0, 30.0, size=400)
    Image.fromarray(rgb).save(tmp_path / "rails.png")
    quantised = Image.fromarray(rgb).quantize(colors=64)
    entries = quantised.getpalette()
    assert entries is not None
    table = np.asarray(entries[: 64 * 3]).reshape(64, 3)
    order = np.random.default_rng(1).permutation(64)  # entries in no order of brightness
    index = np.argsort(order)[np.asarray(quantised)].astype(np.uint8)
    palette = Image.fromarray(index, mode="P")
    palette.putpalette(table[order].flatten().tolist())
    palette.save(tmp_path / "rails_palette.png")
    assert Image.open(tmp_path / "rails_palette.png").mode == "P"

    as_rgb = measure_file(tmp_path / "rails.png").scale
    found = measure_file(tmp_path / "rails_palette.png").scale
    assert as_rgb.measured and as_rgb.gsd is not None
    assert found.measured, found.reason
    assert found.gsd == pytest.approx(as_rgb.gsd, rel=0.02)
    assert main(["scale", str(tmp_path / "rails_palette.png")]) == 0
    assert "m per pixel" in capsys.readouterr().out
