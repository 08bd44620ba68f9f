"""What session 47 left for a user who runs railwatch unattended (cron) and through STAC
(2026-12-07, session 48).

1. Busy is status 75 (``EX_TEMPFAIL``), apart from a failure (1): another run holds the
   site or the database, and a cron script can try again later.
2. ``railwatch alerts --json`` gives each alert's ``created_at`` and ``updated_at``.
3. A static catalog's link to a server that is down is said, left out and the rest
   ingested (status 1); the next run takes it. The root down still fails at once.
4. ``ingest`` of a folder that holds no file (a drop folder on a quiet day) is status 0;
   a folder of other files, or a path not there, is still status 2.
5. The 8-bit-values check of a remote 16-bit COG reads each of its five windows inside
   one tile: one HTTP range request a window (10 became 5), the same verdicts.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

import railwatch
from railwatch.analysis.types import Alert
from railwatch.cli.main import EXIT_BUSY, main
from railwatch.pipeline import processing_lock
from railwatch.storage import Database, repo
from test_stac import make_cog, site_db
from test_stac_qa22_summary import item as stac_item

BBOX = "130.605,42.419,130.611,42.4235"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())


@pytest.fixture
def url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A database with one site, ``yard``, and nothing ingested."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", BBOX]) == 0
    capsys.readouterr()
    return url


# --- 1. busy: status 75 -------------------------------------------------------------------


def test_busy_is_status_75_the_sysexits_tempfail() -> None:
    assert EXIT_BUSY == 75


@pytest.mark.parametrize("argv", [["process", "yard"], ["site", "remove", "yard", "--yes"]])
def test_a_site_another_run_holds_is_status_75_not_a_failure(
    url: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A cron script could not tell "another run holds the site, try later" from a real
    failure: both were status 1."""
    db = Database(url)
    try:
        with processing_lock(db, ["yard"]):
            code, out, err = _run(capsys, "--db", url, *argv)
    finally:
        db.dispose()
    assert code == 75, err
    assert err.startswith("error: site 'yard' ") and "railwatch run" in err, err
    assert out == "" and "Traceback" not in err


