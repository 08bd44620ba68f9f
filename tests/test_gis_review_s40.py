"""Session 40 review of the GIS outputs: a rewrite that fails part way keeps the
previous output whole.

* ``railwatch detect -o FILE`` (``detect.geojson.write_geojson``) truncated FILE and then
  wrote it: a write that failed part way (disk full, a quota) left half a JSON file in
  place of the previous detections, which QGIS and GDAL refuse.
* ``railwatch export -f geojson|geoparquet`` renamed each layer's file into place as it
  was written: an export that failed at ``detections`` left the new ``sites`` and
  ``scenes`` beside the previous export's ``detections``, ``occupied_track`` and
  ``counts``, two exports in one folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import railwatch
from railwatch.detect.geojson import write_geojson
from railwatch.export import gis
from railwatch.storage import Database
from report_db import SITE_NAME, populate


def _collection(n: int) -> dict[str, Any]:
    ring = [[0.0, 0.0], [14.0, 0.0], [14.0, 3.0], [0.0, 3.0], [0.0, 0.0]]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"class": "railcar", "score": 0.9, "covered": False},
    }
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:32652"}},
        "features": [feature] * n,
    }


def test_detect_geojson_that_fails_part_way_keeps_the_previous_file(tmp_path: Path) -> None:
    """The disk fills part way through the new file (a file size limit of 16 KiB, in a
    child process): the previous file is left as it was, and no temporary file."""
    out = tmp_path / "yard.geojson"
    write_geojson(out, _collection(3))
    before = out.read_bytes()
    big = tmp_path / "big.json"
    big.write_text(json.dumps(_collection(2000)))  # about 300 KB
    assert len(big.read_bytes()) > 100_000
    script = textwrap.dedent(
        f"""
        import json, resource, signal
        from railwatch.detect.geojson import write_geojson
        from railwatch.errors import InputError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        collection = json.load(open({str(big)!r}))
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, hard))
        try:
            write_geojson({str(out)!r}, collection)
        except InputError as err:
            print("refused:", err)
        else:
            print("written")
        """
    )
    src = str(Path(railwatch.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "cannot write detections" in done.stdout
    assert out.read_bytes() == before  # not truncated, not half of the new one
    json.loads(out.read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json", "yard.geojson"]


def test_detect_geojson_through_a_link_keeps_the_link(tmp_path: Path) -> None:
    """A symbolic link given as the output is written through, as before."""
    target = tmp_path / "real.geojson"
    write_geojson(target, _collection(1))
    link = tmp_path / "link.geojson"
    link.symlink_to(target)
    write_geojson(link, _collection(4))
    assert link.is_symlink()
    assert len(json.loads(target.read_text())["features"]) == 4


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(database, tmp_path / "scenes")
    return database


@pytest.mark.parametrize("fmt", ["geojson", "geoparquet"])
def test_folder_export_that_fails_part_way_replaces_no_layer(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """A re-export over a folder fails at its third layer (``detections``): every file of
    the previous export is left as it was, none of them replaced by the new one's."""
    if fmt == "geoparquet":
        pytest.importorskip("pyarrow")
        pytest.importorskip("geopandas")
    ext = "geojson" if fmt == "geojson" else "parquet"
    out = tmp_path / f"yard-{fmt}"
    gis.export_site(db, SITE_NAME, fmt, out)
    # the previous export (of other data): each file marked as its own
    previous = {}
    for name in gis.LAYER_NAMES:
        path = out / f"{name}.{ext}"
        assert path.is_file()
        previous[name] = f"previous export: {name}".encode()
        path.write_bytes(previous[name])

    def full(path: Any) -> None:
        if "detections" in Path(path).name:
            Path(path).write_bytes(b"half")
            raise OSError(28, "No space left on device")

    if fmt == "geojson":
        real = Path.write_text

        def write_text(self: Path, *args: Any, **kwargs: Any) -> int:
            full(self)
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Path, "write_text", write_text)
    else:
        import geopandas
        import pandas

        for cls in (pandas.DataFrame, geopandas.GeoDataFrame):
            real_parquet = cls.to_parquet

            def to_parquet(frame: Any, path: Any, *args: Any, _real: Any = real_parquet,
                           **kwargs: Any) -> None:  # fmt: skip
                full(path)
                _real(frame, path, *args, **kwargs)

            monkeypatch.setattr(cls, "to_parquet", to_parquet)
    with pytest.raises(Exception, match="No space left"):
        gis.export_site(db, SITE_NAME, fmt, out)
    now = {name: (out / f"{name}.{ext}").read_bytes() for name in gis.LAYER_NAMES}
    assert now == previous
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{ext}" for n in gis.LAYER_NAMES)


