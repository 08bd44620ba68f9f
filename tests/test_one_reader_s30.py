"""Pieces that were written twice now have one home (review follow-up): the card
reader (`train --init` read its card with a copy of `calibration.read_card`, taking a
card that is a folder for 'not a JSON object ([Errno 21] Is a directory)'), the list of
changed sidecars (`ingest`, `pipeline`), the words for results kept until a recount
(`ingest`, `stac`), the SQLite file of a URL (`db.sqlite_path`, `make_engine`) and the
scene row lock (`repo.lock_scene`, `pipeline._record_reference_stamps`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.detect.calibration import read_card
from railwatch.detect.train import read_init_card
from railwatch.errors import InputError
from railwatch.ingest import RESULTS_KEPT, sidecars_listed
from railwatch.storage import Database, repo
from railwatch.storage.db import NoDatabaseError, make_engine, sqlite_path

INIT_TODO = (
    "put back the card that railwatch train wrote, or move it away to continue from the "
    "weights without it (then decoded with the default settings until `railwatch "
    "calibrate`)"
)


def _card(tmp_path: Path, text: str | None) -> Path:
    w = tmp_path / "w.onnx"
    w.write_bytes(b"weights")
    card = w.with_suffix(".json")
    if text is None:
        card.mkdir()
    else:
        card.write_text(text)
    return w


def test_the_init_card_is_read_by_the_one_reader_with_its_own_advice(tmp_path: Path) -> None:
    w = _card(tmp_path, "[1, 2]")
    card = w.with_suffix(".json")
    with pytest.raises(InputError) as init:
        read_init_card(w)
    assert str(init.value) == (
        f"--init {w}: the card {card} is not a JSON object (it holds a JSON array); " + INIT_TODO
    )
    with pytest.raises(InputError) as writer:  # calibrate's and quantize's, as before
        read_card(w)
    assert str(writer.value).startswith(
        f"the card {card} is not a JSON object (it holds a JSON array), and writing it "
        "would replace it with the new entries alone; mend it"
    )


def test_an_init_card_that_is_a_folder_is_named(tmp_path: Path) -> None:
    w = _card(tmp_path, None)
    with pytest.raises(InputError) as init:
        read_init_card(w)
    assert str(init.value) == (
        f"--init {w}: the card {w.with_suffix('.json')} of {w} is a folder: move it away "
        "(the card is the JSON file beside the weights)"
    )


def test_an_init_card_that_is_not_json_says_why(tmp_path: Path) -> None:
    w = _card(tmp_path, "{not json")
    with pytest.raises(InputError, match=r"cannot read the card .* \(Expecting") as init:
        read_init_card(w)
    assert str(init.value).startswith(f"--init {w}: ")
    assert str(init.value).endswith(INIT_TODO)
    assert read_init_card(tmp_path / "none.onnx") == {}  # no card: none to pass on


def test_the_sidecars_listed_name_four() -> None:
    changed = [(f"s{i}.ovr", "changed") for i in range(6)]
    assert sidecars_listed(changed[:1]) == "s0.ovr changed"
    assert sidecars_listed(changed) == (
        "s0.ovr changed, s1.ovr changed, s2.ovr changed, s3.ovr changed and 2 more"
    )
    assert RESULTS_KEPT == " (its results so far are kept until then)"


def test_make_engine_opens_the_file_sqlite_path_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    url = "sqlite:///~/rw.db"
    assert sqlite_path(url) == tmp_path / "rw.db"
    with pytest.raises(NoDatabaseError) as missing:
        make_engine(url, create=False)
    assert missing.value.path == tmp_path / "rw.db"


def test_lock_scene_if_there_is_none_for_a_scene_gone(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        assert repo.lock_scene_if_there(s, 12345) is None
        assert repo.lock_scene_if_there(s, -1) is None
    db.dispose()
