"""One helper prints the warnings of new images and items for ``railwatch ingest`` and
``railwatch ingest-stac`` (session 30 follow-up; the loop added to ``ingest-stac``
repeated ``ingest``'s): ``warning: NAME: WHY`` on stderr, one line each, names and
reasons shown as they are (not read as rich markup), nothing for an entry without one.
``tests/test_ingest_stac_warning_s30.py`` runs it through ``ingest-stac``."""

from __future__ import annotations

import pytest

from railwatch.cli.ingest import print_warnings


def test_each_warning_one_line_on_stderr_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    print_warnings(
        [
            {"file": "yards/a[bold]", "warning": "scales [red]1e-4[/red] unlike the file's"},
            {"file": "b.tif"},
            {"file": "c.tif", "warning": None},
            {"file": "d.tif", "warning": "second"},
        ]
    )
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "warning: yards/a[bold]: scales [red]1e-4[/red] unlike the file's",
        "warning: d.tif: second",
    ]


def test_both_commands_print_them_with_it() -> None:
    """``ingest-stac``'s summary calls the same function as ``ingest``'s."""
    from railwatch.cli import ingest, ingest_stac

    assert ingest_stac.print_warnings is ingest.print_warnings
