"""STAC items with a date that is not one (month 13, February 30, a number): the
error names the item, where it came from, the field, its value and what to write; it
said only "month must be in 1..12" (and "has no datetime or start_datetime" for a bad
``start_datetime``), and in an API search one such item ended the whole search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

import pystac

from test_stac import site_db
from test_stac_qa22_summary import item

FIX = 'write it as an RFC 3339 date and time, e.g. "2023-10-01T02:13:00Z"'


def bad_item(ident: str, **props: Any) -> dict[str, Any]:
    return item(ident, "a.tif", properties={"gsd": 0.5, **props})


@pytest.fixture(autouse=True)
def yard(tmp_db_url: str) -> None:
    site_db(tmp_db_url).dispose()


def run(db_url: str, url: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from railwatch.cli.main import main

    capsys.readouterr()
    code = main(["--db", db_url, "ingest-stac", "yard", "--stac", str(url)])
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2023-13-05T10:00:00Z", "month must be in 1..12"),
        ("2023-02-30", "day is out of range for month"),
    ],
)
def test_item_file_with_a_bad_datetime_names_item_file_field_and_value(
    value: str, why: str, tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "item.json"
    path.write_text(json.dumps(bad_item("scene-7", datetime=value)))
    code, said = run(tmp_db_url, path, capsys)
    assert code == 1
    assert said == (
        f"error: cannot read STAC item scene-7 ({path}): its datetime "
        f'"{value}" is not a valid date and time ({why}); {FIX}'
    )


def test_item_collection_and_catalog_items_with_bad_dates_say_which(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    features = [
        bad_item("m13", datetime="2023-13-05T10:00:00Z"),
        bad_item("feb30", datetime="2023-02-30"),
        bad_item("num", datetime=20230205),
    ]
    items = tmp_path / "items.json"
    items.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    code, said = run(tmp_db_url, items, capsys)
    assert code == 1
    assert (
        f"failed {items} (feature 1): cannot read STAC item m13: its datetime "
        f'"2023-13-05T10:00:00Z" is not a valid date and time (month must be in 1..12); '
        f"{FIX}, or remove it"
    ) in said
    assert (
        f"failed {items} (feature 2): cannot read STAC item feb30: its datetime "
        f'"2023-02-30" is not a valid date and time (day is out of range for month)'
    ) in said
    assert (
        f"failed {items} (feature 3): cannot read STAC item num: its datetime 20230205 "
        "is not a valid date and time (a int, not a string)"
    ) in said

    (tmp_path / "m13.json").write_text(json.dumps(features[0]))
    catalog = tmp_path / "catalog.json"
    link = {"rel": "item", "href": "./m13.json", "type": "application/json"}
    doc = {"type": "Catalog", "stac_version": "1.0.0", "id": "c", "description": "c"}
    catalog.write_text(json.dumps({**doc, "links": [link]}))
    code, said = run(tmp_db_url, catalog, capsys)
    assert code == 1
    assert (
        f"failed {tmp_path / 'm13.json'}: cannot read STAC item m13: its datetime "
        f'"2023-13-05T10:00:00Z" is not a valid date and time (month must be in 1..12); '
        f"{FIX}, or remove the item link to it"
    ) in said


def test_bad_start_datetime_is_named_not_said_missing(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "item.json"
    doc = bad_item("span", datetime=None, start_datetime="2023-02-30T00:00:00Z",
                   end_datetime="2023-03-01T00:00:00Z")  # fmt: skip
    path.write_text(json.dumps(doc))
    code, said = run(tmp_db_url, path, capsys)
    assert code == 1
    assert (
        'failed -/span: STAC item span: its start_datetime "2023-02-30T00:00:00Z" is not a '
        f"valid date and time (day is out of range for month); {FIX}"
    ) in said


class FakeSearch:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def items_as_dicts(self) -> Any:
        yield from self.docs


class FakeClient(pystac.Catalog):
    """A STAC API client whose search answers ``docs`` (what the API served)."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        super().__init__("api", "a STAC API")
        self.docs = docs

    def conforms_to(self, _: str) -> bool:
        return False

    def search(self, **_: Any) -> FakeSearch:
        return FakeSearch(self.docs)


def test_api_item_with_a_bad_date_fails_alone_not_the_search() -> None:
    """pystac-client's ``search.items()`` raised on the bad item: the search ended
    there as "reading items from URL: month must be in 1..12"."""
    from shapely.geometry import box

    from railwatch import stac

    docs = [
        {**bad_item("m13", datetime="2023-13-05T10:00:00Z"), "collection": "yards"},
        bad_item("ok", datetime="2023-10-01T02:13:00Z"),
    ]
    found = list(
        stac._search(FakeClient(docs), "http://api", box(0, 0, 1, 1), (), None, None, None)
    )
    assert len(found) == 2
    bad, good = found
    assert isinstance(bad, stac._Unreadable)
    assert bad.where == "yards/m13"
    assert str(bad.error()) == (
        'cannot read STAC item m13: its datetime "2023-13-05T10:00:00Z" is not a valid date '
        f"and time (month must be in 1..12); {FIX}, or ask the API's provider to fix it"
    )
    assert good.id == "ok"
    assert good.datetime.year == 2023
