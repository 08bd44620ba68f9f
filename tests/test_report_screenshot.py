"""The HTML report renders in a real headless browser (Chromium), offline."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import require_service
from railwatch.report.html import write_html
from railwatch.report.model import Headline, ReportData, SceneRow

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "screenshot_report.sh"


@pytest.mark.services
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")):
        require_service("chromium", "install Debian's chromium package")
    t0 = datetime(2023, 1, 1, tzinfo=UTC)
    rows = tuple(
        SceneRow(i, t0 + timedelta(days=20 * i), "S", 0.5, True, 0.9, 1.0, 5.0 + i, 4.0 + i,
                 6.0 + i, {"tank": 2.0}, 1, "objects")
        for i in range(6)
    )  # fmt: skip
    data = ReportData(
        site="shot", description="", generated=t0, scenes=rows, baseline=(), events=(),
        alerts=(), evidence=(), caveats=("c",), method=(("detector", "d"),), classes=("tank",),
        headline=Headline("shot", (None, None), rows[-1], 10.0, 9.0, 11.0, 9.0, 6.0, "summary"),
    )  # fmt: skip
    html = write_html(data, tmp_path / "r.html")
    out = tmp_path / "shot.png"
    subprocess.run([str(SCRIPT), str(html), str(out), "900", "700"], check=True, timeout=120)
    with Image.open(out) as im:
        assert im.size == (900, 700)
        pixels = np.asarray(im.convert("L"), dtype=float)
    assert pixels.std() > 10  # the page drew something (text, the chart), not a blank page
