"""The last two readers of a card move to the one card reader, ``calibration.read_card``,
and it refuses a card that is not a regular file before opening it (session 31).

- ``railwatch calibrate --refine`` read the shipped card with its own ``json.loads``:
  a card holding a JSON array was "cannot be read ('list' object has no attribute
  'get')", a folder "[Errno 21] Is a directory". Now worded as ``read_card`` words a card.
- ``train.stage_entries`` (``train --recipe``, ``record_script_run``) said "training stage
  K left no readable card next to P" and no more for a folder, a card that is not JSON,
  one that is not a JSON object, a missing one and an empty one alike. Now the reason
  follows, in ``read_card``'s words.
- ``read_card`` asked ``exists()`` and ``is_dir()`` and then read anything else: a named
  pipe (FIFO) named like the card waited for a writer for ever (the detector, calibrate,
  quantize, ``train --init``). Now refused, before it is opened.

The FIFO tests cannot hang on a reader that opens the pipe: :func:`_unblocking` keeps
opening and closing the pipe's write end while the test runs, so such a reader gets an
empty file (refused as not JSON, which the tests do not accept) instead of waiting.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.calibrate import _shipped_refine
from railwatch.detect import calibration
from railwatch.detect import default as default_module
from railwatch.detect.calibration import read_card, update_card
from railwatch.detect.default import default_weights
from railwatch.detect.train import stage_entries
from railwatch.errors import InputError

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")

STAGE_TODO = "train the stage again (railwatch train writes the card beside its weights)"
REFINE_TODO = "reinstall railwatch, or leave out --refine"

BROKEN: dict[str, str | None] = {
    "folder": None,
    "not-json": '{"config": {},',
    "array": "[1, 2]",
}


def _with_card(weights: Path, text: str | None) -> Path:
    """``weights`` (a placeholder file) with a card holding ``text`` (a folder for None)."""
    weights.parent.mkdir(parents=True, exist_ok=True)
    weights.write_bytes(b"weights")
    card = weights.with_suffix(".json")
    if text is None:
        card.mkdir()
    else:
        card.write_text(text)
    return weights


@pytest.fixture
def fifo_card(tmp_path: Path) -> Iterator[Path]:
    """Weights whose card ``w.json`` is a named pipe, unblocked while the test runs."""
    w = tmp_path / "w.onnx"
    w.write_bytes(b"weights")
    card = w.with_suffix(".json")
    os.mkfifo(card)
    with _unblocking(card):
        yield w


class _unblocking:
    """Open and close the write end of the pipe ``fifo`` over and over in a thread: a
    reader that opened it (waiting for a writer) gets an empty file instead of waiting."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        self.open = os.open  # the real one, should a test watch os.open
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                fd = self.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as err:  # ENXIO: no reader waits; ENOENT: moved away
                if err.errno not in (errno.ENXIO, errno.ENOENT):
                    raise
            else:
                os.close(fd)
            self.stop.wait(0.01)

    def __enter__(self) -> _unblocking:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def _fifo_words(w: Path) -> str:
    return (
        f"the card {w.with_suffix('.json')} of {w} is a named pipe (FIFO), not a regular "
        "file, and is not read: move it away (the card is the JSON file beside the weights)"
    )


# ------------------------------------------------------------------ read_card and FIFOs


@needs_fifo
def test_a_card_that_is_a_fifo_is_refused_without_being_opened(
    fifo_card: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    real_open = os.open

    def watched_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path) == os.fspath(fifo_card.with_suffix(".json")):
            opened.append("os.open")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", watched_open)
    with pytest.raises(InputError) as caught:
        read_card(fifo_card)
    assert str(caught.value) == _fifo_words(fifo_card)
    assert opened == []  # refused from what it is, before it is opened


@needs_fifo
def test_the_fifo_words_are_the_same_for_a_reader_with_its_own_advice(fifo_card: Path) -> None:
    """Not a matter of mending the card: what to do is said, not the caller's todo."""
    with pytest.raises(InputError) as caught:
        read_card(fifo_card, todo="do something else")
    assert str(caught.value) == _fifo_words(fifo_card)


