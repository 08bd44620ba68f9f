"""The dashboard's CJK font as a subset of the characters the page shows (2026-12-06,
session 37): ``GET /fonts/cjk.otf?text=...`` answers the glyphs of those characters
(5.6 kB for a Korean page, where every visitor of such a page fetched the whole 16.4 MB
face), made with fontTools' subsetter, kept by character set in a bounded cache, with an
ETag that hashes the set; bad ``text`` is a 422 saying what to send. The dashboard's
script asks for it once the page shows such characters; an English page asks for
nothing.

The tests of the served font need the ``cjk`` extra (skipped without it, failed under
``RAILWATCH_REQUIRE_SERVICES=1``); those of the cache use a small collection of
matplotlib's DejaVu fonts in its place."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import matplotlib
import pytest
from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]

from helpers import require_service
from railwatch.report import fonts
from railwatch.storage import Database, repo

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.web import fonts as web_fonts
from railwatch.web.app import create_app

SITE = "두만강 역"
SITE_NAME = "두만강-역"  # as a site's name (no space)
LABEL = "김정은-푸틴 정상회담"
KOREAN_PAGE = SITE + LABEL


def _need_font() -> fonts.CjkFont:
    font = fonts.cjk_font()
    if font is None:
        require_service(
            "the cjk extra (Noto Sans CJK)", "pip install -e '.[cjk]' (make test installs it)"
        )
    assert font is not None
    return font


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        yield TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "c"), db))
    finally:
        db.dispose()


def _font_url(text: str) -> str:
    return f"/fonts/cjk.otf?text={quote(text)}"


@pytest.mark.xdist_group("cjk_whole_face")
def test_the_subset_draws_every_character_of_the_page_and_is_small(client: TestClient) -> None:
    """Every character of the Korean page is in the subset, which fontTools reads, keeps
    the font's copyright and licence records, and is a fraction of the whole face."""
    font = _need_font()
    got = client.get(_font_url(KOREAN_PAGE))
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "font/otf"
    assert got.content[:4] == b"OTTO"
    with TTFont(io.BytesIO(got.content)) as subset:
        cmap = subset.getBestCmap()
        assert all(ord(c) in cmap for c in KOREAN_PAGE)
        glyphs = subset.getGlyphSet()
        for c in set(LABEL) - {" ", "-"}:  # real outlines, not empty glyphs
            pen_bounds = glyphs[cmap[ord(c)]]
            assert pen_bounds.width > 0, c
        name = subset["name"]
        assert name.getDebugName(1) == font.family
        for record in (0, 13, 14):  # copyright, licence, licence URL (OFL 1.1)
            assert name.getDebugName(record), record
        assert "Open Font License" in name.getDebugName(13)
    whole = client.get("/fonts/cjk.otf")  # the whole face, still served
    assert whole.status_code == 200
    assert len(got.content) < 20_000 < 16_000_000 < len(whole.content)


def test_the_etag_is_that_of_the_character_set(client: TestClient) -> None:
    """The same characters in another order, or repeated, are the same subset (one
    ETag, a 304 to it); other characters another; subsets are kept a day."""
    _need_font()
    first = client.get(_font_url(LABEL))
    again = client.get(_font_url("".join(reversed(LABEL)) + LABEL))
    other = client.get(_font_url(SITE))
    assert first.status_code == again.status_code == other.status_code == 200
    assert first.headers["etag"] == again.headers["etag"] != other.headers["etag"]
    assert first.content == again.content
    assert first.headers["cache-control"] == "private, max-age=86400"
    cached = client.get(_font_url(LABEL), headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == first.headers["etag"]
    head = client.head(_font_url(LABEL))
    assert head.status_code == 200 and head.headers["content-type"] == "font/otf"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "text is empty: give the characters the page shows"),
        ("가" * (web_fonts.MAX_TEXT + 1), f"more than the {web_fonts.MAX_TEXT} one request"),
        ("\U0001f600\u0007", "the font draws none of the characters of text (U+0007, U+1F600)"),
    ],
    ids=["empty", "too-long", "not-in-font"],
)
def test_bad_text_is_a_422_saying_what_to_send(client: TestClient, text: str, says: str) -> None:
    _need_font()
    got = client.get(_font_url(text))
    assert got.status_code == 422, got.text
    assert got.headers["content-type"] == "application/problem+json"
    assert says in got.json()["detail"]


def test_characters_outside_the_font_are_left_out(client: TestClient) -> None:
    """A character the font lacks beside ones it has: the subset of the latter."""
    _need_font()
    with_emoji = client.get(_font_url(SITE + "\U0001f600"))
    alone = client.get(_font_url(SITE))
    assert with_emoji.status_code == 200
    assert with_emoji.headers["etag"] == alone.headers["etag"]


# the cache, with a collection of DejaVu faces for the CJK font (no extra needed)


