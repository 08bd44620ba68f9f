"""QA: site names, site GeoJSON on standard input, and removing sites and events.

- "no site named X" listed the first 10 known sites with no sign there were more;
- `site add --geojson -` failed on text starting with a UTF-8 byte-order mark ("site
  GeoJSON file not found: \\ufeff{...}") while the same file by path worked;
- a name typed in decomposed Unicode (NFD) was refused as invalid though it looks
  identical; names are now stored in NFC and found in either form;
- `site remove` without --yes was an error (status 2) while `event remove` asked: both
  now ask on a terminal and are refused without --yes when not interactive.
"""

from __future__ import annotations

import io
import json
import unicodedata

import pytest
from shapely.geometry import box, mapping

from railwatch.cli.main import main
from railwatch.errors import NotFoundError
from railwatch.sites import site_from_bbox, site_from_geojson, validate_name
from railwatch.storage import Database, repo

BBOX = "130.60,42.28,130.63,42.30"
NFC = unicodedata.normalize("NFC", "café-sötét")
NFD = unicodedata.normalize("NFD", NFC)


class Terminal(io.StringIO):
    """Standard input that is a terminal (what is typed: the text given)."""

    def isatty(self) -> bool:
        return True


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def _names(db: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main([*db, "site", "list", "--json"]) == 0
    return [d["name"] for d in json.loads(capsys.readouterr().out)]


# ------------------------------------------------------------------ unknown site


@pytest.mark.parametrize(
    ("n_sites", "more"), [(12, " (and 2 more: railwatch site list)"), (10, "")]
)
def test_unknown_site_says_how_many_more_there_are(
    tmp_db_url: str, n_sites: int, more: str
) -> None:
    db = Database(tmp_db_url)
    with db.session() as s:
        for i in range(n_sites):
            repo.add_site(s, site_from_bbox(f"s{i:02d}", BBOX))
    with db.session() as s, pytest.raises(NotFoundError) as err:
        repo.get_site(s, "nope")
    shown = ", ".join(f"s{i:02d}" for i in range(10))
    assert f"(known sites: {shown}{more});" in str(err.value)


# ----------------------------------------------------------------- BOM on stdin


def test_geojson_on_stdin_with_a_byte_order_mark(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = json.dumps(mapping(box(130.6, 42.28, 130.63, 42.3)))
    monkeypatch.setattr("sys.stdin", io.StringIO("\ufeff" + text))
    code, out, err = run(capsys, "--db", tmp_db_url, "site", "add", "yard", "--geojson", "-")
    assert code == 0, err
    assert "Added site yard" in out
    # the library takes such text too (the web API and Python callers)
    assert site_from_geojson("other", "\ufeff " + text).name == "other"


def test_empty_stdin_says_so(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\ufeff\n"))
    code, _, err = run(capsys, "--db", tmp_db_url, "site", "add", "yard", "--geojson", "-")
    assert code == 2 and "standard input is empty" in err  # it said "... is a folder"


# ------------------------------------------------------------------ NFC names


def test_names_are_normalised_to_nfc() -> None:
    assert NFD != NFC and validate_name(NFD) == NFC
    assert site_from_bbox(NFD, BBOX).name == NFC


def test_decomposed_name_is_added_stored_in_nfc_and_found_in_either_form(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", tmp_db_url)
    code, out, err = run(capsys, *db, "site", "add", NFD, "--bbox", BBOX)
    assert code == 0, err  # was "invalid site name"
    assert _names(db, capsys) == [NFC]
    for form in (NFD, NFC):
        code, out, err = run(capsys, *db, "site", "show", form, "--json")
        assert code == 0 and json.loads(out)["name"] == NFC
    assert main([*db, "event", "add", NFD, "2024-04-10", "Test summit"]) == 0
    code, _, err = run(capsys, *db, "site", "add", NFC, "--bbox", BBOX)
    assert code == 1 and "already exists" in err  # not a look-alike second site
    code, out, _ = run(capsys, *db, "site", "remove", NFD, "--yes")
    assert code == 0 and f"Removed site {NFC} with 0 scenes" in out
    assert _names(db, capsys) == []


def test_a_name_stored_before_normalisation_is_still_found(tmp_db_url: str) -> None:
    """Hangul typed as conjoining jamo (NFD) passed the old check and was stored so."""
    from railwatch.storage.models import Site

    decomposed = unicodedata.normalize("NFD", "두만강")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    db = Database(tmp_db_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("tmp", BBOX))
        s.query(Site).one().name = decomposed  # as an older version stored it
    with db.session() as s:
        for form in (decomposed, unicodedata.normalize("NFC", decomposed)):
            assert repo.get_site(s, form).name == decomposed


# --------------------------------------------------------------- confirmations


def test_site_remove_without_yes_is_refused_when_not_interactive(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--db", tmp_db_url)
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # a pipe: not an answer
    code, out, err = run(capsys, *db, "site", "remove", "yard")
    assert code == 2 and "removing site 'yard' deletes its 0 scenes" in err
    assert "pass --yes to confirm (standard input is not a terminal" in err
    assert "[y/N]" not in out
    assert _names(db, capsys) == ["yard"]


@pytest.mark.parametrize(("answer", "kept"), [("n\n", True), ("\n", True), ("yes\n", False)])
def test_site_remove_asks_on_a_terminal(
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    kept: bool,
) -> None:
    db = ("--db", tmp_db_url)
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    assert main([*db, "event", "add", "yard", "2024-04-10", "Test summit"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    code, out, err = run(capsys, *db, "site", "remove", "yard")
    assert code == 0
    assert (  # asked on stderr (session 35: on stdout, mixed into the output)
        "Remove site 'yard' and its 0 scenes with their detections and counts, 1 event "
        "and 0 alerts? [y/N]:" in err
    )
    if kept:
        assert "Nothing removed: site yard kept." in out
        assert _names(db, capsys) == ["yard"]
    else:
        assert "Removed site yard with 0 scenes" in out
        assert _names(db, capsys) == []


def test_site_remove_interrupted_at_the_question(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class CtrlC(Terminal):
        # the override typeshed's TextIOBase.readline itself carries (str, not _IOBase's bytes)
        def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
            raise KeyboardInterrupt

    db = ("--db", tmp_db_url)
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    monkeypatch.setattr("sys.stdin", CtrlC())
    code, _, err = run(capsys, *db, "site", "remove", "yard")
    assert code == 130 and "Aborted." in err
    assert _names(db, capsys) == ["yard"]


def test_unknown_site_is_said_before_asking(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    Database(tmp_db_url).dispose()  # a database without the site (none is refused)
    code, out, err = run(capsys, "--db", tmp_db_url, "site", "remove", "nope")
    assert code == 1 and "no site named 'nope'" in err and "[y/N]" not in out


def test_event_remove_without_yes_is_refused_when_not_interactive(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--db", tmp_db_url)
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    assert main([*db, "event", "add", "yard", "2024-04-10", "Test summit"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, out, err = run(capsys, *db, "event", "remove", "1")
    assert code == 2 and "[y/N]" not in out
    assert (
        "removing event 1 ('Test summit' on 2024-04-10 at yard) cannot be undone; pass --yes "
        "to confirm (standard input is not a terminal" in err
    )
    assert main([*db, "event", "list", "yard", "--json"]) == 0
    assert "Test summit" in capsys.readouterr().out


@pytest.mark.parametrize("group", ["site", "event"])
def test_remove_help_says_when_it_asks(
    group: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main([group, "remove", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "asks for confirmation when run from a terminal; it is refused (status 2)" in out
    assert "(needed when not run from a terminal)" in out