@needs_fifo
def test_a_card_swapped_for_a_fifo_after_the_check_is_refused_when_opened(
    fifo_card: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the check and the open another process may put a pipe there: the pipe is
    opened without waiting and refused from the open file, not waited on or read."""
    regular = tmp_path / "regular.json"
    regular.write_text("{}")
    card = fifo_card.with_suffix(".json")
    real_stat = os.stat

    def stat_before_the_swap(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if os.fspath(path) == os.fspath(card):
            return real_stat(regular)
        return real_stat(path, *args, **kwargs)

    flags: list[int] = []
    real_open = os.open

    def watched_open(path: Any, flag: int, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path) == os.fspath(card):
            flags.append(flag)
        return real_open(path, flag, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat_before_the_swap)
    monkeypatch.setattr(os, "open", watched_open)
    with pytest.raises(InputError) as caught:
        read_card(fifo_card)
    assert str(caught.value) == _fifo_words(fifo_card)
    assert len(flags) == 1 and flags[0] & os.O_NONBLOCK  # opened without waiting


@needs_fifo
def test_a_writer_refuses_a_fifo_card_and_leaves_it_in_place(fifo_card: Path) -> None:
    card = fifo_card.with_suffix(".json")
    with pytest.raises(InputError, match=r"named pipe \(FIFO\), not a regular file"):
        update_card(fifo_card, {"threshold": 0.5})
    assert card.exists() and not card.is_file()
    assert not card.with_suffix(".json.tmp").exists()


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_a_card_that_is_a_device_is_refused(tmp_path: Path) -> None:
    """A symbolic link is followed: to a regular file it is read, to a device refused."""
    w = tmp_path / "w.onnx"
    w.write_bytes(b"weights")
    card = w.with_suffix(".json")
    if sys.platform == "win32":
        pytest.skip("symbolic links need privileges on Windows")
    card.symlink_to("/dev/null")
    with pytest.raises(InputError, match=r"is a device, not a regular file, and is not read"):
        read_card(w)
    card.unlink()
    (tmp_path / "real.json").write_text('{"threshold": 0.5}')
    card.symlink_to(tmp_path / "real.json")
    assert read_card(w) == {"threshold": 0.5}


def test_a_regular_card_and_no_card_read_as_before(tmp_path: Path) -> None:
    w = _with_card(tmp_path / "w.onnx", json.dumps({"threshold": 0.45}))
    assert read_card(w) == {"threshold": 0.45}
    assert read_card(tmp_path / "none.onnx") == {}
    assert read_card(w.with_suffix(".onnx") / "below-a-file.onnx") == {}


# --------------------------------------------------------------- calibrate --refine


def _shipped_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None) -> Path:
    shipped = _with_card(tmp_path / "pkg" / "railwatch_default.onnx", text)
    monkeypatch.setattr(default_module, "default_weights", lambda: shipped)
    return shipped


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_refine_words_a_broken_shipped_card_as_read_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    shipped = _shipped_elsewhere(tmp_path, monkeypatch, BROKEN[case])
    with pytest.raises(InputError) as caught:
        _shipped_refine(tmp_path / "mine.onnx")
    with pytest.raises(InputError) as reader:
        read_card(shipped, todo=REFINE_TODO)
    assert str(caught.value) == (f"--refine copies the shipped card's refiner, but {reader.value}")
    assert isinstance(caught.value.__cause__, InputError)
    assert "has no attribute" not in str(caught.value)


def test_refine_names_a_missing_shipped_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "pkg" / "railwatch_default.onnx"
    monkeypatch.setattr(default_module, "default_weights", lambda: shipped)
    with pytest.raises(InputError) as caught:
        _shipped_refine(tmp_path / "mine.onnx")
    assert str(caught.value) == (
        f"--refine copies the shipped card's refiner, but the card "
        f"{shipped.with_suffix('.json')} of {shipped} is missing; {REFINE_TODO}"
    )


@needs_fifo
def test_refine_refuses_a_shipped_card_that_is_a_fifo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "pkg" / "railwatch_default.onnx"
    shipped.parent.mkdir()
    shipped.write_bytes(b"weights")
    os.mkfifo(shipped.with_suffix(".json"))
    monkeypatch.setattr(default_module, "default_weights", lambda: shipped)
    with _unblocking(shipped.with_suffix(".json")), pytest.raises(InputError) as caught:
        _shipped_refine(tmp_path / "mine.onnx")
    assert str(caught.value) == (
        f"--refine copies the shipped card's refiner, but {_fifo_words(shipped)}"
    )


def test_refine_still_copies_the_shipped_entry_and_names_a_card_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = json.loads(default_weights().with_suffix(".json").read_text())
    assert _shipped_refine(tmp_path / "mine.onnx") == real["refine"]
    _shipped_elsewhere(tmp_path, monkeypatch, json.dumps({"threshold": 0.45}))
    with pytest.raises(InputError, match=r"names none: leave out --refine to calibrate"):
        _shipped_refine(tmp_path / "mine.onnx")


def test_calibrate_refine_with_a_broken_shipped_card_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command's status is the input error's, as before."""
    from railwatch.cli.main import main

    w = tmp_path / "w.onnx"
    shutil.copy(default_weights(), w)
    w.with_suffix(".json").write_text(json.dumps({"threshold": 0.45}))
    shipped = _shipped_elsewhere(tmp_path, monkeypatch, "[1, 2]")
    assert main(["calibrate", str(w), "--scenes", "1", "--refine"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"the card {shipped.with_suffix('.json')} is not a JSON object" in err
    assert json.loads(w.with_suffix(".json").read_text()) == {"threshold": 0.45}


# ----------------------------------------------------------------------- train stages


def _stage_error(paths: list[Path]) -> InputError:
    with pytest.raises(InputError) as caught:
        stage_entries(paths)
    return caught.value


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_stage_card_read_card_refuses_is_said_in_its_words(tmp_path: Path, case: str) -> None:
    good = _with_card(tmp_path / "w.stage1.onnx", json.dumps({"config": {"epochs": 1}}))
    bad = _with_card(tmp_path / "w.stage2.onnx", BROKEN[case])
    err = _stage_error([good, bad])
    with pytest.raises(InputError) as reader:
        read_card(bad, todo=STAGE_TODO)
    assert str(err) == f"training stage 2 left no readable card next to {bad}: {reader.value}"
    assert isinstance(err.__cause__, InputError)


def test_a_folder_stage_card_is_named_a_folder(tmp_path: Path) -> None:
    bad = _with_card(tmp_path / "w.stage1.onnx", None)
    assert str(_stage_error([bad])) == (
        f"training stage 1 left no readable card next to {bad}: the card "
        f"{bad.with_suffix('.json')} of {bad} is a folder: move it away (the card is the "
        "JSON file beside the weights)"
    )


@pytest.mark.parametrize("text", [None, "{}"], ids=["missing", "empty"])
def test_a_missing_or_empty_stage_card_says_which(tmp_path: Path, text: str | None) -> None:
    w = tmp_path / "w.stage1.onnx"
    w.write_bytes(b"weights")
    if text is not None:
        w.with_suffix(".json").write_text(text)
    what = "is missing" if text is None else "is an empty JSON object"
    assert str(_stage_error([w])) == (
        f"training stage 1 left no readable card next to {w}: the card "
        f"{w.with_suffix('.json')} {what}; {STAGE_TODO}"
    )


@needs_fifo
def test_a_stage_card_that_is_a_fifo_is_refused(fifo_card: Path) -> None:
    assert str(_stage_error([fifo_card])) == (
        f"training stage 1 left no readable card next to {fifo_card}: {_fifo_words(fifo_card)}"
    )


def test_readable_stage_cards_are_recorded_as_before(tmp_path: Path) -> None:
    one = _with_card(
        tmp_path / "w.stage1.onnx", json.dumps({"config": {"epochs": 1}, "bank": {"n": 2}})
    )
    two = _with_card(
        tmp_path / "w.onnx",
        json.dumps({"config": {"epochs": 2}, "bank": None, "trained_on": {"gpu": "X"}}),
    )
    assert stage_entries([one, two]) == [
        {"file": "w.stage1.onnx", "config": {"epochs": 1}, "bank": {"n": 2}},
        {"file": "w.onnx", "config": {"epochs": 2}, "bank": None, "trained_on": {"gpu": "X"}},
    ]


def test_the_one_reader_is_the_module_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both callers go through ``calibration.read_card`` (patched here), not a copy."""
    seen: list[Path] = []

    def fake(weights: str | Path, *, todo: str | None = None) -> dict[str, object]:
        seen.append(Path(weights))
        return {"config": {}, "refine": {"k": 1}}

    monkeypatch.setattr(calibration, "read_card", fake)
    assert _shipped_refine(Path("mine.onnx")) == {"k": 1}
    assert stage_entries([Path("s1.onnx")])[0]["file"] == "s1.onnx"
    assert seen == [default_weights(), Path("s1.onnx")]
