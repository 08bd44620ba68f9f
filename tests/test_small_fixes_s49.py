"""Small faults the REST API walk found outside the web layer (2026-12-07, session 49).

* ``since``/``until`` of the alert lists (``railwatch alerts --since``, ``GET
  /api/alerts?since=``) take a date or a date and time, yet a time that is no time
  (``2023-10-05T25:00``) was told it "is not a date YYYY-MM-DD" alone;
* ``railwatch scene list --json`` lacked ``file``, ``mask_file`` and ``needs_tracks``,
  which ``GET /api/sites/{site}/scenes`` gives for the same scenes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database
from railwatch.storage.alert_filter import parse_when
from test_analysis_review_cli import _yard


@pytest.mark.parametrize("text", ["2023-10-05T25:00", "yesterday", "2023-10-05 10h"])
def test_a_since_that_is_no_time_says_a_time_is_taken_too(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_when(text, "--since")
    words = str(err.value)
    assert words.startswith(f"--since {text!r} is not a date YYYY-MM-DD")
    assert "or a date and time YYYY-MM-DDTHH:MM[:SS]" in words
    assert "UTC unless it gives its zone" in words


def test_a_since_with_its_zone_is_read() -> None:
    at = parse_when("2023-10-05T10:00+09:00", "--since")
    assert at is not None and at.isoformat() == "2023-10-05T01:00:00+00:00"


@pytest.fixture
def yard_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'yard.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    db = Database(url)
    _yard(db)
    yield db
    db.dispose()


def test_scene_list_json_names_files_and_needs_tracks(
    yard_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scene", "list", "yard", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed
    for d in listed:
        assert d["needs_tracks"] is False
        assert d["file"] == Path(d["uri"]).name
        assert d["mask_file"] is None and d["mask_uri"] is None
    sid = listed[0]["id"]
    assert main(["scene", "show", str(sid), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["file"] == listed[0]["file"] and shown["needs_tracks"] is False


def test_some_names_the_first_and_counts_the_rest() -> None:
    """One helper cuts the lists messages give (session 49 review: seven copies)."""
    from railwatch.errors import some

    assert some(["a", "b"], 3) == "a, b"
    assert some(["a", "b", "c"], 3) == "a, b, c"
    assert some(["a", "b", "c", "d", "e"], 3) == "a, b, c and 2 more"
    assert some(["a", "b", "c"], 1, sep="; ") == "a and 2 more"
    assert some([], 3) == ""


def test_a_general_models_car_is_an_automobile() -> None:
    """COCO's names (an Ultralytics export built from its YAML carries them), DOTA's and
    xView's: with road vehicles or people beside it, a bare 'car' is an automobile, whose
    boxes were counted as railcars (session 49)."""
    from railwatch.detect.onnx_backend import class_map_of

    coco = ("person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck")
    assert class_map_of(coco) == (None,) * 8
    # xView's Cargo Car is a railcar (session 50: dropped until then), its Small Car not
    assert class_map_of(("Small_Car", "Truck", "Cargo Car", "Tank car")) == (
        None,
        None,
        "railcar",
        "tank",
    )
    # a model of railcars alone: 'car' is its railcar class, as before
    assert class_map_of(("car", "locomotive")) == ("railcar", "locomotive")
    assert class_map_of(("train",)) == ("railcar",)


def test_detect_says_why_a_general_models_car_is_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_walk_byom_s49 import _const_model, _geotiff

    model = _const_model(tmp_path / "m.onnx", [("output0", (1, 8, 84))])
    image = _geotiff(tmp_path / "a.tif", 64)
    capsys.readouterr()
    spec = f"onnx:{model}?classes=car,truck,railcar"
    assert main(["detect", str(image), "--detector", spec, "--out-dir", str(tmp_path / "o")]) == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "2 of the 3 classes of onnx:m.onnx are not railcar classes" in said, said
    assert "'car' is not taken as a railcar: in a model that also has road vehicles" in said


def test_the_general_words_are_said_only_of_a_general_model() -> None:
    """The note named 'car' and 'train' for any dropped 'cars' (which no model maps) and
    'train' where the model had none (session 49 review)."""
    from railwatch.detect.onnx_backend import general_words

    assert general_words(["boxcar", "cars"], ["cars"]) == []
    assert general_words(["gondola", "trains"], ["trains"]) == []
    assert general_words(["car", "truck", "person"], ["car", "truck", "person"]) == ["car"]
    assert general_words(["Train", "bus"], ["Train", "bus"]) == ["Train"]
