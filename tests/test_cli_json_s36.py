"""The command line for scripts, session 36 (2026-12-06): ``--json`` on ``site remove``,
``export``, ``report``, ``demo``, ``event remove`` and ``alert ack`` (each printed its
result as a sentence only); ``report``
takes ``--since``/``--until`` as ``alerts``, ``ingest`` and ``ingest-stac`` do (``--from``
and ``--to`` still work); and ``process`` (and ``detect``) say once which 1.5-5 m images
were counted along track lines found in the image itself, far less accurate than along
the site's drawn centrelines, and how to give them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import railwatch.cli._common as common
from railwatch.cli.main import main
from railwatch.storage import Database
from report_db import SITE_NAME, populate
from test_demo_qa22_first_run import small_demo  # noqa: F401  (the demo on three tiny scenes)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("cli_json_s36")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- site remove


def test_site_remove_json_says_what_was_deleted(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bbox = "8.587,47.528,8.593,47.532"
    assert main(["--db", db_url, "site", "add", "gone", "--bbox", bbox]) == 0
    assert main(["--db", db_url, "event", "add", "gone", "2024-03-01", "flood"]) == 0
    code, out, err = _run(capsys, "--db", db_url, "site", "remove", "gone", "--yes", "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "site": "gone",
        "removed": True,
        "scenes": 0,
        "detections": 0,
        "counts": 0,
        "events": 1,
        "alerts": 0,
        "reviews": 0,
    }


def test_site_remove_json_declined_at_the_question(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked on a terminal and answered no: JSON with removed false, the question on
    stderr, and the site kept."""
    bbox = "8.587,47.528,8.593,47.532"
    assert main(["--db", db_url, "site", "add", "kept", "--bbox", bbox]) == 0
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "n")
    code, out, err = _run(capsys, "--db", db_url, "site", "remove", "kept", "--json")
    assert code == 0, err
    nothing = {"scenes": 0, "detections": 0, "counts": 0, "events": 0, "alerts": 0, "reviews": 0}
    assert json.loads(out) == {"site": "kept", "removed": False, **nothing}  # r1: same keys
    assert "Remove site 'kept'" in err
    assert main(["--db", db_url, "site", "remove", "kept", "--yes"]) == 0


# ------------------------------------------------------------- event remove, alert ack


def test_event_remove_json_says_which_event_was_deleted(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _run(
        capsys, "--db", db_url, "event", "add", SITE_NAME, "2022-05-01", "strike", "--json"
    )
    assert code == 0, err
    added = json.loads(out)
    argv = ["--db", db_url, "event", "remove", str(added["id"]), "--json"]
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "n")
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    assert json.loads(out) == {**added, "removed": False, "alerts_naming_it": 0}
    code, out, err = _run(capsys, *argv, "--yes")
    assert code == 0, err
    assert json.loads(out) == {**added, "removed": True, "alerts_naming_it": 0}


