"""``railwatch scale --help`` gives the coarsest measurable scale that the scale's own
messages give (session 33: the help said "about 0.37 m per pixel", the messages of
`scale` and `detect`, from the constants, 0.38 m: 1.505 m / 4 px = 0.376 m)."""

from __future__ import annotations

import re

import numpy as np
from typer.testing import CliRunner

from railwatch.cli.main import build_app
from railwatch.imagery.scale import estimate_gsd_from_rails


def test_the_help_and_the_refusal_name_the_same_coarsest_scale() -> None:
    flat = np.full((256, 256, 3), 120, dtype=np.uint8)  # no track: no rail pairs
    refused = estimate_gsd_from_rails(flat)
    assert not refused.measured
    found = re.search(r"coarser than about (\d+\.\d+) m per pixel", refused.reason or "")
    assert found is not None, refused.reason
    figure = found.group(1)
    assert figure == "0.38"  # 1.505 / 4 = 0.376
    result = CliRunner().invoke(build_app(), ["scale", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert f"coarser than about {figure} m per pixel" in text
    assert "0.37 m" not in text
    assert "0.40 m with --gauge 1520" in text  # 1.59 / 4 = 0.398
