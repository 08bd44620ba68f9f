"""The font for Chinese, Japanese and Korean text, when the ``cjk`` extra is installed.

matplotlib's default font (DejaVu Sans) has Latin, Greek and Cyrillic but no Chinese,
Japanese or Korean: a Korean site name or event label ("김정은-푸틴 정상회담") was drawn as
empty boxes. ``pip install 'railwatch[cjk]'`` installs the PyPI package
``noto-cjk-sans-otc``, which carries Noto Sans CJK Regular (SIL Open Font License 1.1)
as one OpenType collection; this module finds that file through the package's metadata
(the package is never imported) and gives:

* matplotlib: its Korean face registered with the font manager and added after the
  default family inside :func:`cjk_text` (matplotlib's font fallback: each character
  from the first family that has it). Registering a font changes no default; the
  family is only used within that context. The PDF embeds the glyphs used (a subset,
  as Type 3 fonts with a ``ToUnicode`` map, so the text can be searched and copied).
* the dashboard: :func:`face_subset`, the glyphs of the characters a page shows as one
  small OpenType file (``GET /fonts/cjk.otf?text=...``, which the dashboard's script
  asks for with the page's own characters); :func:`face_otf` the whole face.

matplotlib's settings (``rcParams``) are one set per process, and ``rc_context``
restores on leaving whatever it found on entering: two reports drawn at once in the
server (one Korean, one English) could leave the CJK family, ``pdf.fonttype`` or
``text.parse_math`` set for the process. Every drawing of this package that enters such
a context holds :func:`drawing` (one re-entrant lock) throughout (2026-12-06, session 37).

Without the extra :func:`cjk_font` is None and nothing changes: such text reads ``?``
in the PDF and "(label: see the events list)" on the charts, and the report's caveats
say how to get the font (:func:`missing_font_caveat`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, cast

__all__ = [
    "CJK_DISTRIBUTION",
    "CJK_EXTRA",
    "CJK_FAMILY",
    "CjkFont",
    "cjk_font",
    "cjk_font_file",
    "cjk_text",
    "drawing",
    "face_otf",
    "face_subset",
    "font_rc",
    "in_effect",
    "is_cjk",
    "missing_font_caveat",
]

log = logging.getLogger(__name__)

#: The extra that installs the font, and the PyPI distribution it pulls in.
CJK_EXTRA = "cjk"
CJK_DISTRIBUTION = "noto-cjk-sans-otc"
#: The file that distribution carries (Noto Sans CJK Regular, ten faces) ...
CJK_FILE = "NotoSansCJK-Regular.ttc"
#: ... and the face used: Korean (Hangul; Han characters in their Korean forms; kana).
CJK_FAMILY = "Noto Sans CJK KR"
#: The weight registered besides the face's own (400): the face is its only weight, and
#: a bold heading (the PDF's site name) asked matplotlib for a weight it did not have,
#: which it logged as a warning per heading size ("Failed to find font weight bold").
#: Bold text in these scripts is drawn in the regular weight.
BOLD_ALIAS = 700


@dataclass(frozen=True)
class CjkFont:
    """The installed CJK font: its file, the face's index in it, the family name
    matplotlib knows it by, and the characters (code points) it draws."""

    path: Path
    face: int
    family: str
    chars: frozenset[int]


def cjk_font_file() -> Path | None:
    """The font file of :data:`CJK_DISTRIBUTION` when that package is installed (found
    through its metadata's file list, without importing it), else None."""
    try:
        dist = metadata.distribution(CJK_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for item in dist.files or ():
        if item.name == CJK_FILE:
            path = Path(str(dist.locate_file(item)))
            return path if path.is_file() else None
    return None


_lock = threading.Lock()


@functools.cache
def _registered() -> CjkFont | None:
    """Find the font and register its face with matplotlib's font manager, once."""
    path = cjk_font_file()
    if path is None:
        return None
    try:
        face, chars = _face_of(path, CJK_FAMILY)
    except Exception as err:  # a damaged or unexpected file: today's behaviour, said once
        log.warning("the CJK font %s cannot be read (%s): it is not used", path, err)
        return None
    from matplotlib import font_manager

    manager = font_manager.fontManager
    manager.addfont(str(path))  # each face of the collection
    entries = [e for e in manager.ttflist if e.fname == str(path) and e.name == CJK_FAMILY]
    if not entries:
        log.warning(
            "matplotlib did not register the face %r of %s (an older matplotlib reads only "
            "the first face of a font collection; railwatch asks for 3.11): it is not "
            "used",
            CJK_FAMILY,
            path,
        )
        return None
    # added right after addfont, which emptied findfont's cache: no lookup saw the list
    # without them
    manager.ttflist.append(dataclasses.replace(entries[0], weight=BOLD_ALIAS))
    return CjkFont(path=path, face=face, family=CJK_FAMILY, chars=chars)


def _face_of(path: Path, family: str) -> tuple[int, frozenset[int]]:
    """The index of the face named ``family`` in the collection at ``path`` and the
    characters it maps."""
    from fontTools.ttLib import TTCollection  # type: ignore[import-untyped]

    with TTCollection(str(path), lazy=True) as collection:
        for index, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) == family:
                return index, frozenset(font.getBestCmap())
    raise ValueError(f"no face named {family!r}")


def cjk_font() -> CjkFont | None:
    """The CJK font, registered with matplotlib (on the first call), or None when the
    ``cjk`` extra is not installed."""
    with _lock:
        return _registered()


def font_rc() -> dict[str, Any]:
    """The rcParams that add the CJK font after the current font families (empty without
    the font, or when it is already among them)."""
    font = cjk_font()
    if font is None:
        return {}
    import matplotlib

    families = list(matplotlib.rcParams["font.family"])
    return {} if font.family in families else {"font.family": [*families, font.family]}


#: Held by whoever draws with matplotlib in this package or changes its settings for a
#: while (see the module's docstring): re-entrant, as the drawings nest (a report's PDF
#: draws its charts inside its own settings).
_draw_lock = threading.RLock()


@contextmanager
def drawing(rc: dict[str, Any] | None = None) -> Iterator[None]:
    """Hold the drawing lock (waiting while another thread draws) and, with ``rc``, use
    those matplotlib settings inside: the settings, and the figures made and saved
    inside, are then this thread's alone until it leaves."""
    with _draw_lock:
        if rc:
            import matplotlib

            with matplotlib.rc_context(cast(Any, rc)):
                yield
        else:
            yield


def cjk_text() -> AbstractContextManager[Any]:
    """A context in which the text artists created fall back to the CJK font for each
    character the default font lacks (matplotlib >= 3.6 font fallback); nothing changes
    without the font. A text keeps the families it was created with: figures, axes and
    texts must be created inside it. It holds :func:`drawing`."""
    return _cjk_text()


@contextmanager
def _cjk_text() -> Iterator[None]:
    with _draw_lock, drawing(font_rc()):  # font_rc reads the settings: under the lock
        yield


def in_effect() -> CjkFont | None:
    """The CJK font when the text created now falls back to it (inside
    :func:`cjk_text`), else None."""
    font = cjk_font()
    if font is None:
        return None
    import matplotlib

    return font if font.family in matplotlib.rcParams["font.family"] else None


#: Held while a face is made: the dashboard's first requests for the font come together
#: (two tabs, a page reloaded), and each made its own copy before (2026-12-06, session
#: 36: four at once peaked at 396 MB of memory against 158 MB for one).
_face_lock = threading.Lock()


def face_otf(path: Path, face: int) -> bytes:
    """Face ``face`` of the font collection at ``path`` as one OpenType file (its tables
    copied as they are: 16.4 MB for Noto Sans CJK KR, written in 0.6-0.8 s; kept once
    made, and made once: a call while it is being made waits for it). Browsers do not
    read font collections."""
    with _face_lock:
        return _face_otf(path, face)


@functools.cache
def _face_otf(path: Path, face: int) -> bytes:
    import io

    from fontTools.ttLib import TTFont

    out = io.BytesIO()
    with TTFont(str(path), fontNumber=face, lazy=True) as font:
        font.save(out, reorderTables=False)
    return out.getvalue()


def face_subset(path: Path, face: int, chars: Iterable[int]) -> bytes:
    """Face ``face`` of the font collection at ``path`` cut down to the glyphs of the
    characters ``chars`` (code points; those the face lacks are left out) as one
    OpenType file: 5.6 kB for the 16 characters of "김정은-푸틴 정상회담" and "두만강 역"
    against the face's 16.4 MB, about 1 s to make (2026-12-06, session 37). The name
    table is kept whole (the copyright, licence and licence URL records the SIL Open
    Font License asks a modified copy to keep) and so are the layout features
    fontTools keeps by default (Hangul jamo among them)."""
    import io

    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(set(chars)))
    out = io.BytesIO()
    with TTFont(str(path), fontNumber=face, lazy=True) as font:
        subsetter.subset(font)
        font.save(out)
    return out.getvalue()


#: The scripts of the CJK font, as Unicode character names begin.
_CJK_NAMES = ("CJK ", "HANGUL ", "HIRAGANA ", "KATAKANA ", "BOPOMOFO ", "IDEOGRAPHIC ")


def is_cjk(char: str) -> bool:
    """Whether ``char`` is Chinese, Japanese or Korean (a Han character, Hangul, kana,
    bopomofo, CJK punctuation): one the CJK font draws."""
    return unicodedata.name(char, "").startswith(_CJK_NAMES)


def missing_font_caveat(texts: Iterable[str]) -> str | None:
    """The caveat of a report whose ``texts`` (its site's name, event labels) hold
    Chinese, Japanese or Korean while the CJK font is not installed: what reads ``?``
    and how to install the font. None when the font is installed or no text needs it."""
    if cjk_font() is not None or not any(is_cjk(c) for t in texts for c in t):
        return None
    from railwatch.errors import install_command

    return (
        "Chinese, Japanese and Korean text (the site's name, event labels) reads '?' in "
        'the PDF, and such labels read "(label: see the events list)" on the charts: '
        "the font for them is not installed. The HTML report's text shows them; for the "
        f"charts and the PDF install the font: `{install_command(CJK_EXTRA)}`."
    )