def test_alert_ack_json_is_the_alert_acknowledged(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--db", db_url, "alerts", SITE_NAME, "--json")
    assert code == 0, err
    listed = json.loads(out)[0]
    argv = ["--db", db_url, "alert", "ack", str(listed["id"]), "--note", "seen", "--json"]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    acked = json.loads(out)
    assert acked["acknowledged"] is True and acked["ack_note"] == "seen" and acked["ack_at"]
    # the keys of `alerts --json`, the rest as listed
    assert set(acked) == set(listed)
    unchanged = {"id", "site", "kind", "severity", "when", "day", "explanation", "value"}
    assert {k: acked[k] for k in unchanged} == {k: listed[k] for k in unchanged}


# -------------------------------------------------------------------------------- export


def test_export_json_lists_each_file_written(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "c.csv"
    code, out, err = _run(
        capsys, "--db", db_url, "export", SITE_NAME, "-f", "csv", "-o", str(target), "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data == {
        "site": SITE_NAME,
        "format": "csv",
        "out": str(target),
        "files": [{"path": str(target), "layer": "counts", "bytes": target.stat().st_size}],
    }
    folder = tmp_path / "layers"
    code, out, err = _run(
        capsys, "--db", db_url, "export", SITE_NAME, "-f", "geojson", "-o", str(folder), "--json"
    )
    assert code == 0, err
    files = json.loads(out)["files"]
    assert [f["layer"] for f in files] == [
        "sites",
        "scenes",
        "detections",
        "occupied_track",
        "counts",
    ]
    for f in files:
        assert Path(f["path"]).parent == folder and Path(f["path"]).stat().st_size == f["bytes"]


def test_export_csv_to_stdout_with_json_is_refused(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(
        capsys, "--db", db_url, "export", SITE_NAME, "-f", "csv", "-o", "-", "--json"
    )
    assert code == 2 and out == ""
    assert "give one of them (--out testyard.csv --json for both)" in " ".join(err.split())
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------------------------- report


def test_report_json_says_what_was_written(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "r.html"
    argv = ["--db", db_url, "report", SITE_NAME, "-o", str(target), "--since", "2022-06-01"]
    code, out, err = _run(capsys, *argv, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data == {
        "site": SITE_NAME,
        "since": "2022-06-01",
        "until": None,
        "files": [{"path": str(target), "kind": "html", "bytes": target.stat().st_size}],
        "warnings": data["warnings"],
    }
    assert isinstance(data["warnings"], list)
    assert "wrote" not in out


def test_report_json_refuses_an_out_that_is_standard_output(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-o /dev/stdout --json`: the report and the JSON would be one stream."""
    target = tmp_path / "stdout.html"
    with target.open("w") as stream:
        capsys.readouterr()
        monkeypatch.setattr("sys.stdout", stream)
        code = main(["--db", db_url, "report", SITE_NAME, "-o", str(target), "--json"])
        monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 2
    assert "is standard output, where --json writes its JSON" in " ".join(err.split())
    assert target.read_text() == ""


def test_report_takes_since_and_until_as_alerts_does(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same period by either name: the same report (the period in its headline)."""
    new, old = tmp_path / "new.html", tmp_path / "old.html"
    base = ["--db", db_url, "report", SITE_NAME]
    assert main([*base, "-o", str(new), "--since", "2022-06-01", "--until", "2022-12-31"]) == 0
    assert main([*base, "-o", str(old), "--from", "2022-06-01", "--to", "2022-12-31"]) == 0
    assert "2022-06-01 to 2022-12-31" in new.read_text()
    assert "2022-06-01 to 2022-12-31" in old.read_text()
    # one old name, one new: the same options
    mixed = tmp_path / "mixed.html"
    assert main([*base, "-o", str(mixed), "--from", "2022-06-01", "--until", "2022-12-31"]) == 0
    assert "2022-06-01 to 2022-12-31" in mixed.read_text()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--since", "2022-06-01", "--from", "2022-07-01"],
            "--since 2022-06-01 and --from 2022-07-01 are the same option",
        ),
        (
            ["--since", "2022-12-01", "--until", "2022-06-01"],
            "--since 2022-12-01 is after --until 2022-06-01",
        ),
        (["--from", "2022-12-01", "--to", "2022-06-01"], "--from 2022-12-01 is after --to"),
        (["--until", "June"], "--until 'June' is not a date YYYY-MM-DD"),
    ],
)
def test_report_period_errors_name_the_options_given(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    target = tmp_path / "r.html"
    code, out, err = _run(capsys, "--db", db_url, "report", SITE_NAME, "-o", str(target), *args)
    assert code == 2 and out == ""
    assert says in " ".join(err.split())
    assert not target.exists()


def test_report_same_date_by_both_names_is_taken(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A script that adds --since beside its old --from with the same day is not refused."""
    target = tmp_path / "r.html"
    argv = ["--db", db_url, "report", SITE_NAME, "-o", str(target)]
    code, out, err = _run(capsys, *argv, "--since", "2022-06-01", "--from", "2022-06-01", "--json")
    assert code == 0, err
    assert json.loads(out)["since"] == "2022-06-01"


# ---------------------------------------------------------------------------------- demo


def test_demo_json_is_the_summary(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    small_demo: list[Any],  # noqa: F811
) -> None:
    out_dir = tmp_path / "out"
    code, out, err = _run(capsys, "demo", "--out", str(out_dir), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["site"] == "tumangang" and data["out"] == str(out_dir)
    assert data["database"] == f"sqlite:///{out_dir / 'railwatch-demo.db'}"
    assert data["scenes"] == 3 and data["failed"] == 0
    assert data["not_run"] and data["alerts"] == []  # stopped before detection
    assert set(data) >= {"counted", "unusable", "unusable_causes", "report", "timings_s"}
    assert "railwatch demo: starting in" in err  # notes on stderr


def test_demo_json_alerts_are_all_of_them_whole() -> None:
    """Every alert of the site total, info included, with its whole explanation (the
    table shows those above info, the first sentence of each)."""
    from railwatch.cli.demo import demo_dict
    from railwatch.demo import DemoAlert, DemoResult

    result = DemoResult(Path("/d"), "sqlite:////d/x.db", "tumangang", scenes=2, counted=2)
    result.alerts = [
        DemoAlert("2023-09-20", "record", "high", "30 railcars. Against 15.", "objects"),
        DemoAlert("2023-09-18", "record", "info", "17 railcars. Against 15.", "length"),
    ]
    data = demo_dict(result)
    assert data["alerts"] == [
        {
            "date": "2023-09-20",
            "kind": "record",
            "severity": "high",
            "method": "objects",
            "explanation": "30 railcars. Against 15.",
        },
        {
            "date": "2023-09-18",
            "kind": "record",
            "severity": "info",
            "method": "length",
            "explanation": "17 railcars. Against 15.",
        },
    ]
    json.dumps(data)  # serialisable as it is


# ------------------------------------------------------- coarse counts along found lines

CENTER = "130.6081,42.4214"
#: Inside the 600 m square of a 200 px 3 m simulated scene at CENTER.
BBOX = "130.6055,42.4195,130.6107,42.4233"
NOTE = "counted along track lines found in the image itself"


@pytest.fixture(scope="module")
def coarse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 3 m simulated images of one yard, with its centrelines."""
    folder = tmp_path_factory.mktemp("coarse_s36")
    for seed, day in ((4, "2024-03-01"), (5, "2024-04-01")):
        argv = ["simulate", "--scene", "--gsd", "3", "--size", "200x200", "--cars", "20"]
        argv += ["--seed", str(seed), "--layout-seed", "1", "--date", day, "--center", CENTER]
        assert main([*argv, "-o", str(folder / "sim")]) == 0
    return folder


def _site(folder: Path, name: str, *extra: str) -> str:
    url = f"sqlite:///{folder / f'{name}.db'}"
    assert main(["--db", url, "site", "add", name, "--bbox", BBOX, *extra]) == 0
    assert main(["--db", url, "ingest", name, str(folder.parent / "sim")]) == 0
    return url


def test_process_says_once_which_sites_were_counted_along_found_lines(
    coarse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    (folder.parent / "sim").symlink_to(coarse / "sim")
    url = _site(folder, "bare")
    code, out, err = _run(capsys, "--db", url, "process", "bare")
    assert code == 0, err
    said = " ".join(err.split())
    assert said.count(NOTE) == 1
    assert "note: 2 images (1.5–10 m) of site bare were " + NOTE in said
    assert "25 % read within ±15 % of the truth, against 54 % along drawn centrelines" in said
    assert "`railwatch site edit bare --tracks FILE`" in said
    assert NOTE not in out  # a note: stderr
    # --json: stdout holds the JSON alone, the note is on stderr all the same
    code, out, err = _run(capsys, "--db", url, "process", "bare", "--reprocess", "--json")
    assert code == 0, err
    json.loads(out)
    assert NOTE in " ".join(err.split())
    # nothing new counted: nothing to say
    code, _, err = _run(capsys, "--db", url, "process", "bare")
    assert code == 0 and NOTE not in " ".join(err.split())
    # given the centrelines, the recount is along them: no note
    tracks = coarse / "sim" / "sim_4.tracks.geojson"
    assert main(["--db", url, "site", "edit", "bare", "--tracks", str(tracks)]) == 0
    code, _, err = _run(capsys, "--db", url, "process", "bare")
    assert code == 0, err
    assert NOTE not in " ".join(err.split())


def test_process_of_a_site_with_tracks_says_nothing_of_found_lines(
    coarse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    (folder.parent / "sim").symlink_to(coarse / "sim")
    tracks = coarse / "sim" / "sim_4.tracks.geojson"
    url = _site(folder, "drawn", "--tracks", str(tracks))
    code, _, err = _run(capsys, "--db", url, "process", "drawn")
    assert code == 0, err
    assert NOTE not in " ".join(err.split())


def test_detect_says_a_coarse_image_was_measured_along_found_lines(
    coarse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = coarse / "sim" / "sim_4.tif"
    code, out, err = _run(capsys, "detect", str(image), "-o", str(tmp_path / "a.geojson"))
    assert code == 0, err
    said = " ".join(err.split())
    assert "note: sim_4.tif (1.5–10 m) was measured along track lines found in the image" in said
    assert "give the centrelines with --tracks FILE" in said
    assert "found in the image" not in out  # a note: stderr, beside the table
    tracks = coarse / "sim" / "sim_4.tracks.geojson"
    argv = ["detect", str(image), "-o", str(tmp_path / "b.geojson"), "--tracks", str(tracks)]
    code, _, err = _run(capsys, *argv)
    assert code == 0, err
    assert "found in the image" not in " ".join(err.split())
