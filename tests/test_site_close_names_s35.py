"""A mistyped site name (2026-12-06, session 35): with more than 10 sites the error
listed the first 10 names in alphabetical order, so ``tumangan`` among 50 yards did not
suggest ``tumangang`` (found by the CLI audit). Now the closest names come first."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import NotFoundError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo


@pytest.fixture
def db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        for i in range(47):
            lon = 100.0 + i * 0.1
            repo.add_site(s, site_from_bbox(f"yard-{i:02d}", [lon, 40.0, lon + 0.01, 40.01]))
        repo.add_site(s, site_from_bbox("tumangang", [130.60, 42.41, 130.62, 42.43]))
    return db


def test_a_typo_names_the_closest_sites(db: Database) -> None:
    with db.session(readonly=True) as s:
        with pytest.raises(NotFoundError) as err:
            repo.get_site(s, "tumangan")
        text = str(err.value)
        assert "did you mean 'tumangang'?" in text, text
        assert "(and 38 more: railwatch site list)" in text
        with pytest.raises(NotFoundError) as err:
            repo.get_site(s, "TUMANGANG")  # another case is another name, but close
        assert "did you mean 'tumangang'?" in str(err.value)
        with pytest.raises(NotFoundError) as err:
            repo.get_site(s, "rajin-port")  # nothing close: as before
        assert "did you mean" not in str(err.value)


def test_the_cli_says_it(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db.url, "site", "show", "tumangan"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no site named 'tumangan' (did you mean 'tumangang'?" in err, err