@pytest.mark.parametrize("fmt", ["geojson", "geoparquet"])
def test_folder_export_replaces_every_layer(db: Database, tmp_path: Path, fmt: str) -> None:
    """A re-export that succeeds replaces every layer's file, and leaves no other."""
    if fmt == "geoparquet":
        pytest.importorskip("pyarrow")
        pytest.importorskip("geopandas")
    ext = "geojson" if fmt == "geojson" else "parquet"
    out = tmp_path / f"yard-{fmt}"
    gis.export_site(db, SITE_NAME, fmt, out)
    first = {n: (out / f"{n}.{ext}").read_bytes() for n in gis.LAYER_NAMES}
    for name in gis.LAYER_NAMES:
        (out / f"{name}.{ext}").write_bytes(b"stale")
    gis.export_site(db, SITE_NAME, fmt, out)
    again = {n: (out / f"{n}.{ext}").read_bytes() for n in gis.LAYER_NAMES}
    assert again == first
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{ext}" for n in gis.LAYER_NAMES)


def test_export_help_says_which_times_are_utc_and_which_local(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`railwatch export --help` said the coordinates' CRS but not the times': a GIS
    analyst met ``acquired`` (UTC) beside ``day`` (the local day at the site, which can be
    the next date) with nothing saying which was which, nor that a gap is empty."""
    from railwatch.cli.main import main

    monkeypatch.setenv("COLUMNS", "200")
    assert main(["export", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "Times (acquired, date) are UTC" in text
    assert "the column day beside each is the image's local day at the site, in its zone" in text
    assert "empty count cells, never 0" in text


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_detect_geojson_to_a_link_to_a_pipe_is_written_to_the_pipe(tmp_path: Path) -> None:
    """``detect -o /dev/stdout`` into a pipe: a link to ``/proc/self/fd/1``, whose target
    (``pipe:[N]``) is no path a temporary file can be written beside; the GeoJSON goes
    down the pipe as before the rename-into-place write."""
    read, write = os.pipe()
    try:
        link = tmp_path / "stdout"
        link.symlink_to(f"/proc/{os.getpid()}/fd/{write}")
        write_geojson(link, _collection(2))
        os.close(write)
        write = -1
        with os.fdopen(read, "rb") as stream:
            read = -1
            data = stream.read()
    finally:
        for fd in (read, write):
            if fd >= 0:
                os.close(fd)
    assert len(json.loads(data)["features"]) == 2
    assert link.is_symlink()


def test_detect_json_gives_covered_unknown_at_3_m(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``railwatch detect --json`` of a 3 m image (occupied track length) said ``covered:
    0`` (and its table 0) where no covered load can be told: the exports and the counts
    give it empty (unknown), never 0."""
    from railwatch.cli import _common
    from railwatch.cli.main import main
    from test_coarse_qa22b_detect_file import _write
    from test_detect_coarse import _yard

    monkeypatch.setattr(_common.console, "width", 120)
    img, _ = _yard(30.0, [140.0, 280.0, 0.0, 70.0])
    path = _write(tmp_path / "coarse.tif", img)
    assert main(["detect", str(path), "--out-dir", str(tmp_path / "out"), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert summary["method"] == "length"
    assert summary["covered"] is None
    assert main(["detect", str(path), "--out-dir", str(tmp_path / "out")]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if "length" in line)
    cells = [c.strip() for c in row.split("│")]
    assert cells[cells.index("length") + 2] == "–"  # the covered column


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write any file"
)
def test_detect_geojson_over_a_read_only_file_is_refused(tmp_path: Path) -> None:
    """A read-only output is refused, not replaced by the rename into place (as the
    write into it was refused before)."""
    from railwatch.errors import InputError

    out = tmp_path / "truth.geojson"
    write_geojson(out, _collection(1))
    before = out.read_bytes()
    out.chmod(0o444)
    with pytest.raises(InputError, match="cannot write detections"):
        write_geojson(out, _collection(3))
    assert out.read_bytes() == before