def test_busy_keeps_75_with_debug(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = Database(url)
    try:
        with processing_lock(db, ["yard"]):
            code, _, err = _run(capsys, "--db", url, "--debug", "process", "yard")
    finally:
        db.dispose()
    assert code == 75
    assert "Traceback" in err and "BusyError" in err
    assert "error: site 'yard' is being processed by another railwatch run" in err


def test_a_sqlite_database_locked_past_the_busy_timeout_is_status_75(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite's "database is locked" after the busy timeout: another writer holds it, and
    the message says to try again; a StorageError, told by its cause."""
    import railwatch.storage.db as dbmod

    url = f"sqlite:///{tmp_path / 'held.db'}"
    Database(url).dispose()  # a new database, no connection left open
    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(tmp_path / "held.db", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        code, _, err = _run(capsys, "--db", url, "site", "add", "b", "--bbox", BBOX)
    finally:
        holder.close()
    assert code == 75, err
    assert "stayed locked by another writer for 0.2 s" in err, err


def test_a_failure_is_still_status_1_and_bad_input_2(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "--db", url, "process", "nosuchsite")
    assert code == 1, err
    code, _, err = _run(capsys, "--db", url, "ingest", "yard", str(tmp_path / "nowhere"))
    assert code == 2, err


def test_the_exit_statuses_are_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "75 busy: another railwatch run holds the site or the database" in text
    assert "1 failed" in text and "2 a wrong command line" in text


# --- 2. alerts --json: created_at and updated_at ----------------------------------------


def _spike(value: float) -> list[Alert]:
    return [
        Alert(
            key="spike-all-2023-10-05",
            kind="spike",
            severity="medium",
            when=datetime(2023, 10, 4, 20, 0, tzinfo=UTC),
            cls="all",
            value=value,
            explanation=f"{value:.0f} railcars: a spike.",
            metrics={"baseline": 5.0},
        )
    ]


def _listed(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> list[dict[str, Any]]:
    assert main(["--db", url, "alerts", "yard", "--json", *extra]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    assert when.utcoffset() == timedelta(0), text
    return when


def test_alerts_json_gives_when_each_alert_was_stored_and_changed(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A script had the image's time (`when`) and the acknowledgement's (`ack_at`) but
    not when the alert was raised or last changed, which the web API gives as
    created_at; --changed-since filters on the latter."""
    db = Database(url)
    try:
        with db.session() as s:
            repo.replace_alerts(s, "yard", _spike(30.0))
        (row,) = _listed(capsys, url)
        keys = list(row)
        assert keys[keys.index("ack_at") + 1 : keys.index("ack_at") + 3] == [
            "created_at",
            "updated_at",
        ]
        created, updated = _utc(row["created_at"]), _utc(row["updated_at"])
        with db.session(readonly=True) as s:
            (stored,) = repo.list_alerts(s, "yard")
            assert (created, updated) == (stored.created_at, stored.updated_at)
            # the same words and format as the Python API's (and the web API's) created_at
            assert railwatch.site_alerts(db, "yard")[0]["created_at"] == row["created_at"]
        # --changed-since compares with updated_at: listed from that time on, not after
        assert [r["id"] for r in _listed(capsys, url, "--changed-since", row["updated_at"])] == [
            row["id"]
        ]
        later = (updated + timedelta(microseconds=1)).isoformat()
        assert _listed(capsys, url, "--changed-since", later) == []

        # acknowledged: neither time moves (ack_at says when)
        assert main(["--db", url, "alert", "ack", str(row["id"]), "--json"]) == 0
        acked = json.loads(capsys.readouterr().out)
        assert (acked["created_at"], acked["updated_at"]) == (row["created_at"], row["updated_at"])
        assert acked["ack_at"] is not None

        # raised again saying something else: updated_at moves, created_at stays
        with db.session() as s:
            repo.replace_alerts(s, "yard", _spike(34.0))
        (again,) = _listed(capsys, url)
        assert again["created_at"] == row["created_at"]
        assert _utc(again["updated_at"]) > updated
    finally:
        db.dispose()


# --- a local HTTP server that serves byte ranges and counts the requests ------------------


class _RangeHandler(SimpleHTTPRequestHandler):
    """``http.server``'s file handler with HTTP range requests (GDAL reads a COG by
    ranges, and refuses a server that sends the whole file), each request counted."""

    log: list[tuple[str, str, str | None]]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self.log.append(("HEAD", self.path, None))
        super().do_HEAD()

    def do_GET(self) -> None:
        wanted = self.headers.get("Range")
        self.log.append(("GET", self.path, wanted))
        found = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted or "")
        path = Path(self.translate_path(self.path))
        if found is None or not path.is_file():
            super().do_GET()
            return
        data = path.read_bytes()
        start = int(found.group(1))
        end = min(int(found.group(2) or len(data) - 1), len(data) - 1)
        if start >= len(data):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.end_headers()
            return
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(data[start : end + 1])


class _Server:
    """A :class:`_RangeHandler` server for ``folder`` on ``port`` of 127.0.0.1 (0: any)."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.log: list[tuple[str, str, str | None]] = []
        handler = type("Handler", (_RangeHandler,), {"log": self.log})
        self.httpd = ThreadingHTTPServer(
            ("127.0.0.1", port), partial(handler, directory=str(folder))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def ranges(self, name: str) -> int:
        """How many GET requests with a Range header asked for the file ``name``."""
        return sum(1 for verb, path, wanted in self.log if path.endswith(name) and wanted)


# --- 3. a static catalog's link to a server that does not answer -------------------------


def _item_file(path: Path, ident: str, href: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stac_item(ident, href)))
    return path.name


def _catalog(path: Path, links: list[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "type": "Catalog", "id": path.parent.name, "stac_version": "1.0.0", "description": "d",
        "links": [{"rel": "root", "href": "./catalog.json"}]
        + [{"rel": rel, "href": href} for rel, href in links],
    }  # fmt: skip
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def down() -> Iterator[socket.socket]:
    """A socket bound to a port of 127.0.0.1 and not listening: connections to the port
    are refused (a server that is down) until the test closes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock
    finally:
        sock.close()


def test_a_link_to_a_server_that_is_down_is_left_out_and_taken_on_the_next_run(
    tmp_db_url: str, tmp_path: Path, down: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    """One dead link (a mirror on another host) stopped the whole walk: the catalog's
    other items were never registered. Now each such link is said, left out, the rest
    ingested, and the run is status 1; the next run, the server back, takes what was
    left out and registers nothing twice."""
    remote = tmp_path / "remote"
    dead_port = int(down.getsockname()[1])
    mirror = f"http://127.0.0.1:{dead_port}"
    (remote / "sub").mkdir(parents=True)
    for k, path in enumerate(("a", "c", "remote/b", "remote/sub/d")):
        make_cog(tmp_path / f"{path}.tif", k)
    _item_file(tmp_path / "a.json", "a", "./a.tif")
    _item_file(tmp_path / "c.json", "c", "./c.tif")
    _item_file(remote / "b.json", "b", "./b.tif")
    _item_file(remote / "sub" / "d.json", "d", "./d.tif")
    _catalog(remote / "sub" / "catalog.json", [("item", "./d.json")])
    catalog = _catalog(
        tmp_path / "catalog.json",
        [
            ("item", "./a.json"),
            ("item", f"{mirror}/b.json"),
            ("child", f"{mirror}/sub/catalog.json"),
            ("item", "./c.json"),
        ],
    )
    site_db(tmp_db_url).dispose()
    argv = ["--db", tmp_db_url, "ingest-stac", "yard", "--stac", str(catalog)]
    code, out, err = _run(capsys, *argv)
    assert code == 1, err
    said = " ".join(out.split())
    assert "4 STAC items found: 2 new scenes, 0 already there, 0 skipped, 2 failed" in said
    refused = f"cannot reach its server 127.0.0.1:{dead_port} (Connection refused)"
    assert (
        f"failed {mirror}/b.json: {refused}: this item was left out and the catalog's other "
        "links read; run `railwatch ingest-stac` again when that server answers (the items "
        "registered are kept, and not registered twice)"
    ) in said, said
    assert (
        f"failed {mirror}/sub/catalog.json: not tried: its server 127.0.0.1:{dead_port} did "
        "not answer an earlier link (Connection refused): this child catalog, with every "
        "item under it, was left out"
    ) in said, said
    assert err.startswith("error: 2 of 4 STAC items failed (listed above with the reason); ")
    assert "the 2 new scenes are kept" in err
    with Database(tmp_db_url).session(readonly=True) as s:
        assert sorted(sc.meta["stac_id"] for sc in repo.list_scenes(s, "yard")) == ["a", "c"]

    down.close()
    server = _Server(remote, dead_port)  # the server is back
    try:
        code, out, err = _run(capsys, *argv, "--json")
    finally:
        server.close()
    assert code == 0, err
    done = json.loads(out)
    assert sorted(entry["file"].split("/")[-1] for entry in done["ingested"]) == ["b", "d"]
    assert len(done["duplicates"]) == 2 and done["failed"] == []
    with Database(tmp_db_url).session(readonly=True) as s:
        stored = sorted(sc.meta["stac_id"] for sc in repo.list_scenes(s, "yard"))
    assert stored == ["a", "b", "c", "d"]


def test_a_root_on_a_server_that_is_down_fails_at_once(
    tmp_db_url: str, down: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    site_db(tmp_db_url).dispose()
    url = f"http://127.0.0.1:{down.getsockname()[1]}/catalog.json"
    code, out, err = _run(capsys, "--db", tmp_db_url, "ingest-stac", "yard", "--stac", url)
    assert (code, out) == (1, "")
    assert err == (
        f"error: cannot open STAC catalog {url}: cannot reach the server (Connection "
        "refused); check the URL and the network (or proxy), then run again"
    )


# --- 4. an empty drop folder is a quiet day ----------------------------------------------


def test_an_empty_drop_folder_is_nothing_to_ingest_status_0(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A daily cron job over a drop folder emptied after each run failed (status 2, "no
    image files found") on every day nothing was delivered. A folder that holds no file
    (hidden ones aside: .DS_Store, a transfer's partial file) is nothing to ingest."""
    inbox = tmp_path / "inbox"
    (inbox / "2026-12-07").mkdir(parents=True)  # an empty dated folder too
    (inbox / ".DS_Store").write_bytes(b"\0")
    (inbox / ".scene.tif.partial").write_bytes(b"II*\0")
    code, out, err = _run(capsys, "--db", url, "ingest", "yard", str(inbox))
    assert code == 0, err
    assert " ".join(out.split()) == f"yard: no image files in {inbox}: nothing to ingest"
    # the site has no image yet: the folder may be the wrong one
    assert err == (
        f"note: site yard has no image yet: check that {inbox} is the folder its images "
        "are delivered to."
    )
    code, out, err = _run(capsys, "--db", url, "ingest", "yard", str(inbox), "--json")
    assert code == 0, err
    said = json.loads(out)
    assert said["empty_folders"] == [str(inbox)] and said["ingested"] == said["failed"] == []


def test_a_site_with_images_is_not_told_to_check_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    site_db(url).dispose()
    (tmp_path / "day1").mkdir()
    make_cog(tmp_path / "day1" / "a_20231001.tif", 0)
    assert main(["--db", url, "ingest", "yard", str(tmp_path / "day1")]) == 0
    (tmp_path / "day2").mkdir()
    capsys.readouterr()
    code, out, err = _run(capsys, "--db", url, "ingest", "yard", str(tmp_path / "day2"))
    assert (code, err) == (0, "")
    assert "no image files in" in out and "nothing to ingest" in out


@pytest.mark.parametrize("what", ["text", "picture", "sidecar", "missing"])
def test_a_folder_of_other_files_or_a_missing_path_is_still_status_2(
    url: str, tmp_path: Path, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Named by mistake: a folder that holds files, none of them an image, or a path
    that is not there, is a mistake of the command line, as before."""
    folder = tmp_path / "folder"
    folder.mkdir()
    if what == "text":
        (folder / "readme.txt").write_text("deliveries")
    elif what == "picture":
        (folder / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    elif what == "sidecar":
        (folder / "a.tif.aux.xml").write_text("<PAMDataset/>")
    else:
        folder = tmp_path / "nowhere"
    code, _, err = _run(capsys, "--db", url, "ingest", "yard", str(folder))
    assert code == 2, err
    assert "nothing to ingest" not in err


def test_an_empty_folder_beside_a_missing_path_is_status_2(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "inbox").mkdir()
    code, _, err = _run(
        capsys, "--db", url, "ingest", "yard", str(tmp_path / "inbox"), str(tmp_path / "typo")
    )
    assert code == 2, err


# --- 5. the 8-bit-values check of a remote image: one range request a window ---------------


def _cog16(path: Path, values: np.ndarray, *, block: int = 512, **extra: Any) -> Path:
    """A 3-band uint16 COG of ``values`` (3, N, N), GDAL's COG driver (its overviews
    resampled as it resamples them by default unless ``extra`` says)."""
    size = values.shape[-1]
    with rasterio.open(
        path, "w", driver="COG", width=size, height=size, count=3, dtype="uint16",
        crs="EPSG:32652", transform=Affine(0.5, 0, 500_000, 0, -0.5, 4_680_000),
        blocksize=block, compress="deflate", **extra,
    ) as dst:  # fmt: skip
        dst.write(values.astype("uint16"))
    return path


def _levels(seed: int, size: int) -> np.ndarray:
    """8-bit levels in patches of 16 px, (3, size, size)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (3, size // 16, size // 16)).repeat(16, 1).repeat(16, 2)


@pytest.mark.parametrize(
    ("kind", "verdict"), [("x257", "x257"), ("linear", None), ("x4", "x4"), ("0-255", "0-255")]
)
def test_the_check_of_a_remote_cog_reads_each_window_in_one_range_request(
    tmp_path: Path, kind: str, verdict: str | None
) -> None:
    """``ingest-stac`` judges every new 16-bit item by five 256 px windows at full
    resolution; placed where they fell, they lay across the edges of two to four tiles
    and took two range requests each (10 of the 12 of the item's whole ingest). Each now
    lies inside one tile: 5, the verdict the same."""
    from railwatch.imagery.inspect import eight_bit_values, gdal_options
    from railwatch.stac import _uncached

    levels = _levels(1, 2048)
    values = {
        "x257": levels * 257,
        "linear": np.random.default_rng(2).integers(0, 4096, (3, 2048, 2048)),
        "x4": levels * 4,
        "0-255": levels,
    }[kind]
    _cog16(tmp_path / "item.tif", values)
    server = _Server(tmp_path)
    try:
        path, env = _uncached(f"{server.url}/item.tif")
        with rasterio.Env(**gdal_options(), **env), rasterio.open(path) as ds:
            assert ds.overviews(1)  # a COG with overviews, read at full resolution
            server.log.clear()
            assert eight_bit_values(ds) == verdict
    finally:
        server.close()
    assert server.ranges("item.tif") == 5, server.log


def test_the_verdict_is_read_at_full_resolution_not_from_the_overviews(tmp_path: Path) -> None:
    """GDAL's COG driver resamples its overviews (not by nearest neighbour) by default:
    their values are multiples of nothing, and a check read from them missed every
    8-bit file written so (why the windows stay at full resolution)."""
    from railwatch.imagery.inspect import eight_bit_values

    path = _cog16(tmp_path / "x257.tif", _levels(3, 2048) * 257)
    with rasterio.open(path) as ds:
        assert eight_bit_values(ds) == "x257"
    with rasterio.open(path, overview_level=0) as overview:
        assert eight_bit_values(overview) is None  # what an overview would have said


@pytest.mark.parametrize(
    ("start", "side", "block", "total", "expected"),
    [
        (896, 256, 512, 2048, 1152),  # across two tiles: centred in the tile of its centre
        (1408, 256, 512, 2048, 1664),
        (0, 256, 512, 2048, 128),
        (1792, 256, 512, 2000, 1664),  # the last tile (1536-1999) holds it
        (1944, 256, 512, 2200, 1664),  # its centre's tile, the last, is 152 px: the one before
        (896, 256, 128, 2048, 896),  # tiles smaller than the window: as it was
        (896, 256, 2048, 2048, 896),  # one tile (or a strip) spans the axis: as it was
        (0, 200, 512, 200, 0),
    ],
)
def test_a_window_is_moved_inside_one_tile(
    start: int, side: int, block: int, total: int, expected: int
) -> None:
    from railwatch.imagery.inspect import _within_one_block

    moved = _within_one_block(start, side, block, total)
    assert moved == expected
    assert 0 <= moved <= total - side
    if block >= side and block < total:
        assert moved // block == (moved + side - 1) // block  # one tile