@pytest.fixture
def dejavu(tmp_path: Path) -> fonts.CjkFont:
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    out = tmp_path / "two.ttc"
    both = TTCollection()
    both.fonts = [TTFont(str(folder / n)) for n in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")]
    both.save(str(out))
    with TTFont(str(out), fontNumber=0) as face:
        chars = frozenset(face.getBestCmap())
    return fonts.CjkFont(path=out, face=0, family="DejaVu Sans", chars=chars)


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The character sets subset (each call of fonts.face_subset)."""
    calls: list[str] = []
    original = fonts.face_subset

    def counted(path: Path, face: int, chars: Any) -> bytes:
        chars = list(chars)
        calls.append("".join(map(chr, chars)))
        return original(path, face, chars)

    monkeypatch.setattr(fonts, "face_subset", counted)
    return calls


def test_the_cache_keeps_at_most_its_entries(dejavu: fonts.CjkFont, made: list[str]) -> None:
    cache = web_fonts.SubsetCache(entries=3)
    for chars in ("a", "b", "c"):
        cache.get(dejavu, chars)
    cache.get(dejavu, "a")  # used again: "b" is now the least recently used
    cache.get(dejavu, "d")
    assert len(cache) == 3
    assert made == ["a", "b", "c", "d"]
    cache.get(dejavu, "a")
    cache.get(dejavu, "c")
    assert made == ["a", "b", "c", "d"]  # kept
    cache.get(dejavu, "b")
    assert made[-1] == "b" and len(cache) == 3  # dropped, so made again


def test_the_cache_keeps_at_most_its_bytes(dejavu: fonts.CjkFont, made: list[str]) -> None:
    one = len(fonts.face_subset(dejavu.path, dejavu.face, [ord("a")]))
    cache = web_fonts.SubsetCache(entries=100, max_bytes=int(one * 2.5))
    for chars in ("a", "b", "c", "d"):
        cache.get(dejavu, chars)
    assert len(cache) == 2 and cache.size <= one * 2.5
    body = cache.get(dejavu, "d")
    with TTFont(io.BytesIO(body)) as subset:
        assert set(subset.getBestCmap()) == {ord("d")}
    assert made[1:] == ["a", "b", "c", "d"]  # after the size measured above


# the dashboard in a browser


@pytest.mark.slow
@pytest.mark.services
def test_a_korean_page_fetches_the_subset_of_its_characters(browser: Any, tmp_path: Path) -> None:
    """The site list of a site named in Korean asks for the glyphs of its Korean
    characters alone (one request, from the app itself) and the browser draws the
    name with them (its width is that of the same text laid out anew: before
    common.js's redraw the listed name kept its empty boxes); a page of Latin names
    asks for no font."""
    _need_font()
    pytest.importorskip("uvicorn")
    from shapely.geometry import box

    from helpers import serve_db
    from railwatch.sites import SiteSpec

    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with db.session() as s:
            repo.add_site(s, SiteSpec(name="tumangang", geometry=box(130.6, 42.4, 130.61, 42.41)))
        with serve_db(db, tmp_path / "cache") as url:
            latin = _fonts_fetched(browser, url, "tumangang")
            assert latin["requests"] == []
            with db.session() as s:
                spec = SiteSpec(name=SITE_NAME, geometry=box(130.5, 42.2, 130.51, 42.21))
                repo.add_site(s, spec)
            korean = _fonts_fetched(browser, url, SITE_NAME)
    finally:
        db.dispose()
    ((address, status, size),) = korean["requests"]
    assert status == 200 and size < 20_000
    parts = urlsplit(address)
    assert f"{parts.scheme}://{parts.netloc}" == url and parts.path == "/fonts/cjk.otf"
    assert parse_qs(parts.query)["text"] == ["강두만역"]  # in code point order
    assert korean["drawn"] is True  # every Korean character of the page has a face loaded
    assert ["railwatch CJK", "loaded"] in korean["faces"]
    listed, alone = korean["widths"]  # drawn with the face (empty boxes were 32% narrower)
    assert abs(listed - alone) < 0.5, korean["widths"]


def _fonts_fetched(browser: Any, url: str, name: str) -> dict[str, Any]:
    page = browser.new_page()
    page.set_default_timeout(60_000)
    requests: list[tuple[str, int, int]] = []
    others: list[str] = []

    def answered(response: Any) -> None:
        if response.request.resource_type == "font":
            requests.append((response.url, response.status, len(response.body())))
        elif not response.url.startswith(url):
            others.append(response.url)

    page.on("response", answered)
    try:
        page.goto(url + "/")
        page.get_by_role("link", name=name).wait_for()
        page.wait_for_function("() => RW.cjkFont.idle()")  # scanned since the list was drawn
        if any(fonts.is_cjk(c) for c in name):  # the page's own use loads the face
            page.wait_for_function("() => [...document.fonts].some((f) => f.status === 'loaded')")
        result: dict[str, Any] = page.evaluate(
            """(name) => document.fonts.ready.then(() => ({
                faces: [...document.fonts].map((f) => [f.family.replaceAll('"', ''), f.status]),
                drawn: document.fonts.check('14px "railwatch CJK"', name.replaceAll('-', '')),
                widths: (() => {
                    // the name's width as listed, and as a new text beside it (laid out
                    // twice: Chromium drew the first one with empty boxes)
                    // (measured first: text added to its cell lays it out again)
                    const listed = [...document.querySelectorAll("#sites-body a")]
                        .find((x) => x.textContent === name).getBoundingClientRect().width;
                    const again = () => {
                        const s = document.createElement("span");
                        s.textContent = name;
                        document.body.append(s);
                        const w = s.getBoundingClientRect().width;
                        s.remove();
                        return w;
                    };
                    again();
                    return [listed, again()];
                })(),
            }))""",
            name,
        )
    finally:
        page.close()
    assert others == []
    result["requests"] = requests
    return result
