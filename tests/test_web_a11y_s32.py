"""An accessibility pass over the dashboard in Chromium (session 32).

What it found, each fixed and checked here: the site page had no ``h1`` (the site's name
was a span); the stepper's buttons were named "◀" and "▶" for a screen reader; the notes
of an acknowledgement and of an analyst's count were named by their placeholders only
(gone once typed in); the slider said "120", not which image; white on the red of a
"high" badge was 3.9:1, and an acknowledged alert's opacity of 0.75 put its links, muted
text and badges under the 4.5:1 of small text (WCAG AA); the active image's entry kept
its 1 px outline under the keyboard's focus, so the focus could not be seen on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from counted_site import LOCAL
from railwatch.storage import Database

SITE = "wellington"
TOKEN = "a11y-token-s32"

pytestmark = [pytest.mark.slow, pytest.mark.services]

#: roles a user acts on, each needing a name that says what it does
CONTROLS = {"button", "link", "textbox", "combobox", "slider", "spinbutton", "checkbox"}

#: the contrast of every visible text with what is under it, an acknowledged alert's
#: opacity composited over the page (WCAG: 4.5:1, 3:1 for large text)
CONTRAST = r"""() => {
  const rgba = (c) => c.match(/[\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const page = rgba(getComputedStyle(document.body).backgroundColor);
  const mix = (c, o) => c.slice(0, 3).map((v, i) => o * v + (1 - o) * page[i]);
  const bgOf = (n) => {
    for (let e = n; e && e.nodeType === 1; e = e.parentElement) {
      if (e instanceof SVGElement && e.tagName !== "svg") continue;
      const b = rgba(getComputedStyle(e).backgroundColor);
      if (b.length < 4 || b[3] > 0.5) return b;
    }
    return page;
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const e = t.parentElement;
    if (!t.textContent.trim() || !e) continue;
    if (e.closest("title, script, .leaflet-control-container")) continue;
    if (!e.getBoundingClientRect().width || e.closest("[hidden]")) continue;
    const cs = getComputedStyle(e);
    let op = 1;
    for (let x = e; x && x.nodeType === 1; x = x.parentElement) {
      op *= Number(getComputedStyle(x).opacity);
    }
    const fg = mix(rgba(e instanceof SVGElement ? cs.fill : cs.color), op);
    const bg = mix(bgOf(e), op);
    const [l1, l2] = [lum(fg), lum(bg)];
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize);
    const need = size >= 24 || (Number(cs.fontWeight) >= 700 && size >= 18.66) ? 3 : 4.5;
    const what = `${e.tagName}.${e.getAttribute("class")} "${t.textContent.trim().slice(0, 20)}"`;
    if (ratio < need) bad.push(`${what} ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A UTC+12 site of 121 counted images with its alerts, one acknowledged, served
    with an API token (the analyst's count form is shown)."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from sqlalchemy import select

    from helpers import add_analysed_wellington, serve_db
    from railwatch.storage import repo
    from railwatch.storage.models import Alert

    tmp = tmp_path_factory.mktemp("a11y")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    try:
        add_analysed_wellington(db, SITE, analysed_after=timedelta(days=120))
        with db.session() as s:
            first = s.scalars(select(Alert.id).order_by(Alert.id)).first()
            assert first is not None
            repo.acknowledge_alert(s, first, "checked")
        with serve_db(db, tmp / "cache", token=TOKEN) as url:
            yield url
    finally:
        db.dispose()


def _site_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{url}/sites/{SITE}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#review-form")
    page.wait_for_selector(".alert.acked")
    return page


def _unnamed(page: Any) -> list[str]:
    """The controls of the page's accessibility tree (Chromium's, through CDP) with no
    name, a name of symbols only ("◀"), or a name from their placeholder alone."""
    cdp = page.context.new_cdp_session(page)
    bad = []
    for node in cdp.send("Accessibility.getFullAXTree")["nodes"]:
        role = (node.get("role") or {}).get("value")
        if node.get("ignored") or role not in CONTROLS:
            continue
        name = node.get("name") or {}
        text = str(name.get("value", "")).strip()
        given = [
            s["type"] for s in name.get("sources", []) if s.get("value") or s.get("attributeValue")
        ]
        if not any(ch.isalnum() for ch in text) or given == ["placeholder"]:
            bad.append(f"{role} {text!r} ({given})")
    cdp.detach()
    return bad


def test_every_control_has_a_name_and_the_page_a_heading(world: str, browser: Any) -> None:
    page = _site_page(browser, world)
    assert page.locator("h1").all_inner_texts() == [SITE]
    heads = page.eval_on_selector_all("h1, h2, h3", "hs => hs.map((h) => h.tagName)")
    assert heads[0] == "H1" and "H2" in heads
    assert page.locator(".ack-note").count() >= 1 and page.locator("#review-note").count() == 1
    assert _unnamed(page) == []
    assert page.get_attribute("#prev", "aria-label") == "previous image"
    label = page.get_attribute(".alert:not(.acked) .ack-note", "aria-label") or ""
    assert label.startswith("note on acknowledging the") and "what you checked" in label
    page.close()
    index = browser.new_page()
    index.goto(f"{world}/")
    index.wait_for_selector(".site-row")
    assert index.locator("h1").all_inner_texts() == ["Monitored sites"]
    assert _unnamed(index) == []
    index.close()


def test_text_contrast_is_at_least_wcag_aa(world: str, browser: Any) -> None:
    page = _site_page(browser, world)
    assert page.locator(".alert .badge-high").count() >= 1
    assert page.evaluate(CONTRAST) == []
    page.close()
    index = browser.new_page()
    index.goto(f"{world}/")
    index.wait_for_selector(".site-row .badge-high")
    assert index.evaluate(CONTRAST) == []
    index.close()


def test_the_slider_says_which_image(world: str, browser: Any) -> None:
    page = _site_page(browser, world)
    assert page.get_attribute("#slider", "aria-valuetext") == f"{LOCAL}: 50 cars"
    page.focus("#slider")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("location.hash === '#120'")
    entry = page.locator("button.scene[data-scene='120']")
    said = f"{entry.locator('.d').inner_text()}: {entry.locator('.c').inner_text()}"
    assert said == "2024-01-26: 9 cars"
    assert page.get_attribute("#slider", "aria-valuetext") == said
    page.close()


def test_the_keyboard_focus_shows_on_the_active_image(world: str, browser: Any) -> None:
    page = _site_page(browser, world)
    outline = "(s) => { const c = getComputedStyle(s); return [c.outlineColor, c.outlineWidth]; }"
    active = page.locator("button.scene.active")
    before = active.evaluate(outline)
    page.focus("#next")
    page.keyboard.press("Shift+Tab")  # keyboard focus: then moved to the active entry
    active.evaluate("(n) => n.focus()")
    assert active.evaluate("(n) => n.matches(':focus-visible')")
    focused = active.evaluate(outline)
    assert focused == ["rgb(255, 225, 77)", "2px"] and focused != before, (before, focused)
    page.close()


def test_the_site_lists_trend_is_read_in_words(world: str, browser: Any) -> None:
    """The trend arrow (▲ ▼ ▶) is for the eye: a screen reader reads its words (it read
    the symbol, "black up-pointing triangle", and not the arrow's title)."""
    page = browser.new_page()
    page.goto(f"{world}/")
    page.wait_for_selector(".site-row")
    cdp = page.context.new_cdp_session(page)
    texts = [
        str((n.get("name") or {}).get("value", ""))
        for n in cdp.send("Accessibility.getFullAXTree")["nodes"]
        if not n.get("ignored") and (n.get("role") or {}).get("value") == "StaticText"
    ]
    cdp.detach()
    assert not [t for t in texts if any(arrow in t for arrow in "▲▼▶")], texts
    words = (
        "(trend: up from 9 on 2024-01-26, 10 days before (+41): the last earlier day with a "
        "count made the same way)"
    )
    assert words in [t.strip() for t in texts], [t for t in texts if "trend" in t]
    # the words are not on the screen; the arrow is
    box = page.locator(".site-row .trend-words").bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1
    assert page.locator(".site-row .trend").inner_text().strip() == "▲"
    page.close()


def test_a_silence_opened_from_the_keyboard_takes_the_focus_to_its_alert(
    world: str, browser: Any
) -> None:
    """Enter on a silence's mark brought its alert forward in the panel, outlined, and
    left the focus on the mark: a screen reader said nothing. Now the alert has the
    focus (its text is read); the info line under the map is a status, read as an
    image is opened."""
    page = _site_page(browser, world)
    assert page.get_attribute("#scene-info", "role") == "status"
    page.focus("#cls")
    page.keyboard.press("Tab")
    page.keyboard.press("End")
    silence = page.evaluate("document.activeElement.dataset.alert")
    assert silence and page.evaluate("document.activeElement.dataset.key").startswith("silence:")
    page.keyboard.press("Enter")
    at = page.evaluate(
        "(() => { const a = document.activeElement; return [a.dataset.alert, a.className]; })()"
    )
    assert at[0] == silence and "current" in at[1], at
    assert page.locator(f".alert[data-alert='{silence}'] strong").first.inner_text() == "quality"
    page.close()
