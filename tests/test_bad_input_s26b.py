"""Session 26 bad-input audit, second round: output paths of ``export`` and ``report``,
``--detector`` specs, the Python API's unreadable-pixels message and a counts CSV's
``scene_id``. Each test here failed before its fix, except the guard that the new
refusal of report endings keeps .htm and any case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import make_geotiff
from railwatch.cli.main import main
from railwatch.errors import DetectionError, InputError
from railwatch.storage import Database
from report_db import populate


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("s26b")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def _err(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    out, err = capsys.readouterr()
    return out, " ".join(err.split())


# ------------------------------------------------------------------- export -o -


def test_export_csv_to_dash_writes_the_csv_to_stdout_and_nothing_else(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    """`export SITE -f csv -o -` wrote a file literally named '-'."""
    monkeypatch.chdir(tmp_path)
    assert main(["--db", db_url, "export", "testyard", "-f", "csv", "-o", "-"]) == 0
    piped = capsysbinary.readouterr().out
    assert not (tmp_path / "-").exists()
    assert main(["--db", db_url, "export", "testyard", "-f", "csv", "-o", "c.csv"]) == 0
    capsysbinary.readouterr()
    assert piped == (tmp_path / "c.csv").read_bytes()  # the file's bytes, no 'wrote' line
    assert piped.startswith(b"date,day,local_zone,scene_id,")


@pytest.mark.parametrize(
    ("fmt", "kind", "example"),
    [
        ("gpkg", "a binary file", "testyard.gpkg"),
        ("geoparquet", "a folder of files", "testyard-geoparquet"),
        ("geojson", "a folder of files", "testyard-geojson"),
    ],
)
def test_export_to_dash_is_refused_for_the_other_formats(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    kind: str,
    example: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--db", db_url, "export", "testyard", "-f", fmt, "-o", "-"]) == 2
    out, err = _err(capsys)
    assert out == ""
    assert err == (
        f"error: --out - (standard output) is for --format csv only: a {fmt} export is "
        f"{kind}; give --out a name, e.g. --out {example}"
    )
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------- report's --out kind


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("r.txt", "ends in '.txt': a report is written as HTML (.html or .htm) or as a PDF "
         "(.pdf, the PDF alone); give --out r.html or --out r.pdf"),
        ("report", "has no ending: a report is written as HTML (.html or .htm) or as a "
         "PDF (.pdf, the PDF alone); give --out report.html or --out report.pdf"),
        ("-", "has no ending: a report is written as HTML (.html or .htm) or as a PDF "
         "(.pdf, the PDF alone); give --out testyard-report.html or --out "
         "testyard-report.pdf (for the HTML on standard output give -o /dev/stdout)"),
    ],
)  # fmt: skip
def test_report_to_a_name_of_no_report_kind_is_refused(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    said: str,
) -> None:
    """`report SITE -o r.txt` wrote HTML into r.txt without a word (`-o -` a file '-')."""
    monkeypatch.chdir(tmp_path)
    assert main(["--db", db_url, "report", "testyard", "-o", name]) == 2
    out, err = _err(capsys)
    assert out == "" and err == f"error: --out {name} {said}"
    assert list(tmp_path.iterdir()) == []


def test_report_endings_are_read_in_any_case(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A guard: refusing other endings keeps .htm (and .HTM) as HTML."""
    out = tmp_path / "Yard.HTM"
    assert main(["--db", db_url, "report", "testyard", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["Yard.HTM"]


def test_report_pdf_with_pdf_option_says_no_html_is_written(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-o r.PDF --pdf` wrote the PDF alone and ignored --pdf silently."""
    out = tmp_path / "r.PDF"
    assert main(["--db", db_url, "report", "testyard", "-o", str(out), "--pdf"]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    assert [p.name for p in tmp_path.iterdir()] == ["r.PDF"]
    _, err = _err(capsys)
    assert (
        f"note: --out {out} writes the PDF alone, so --pdf adds nothing and no HTML "
        "report is written; for both give --out NAME.html --pdf"
    ) in err


def test_report_through_a_link_takes_the_kind_of_the_file_it_names(
    db_url: str, tmp_path: Path
) -> None:
    """A link without an ending is written through, as the file it names is."""
    real = tmp_path / "shared" / "yard.pdf"
    real.parent.mkdir()
    link = tmp_path / "latest"
    link.symlink_to(real)
    assert main(["--db", db_url, "report", "testyard", "-o", str(link)]) == 0
    assert link.is_symlink() and real.read_bytes()[:5] == b"%PDF-"


# ------------------------------------------------------------------- --detector


def _image(path: Path) -> Path:
    data = np.random.default_rng(1).integers(20, 230, size=(3, 64, 64), dtype=np.uint8)
    return make_geotiff(path, width=64, height=64, data=data)


BAD_SPECS = [
    ("nosuch", "unknown detector 'nosuch': choose one of default"),
    ("default?views=0", "views='0' in detector 'default?views=0': use 1, 2, 4 or 8"),
    ("default-fp32?views=3", "views='3' in detector 'default-fp32?views=3': use 1, 2, 4"),
    ("default?verify=maybe", "verify='maybe' in detector"),
    ("onnx:", "detector 'onnx:' names no model file"),
    ("onnx:m.onnx?conf=2", "conf='2' in detector"),
]


@pytest.mark.parametrize(("spec", "said"), BAD_SPECS)
def test_a_bad_detector_spec_is_bad_usage_in_detect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str, said: str
) -> None:
    """A bad --detector exited 1 ('the command could not do its work'), not 2."""
    img = _image(tmp_path / "a.tif")
    out = tmp_path / "a.geojson"
    assert main(["detect", str(img), "-o", str(out), "--detector", spec]) == 2
    _, err = _err(capsys)
    assert err.startswith("error: ") and said in err, err
    assert not out.exists()


def test_weights_that_are_no_file_are_refused_when_the_spec_is_read(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--detector default:TYPO.onnx` was accepted, then failed every scene `process`
    read, one by one (status 1): now refused first, as onnx:PATH is (status 2)."""
    from railwatch.detect.registry import DetectorSpecError, get_detector

    missing = tmp_path / "tuned.onnx"
    with pytest.raises(DetectorSpecError, match=r"weights not found at .*tuned\.onnx: no such"):
        get_detector(f"default:{missing}")
    with pytest.raises(DetectorSpecError, match=r"it is a folder: give the weights' \.onnx file"):
        get_detector(f"default-fp32:{tmp_path}")
    argv = ["--db", db_url, "process", "testyard", "--reprocess", "--detector"]
    assert main([*argv, f"default:{missing}"]) == 2
    _, err = _err(capsys)
    assert f"error: detector 'default:{missing}': default detector weights not found" in err
    assert "failed" not in err  # no scene was read


@pytest.mark.parametrize("command", ["process", "eval"])
def test_a_bad_detector_spec_is_bad_usage_in_process_and_eval(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    _image(tmp_path / "a.tif")
    (tmp_path / "a.truth.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    argv = (
        ["--db", db_url, "process", "testyard"]
        if command == "process"
        else ["eval", "--truth", str(tmp_path)]
    )
    assert main([*argv, "--detector", "default?views=0"]) == 2
    _, err = _err(capsys)
    assert "views='0' in detector 'default?views=0': use 1, 2, 4 or 8" in err


def test_a_bad_spec_is_still_a_detection_error_and_a_failing_model_is_not_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Python API keeps its exception type: a bad spec is a DetectionError (and an
    InputError now); a model that cannot be loaded is a DetectionError only (status 1)."""
    from railwatch.detect.registry import get_detector

    for spec, _ in BAD_SPECS:
        with pytest.raises(DetectionError) as caught:
            get_detector(spec)
        assert isinstance(caught.value, InputError), spec
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(DetectionError) as caught:
        get_detector(f"onnx:{broken}")
    assert not isinstance(caught.value, InputError)
    img = _image(tmp_path / "a.tif")
    assert main(["detect", str(img), "--detector", f"onnx:{broken}"]) == 1


# ------------------------------------------------------- Python API: corrupt pixels


def test_detect_file_says_a_truncated_image_is_corrupt(tmp_path: Path) -> None:
    """`detect_file` raised 'cannot read pixels of F: Read failed. See previous
    exception for details.', where the CLI says what is wrong and what to do."""
    from railwatch.detect.api import detect_file
    from railwatch.imagery.inspect import CorruptImageError

    path = tmp_path / "cut.tif"
    data = np.random.default_rng(3).integers(0, 255, size=(3, 512, 512), dtype=np.uint8)
    make_geotiff(path, width=512, height=512, data=data, tiled=True, blockxsize=256, blockysize=256)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(CorruptImageError) as caught:
        detect_file(path)
    message = str(caught.value)
    assert message.startswith("cut.tif is corrupt or truncated (")
    assert message.endswith("): re-download or re-export it")
    assert "See previous exception" not in message


# ------------------------------------------------------------- counts CSV scene_id


def test_a_scene_id_no_database_can_hold_is_refused_with_its_line() -> None:
    from railwatch.analysis.csvio import parse_counts_csv
    from railwatch.cli import _common
    from railwatch.limits import MAX_RECORD_ID

    assert _common.MAX_RECORD_ID is MAX_RECORD_ID == 2**31 - 1  # one limit, in the core
    head = "scene_id,date,count\n1,2023-09-25,40\n"
    points = parse_counts_csv(head + f"{MAX_RECORD_ID},2023-10-05,41\n")[""]
    assert [p.scene_id for p in points] == [1, MAX_RECORD_ID]
    with pytest.raises(
        InputError,
        match=rf"^line 3: scene_id {MAX_RECORD_ID + 1} is not a scene id \(ids go up to "
        rf"{MAX_RECORD_ID}\): check that column, or leave it empty$",
    ):
        parse_counts_csv(head + f"{MAX_RECORD_ID + 1},2023-10-05,41\n")
    long = "9" * 40
    with pytest.raises(InputError, match=r"line 3: scene_id 99999999999999999999\.\.\. \(40 "):
        parse_counts_csv(head + f"{long},2023-10-05,41\n")
    # a digit str.isdigit() takes and int() does not: an internal error (ValueError)
    with pytest.raises(InputError, match=r"line 3: scene_id '²' is not a scene id"):
        parse_counts_csv(head + "²,2023-10-05,41\n")


def test_analyze_counts_with_a_huge_scene_id_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "counts.csv"
    csv.write_text("scene_id,date,count\n1,2023-09-25,40\n4294967296,2023-10-05,41\n")
    assert main(["analyze", "--counts", str(csv)]) == 2
    _, err = _err(capsys)
    assert "line 3: scene_id 4294967296 is not a scene id" in err
