"""A STAC sidecar ``NAME.json`` written with a UTF-8 byte-order mark (Windows tools do)
is read like one without: it was refused as "not valid JSON (Unexpected UTF-8 BOM)"
while the label readers accepted the same file."""

from __future__ import annotations

import json
from pathlib import Path

from railwatch.imagery.inspect import sidecar_metadata


def test_a_sidecar_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    img = tmp_path / "a.tif"
    img.write_bytes(b"")  # only the sidecar is read here
    doc = {
        "type": "Feature",
        "properties": {"datetime": "2023-10-05T02:10:00Z", "view:sun_elevation": 38.5,
                       "view:sun_azimuth": 160.0, "title": "Tumangang – rail yard"},
    }  # fmt: skip
    (tmp_path / "a.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode("utf-8"))
    meta = sidecar_metadata(img)
    assert meta["sun_elevation"] == 38.5 and meta["sun_azimuth"] == 160.0
