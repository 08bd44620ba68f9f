"""``railwatch analyze --counts FILE SITE`` finds a site whose name SITE gives in another
Unicode form than the file's (macOS pastes NFD: 'Zu' + a combining diaeresis).

Until session 34 it was refused as "site 'Zürich' is not in the site column of ...
(sites there: 'Zürich')": two names that look the same, since csvio reads the file's
names in NFC and the argument was compared as typed.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from typer.testing import CliRunner

from railwatch.cli.main import build_app


def test_a_site_given_in_nfd_is_found(tmp_path: Path) -> None:
    nfc = "Zürich"
    rows = [f"2023-{m:02d}-01,{10 + m % 3},{nfc}" for m in range(1, 11)]
    rows.append(f"2023-10-20,{10},Basel")
    csv_path = tmp_path / "counts.csv"
    csv_path.write_text("date,count,site\n" + "\n".join(rows) + "\n", encoding="utf-8")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    result = CliRunner().invoke(build_app(), ["analyze", "--counts", str(csv_path), nfd, "--json"])
    assert result.exit_code == 0, result.output
    assert "not in the site column" not in result.output
