"""Caveats written from the data: what the counts cannot say, in an analyst's words."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from statistics import median
from types import EllipsisType

from railwatch.counting import name_site
from railwatch.detect.base import GENERIC_CLASS
from railwatch.errors import some
from railwatch.imagery.inspect import LOW_SUN_DEG, is_low_sun
from railwatch.report.format import fmt_num, fmt_pct
from railwatch.report.model import Evidence, SceneRow, latest_car_image, may_get_images

#: Beyond this GSD (metres) cars are not separable; counts become car-equivalents.
SEPARABLE_GSD = 1.0
#: NATO STANAG 3769: identification of rail rolling stock needs 1.5 m.
IDENTIFY_GSD = 1.5
#: A gap is worth a caveat when longer than this many days and this factor x the median gap.
GAP_MIN_DAYS = 45
GAP_FACTOR = 3.0
#: A count whose coverage of the site is below this is partial.
PARTIAL_COVERAGE = 0.98

METHOD_WORDS = {
    "objects": "individual cars detected",
    "length": "occupied track length / 14 m (car-equivalents)",
    "presence": "presence of long trains only",
}


def covered_caveat(row: SceneRow) -> str | None:
    """'contents cannot be identified for N of M cars' for one counted image."""
    if row.counted and row.presence:
        seen = "a long train was seen" if row.long_train else "no long train was seen"
        return (
            f"{row.day}: at {row.gsd:.2g} m only whether a long train is present "
            f"can be told ({seen}): it gives no count of cars, and neither their types nor "
            "whether their loads are covered."
        )
    if not row.counted or row.total is None or row.total <= 0:
        return None
    if (row.method or "objects") != "objects":
        return (
            f"{row.day}: at {row.gsd:.2g} m the {fmt_num(row.total)} cars are "
            "car-equivalents from track occupancy: whether their loads are covered, and what "
            "they carry, cannot be seen."
        )
    if row.covered is None:
        return None
    if row.covered == 0:
        return f"{row.day}: no load of the {fmt_num(row.total)} cars was seen under a cover."
    share = row.covered / row.total
    return (
        f"{row.day}: contents cannot be identified for {row.covered} of "
        f"{fmt_num(row.total)} cars ({fmt_pct(share)}): their loads are under tarpaulins or sheets."
    )


def covered_summary(rows: Sequence[SceneRow]) -> str | None:
    """One caveat for the covered loads of the alert images a report does not draw (cars
    counted one by one): the images drawn get one each (:func:`covered_caveat`). Until
    2026-12-06 (session 41) up to 10 alert images got one each, drawn or not (an info
    alert's image is never drawn)."""
    rows = [r for r in rows if r.counted and not r.presence and r.covered is not None]
    cars = sum(float(r.total or 0.0) for r in rows)
    if not rows or cars <= 0:
        return None
    covered = sum(int(r.covered or 0) for r in rows)
    if len(rows) == 1:
        # one image, named but not dated first as the images drawn are (session 45: "At
        # the 1 other alert images, ... at 1 of the images, 33% to 33% of their cars")
        one = f"At the other alert image ({rows[0].day})"
        if not covered:
            return f"{one} no load of the {fmt_num(cars)} cars was seen under a cover."
        return (
            f"{one}, contents cannot be identified for {covered} of {fmt_num(cars)} cars "
            f"({fmt_pct(covered / cars)}): their loads are under tarpaulins or sheets."
        )
    with_cover = [r for r in rows if r.covered]
    n = len(rows)
    if not with_cover:
        return f"At the {n} other alert images no load was seen under a cover."
    shares = [(r.covered or 0) / float(r.total) for r in with_cover if r.total]
    low, high = fmt_pct(min(shares)), fmt_pct(max(shares))
    where = (
        f"at 1 of the images, {high} of its cars"
        if len(with_cover) == 1
        else f"at {len(with_cover)} of the images, "
        + (f"{high} of their cars each" if low == high else f"{low} to {high} of their cars")
    )
    return (
        f"At the {n} other alert images, contents cannot be identified for {covered} of "
        f"{fmt_num(cars)} cars ({fmt_pct(covered / cars)}; {where}): their loads are under "
        'tarpaulins or sheets. How many are covered at each image is in the "covered" '
        "column of the images table."
    )


def covered_flag_caveat(counted: Sequence[SceneRow]) -> str | None:
    """How far the covered counts can be trusted, once, when any image the detector
    counted says some loads are covered (an analyst's count gives its own)."""
    if not any(
        r.covered and not r.reviewed and (r.method or "objects") == "objects" for r in counted
    ):
        return None
    return (
        "Covered loads are the detector's tarpaulin flag, car by car: on simulated images "
        "it was right for about 91-95 % of the cars, on drawings it had never learned from "
        "for 82-87 %, where it read hopper roofs with cross hatches as tarpaulins and missed "
        'plain sheets without ropes (docs/detection.md, "A third renderer"); check a '
        "string of covered hoppers by eye before reading it as covered cargo."
    )


def types_caveat(counted: Sequence[SceneRow]) -> str | None:
    """How many of the cars counted one by one were given a type: the detector reports
    a type only where it is confident of it (``railcar`` otherwise), so each class's
    count is a lower bound of that class, not its count."""
    rows = [r for r in counted if (r.method or "objects") == "objects" and r.by_class]
    cars = sum(float(r.total or 0.0) for r in rows)
    if cars <= 0:
        return None
    typed: Counter[str] = Counter()
    for r in rows:
        for cls, n in r.by_class.items():
            if cls != GENERIC_CLASS:
                typed[cls] += round(n)
    n_typed = sum(typed.values())
    if n_typed == 0:
        return (
            f"None of the {fmt_num(cars)} cars counted one by one was given a type: per-class "
            "counts are all 'railcar' (the detector names a type only where it is confident "
            "of it)."
        )
    kinds = ", ".join(f"{cls} {n}" for cls, n in typed.most_common())
    # every car typed: no "rest" to be 'railcar' (2026-12-07, session 45: "96 of the 96
    # cars ... were given a type (...); the rest are 'railcar'")
    which = (
        f"All {fmt_num(cars)} cars counted one by one were given a type ({kinds})."
        if n_typed >= cars
        else f"{n_typed} of the {fmt_num(cars)} cars counted one by one were given a type "
        f"({kinds}); the rest are 'railcar'."
    )
    return (
        f"{which} The detector names a type only where it is confident of it, so each "
        "type's count is a lower bound, not that type's count."
    )


#: Words in a quality reason and the short name counted for them, in priority order.
REASON_KINDS: tuple[tuple[str, str], ...] = (
    # an analyst's judgement (``scene review --unusable``), whatever words its reason uses
    ("unusable by analyst review", "analyst review"),
    ("not processed", "not processed"),
    # a coarse image the site's missing track centrelines leave unread (session 40)
    ("has no track centrelines", "no track centrelines"),
    ("fail", "processing failed"),
    ("cloud", "cloud"),
    ("haze", "haze"),
    ("snow", "snow"),
    ("shadow", "shadow"),
    ("no data", "no data"),
    ("nodata", "no data"),
    ("cover", "partial coverage"),
    ("resolution", "resolution"),
    ("gsd", "resolution"),
)


def reviewed_caveat(cars: Sequence[SceneRow]) -> str | None:
    """How many of the counts shown are an analyst's (scene reviews), and how far the
    detector was from them: None when none is."""
    reviewed = [r for r in cars if r.reviewed]
    if not reviewed:
        return None
    n = len(reviewed)
    text = (
        f"{n} of the {len(cars)} counts shown {'is' if n == 1 else 'are'} an analyst's "
        '(`railwatch scene review`), marked "analyst" in the table and drawn apart on '
        "the chart: each is the analyst's count with no interval, and the detector's own "
        "count is shown beside it"
    )
    diffs = [
        float(r.total or 0.0) - float(r.detector_total)
        for r in reviewed
        if r.detector_total is not None
    ]
    if diffs:
        lo, hi = min(diffs), max(diffs)
        span = f"{lo:+.0f}" if round(lo) == round(hi) else f"{lo:+.0f} to {hi:+.0f}"
        text += f" (analyst minus detector: {span})"
    outlines = sum(1 for r in reviewed if r.review_outlines)
    if outlines:
        text += (
            f"; {outlines} of them with the analyst's outlines of the cars, which the chips draw"
        )
    return text + "."


def spread_counts(cars: Sequence[SceneRow]) -> tuple[list[SceneRow], int, int]:
    """Of the counts of cars ``cars``, those counted car by car whose 90 % interval rests
    on an assumed scene-to-scene spread of the detector's recall
    (:attr:`SceneRow.spread_assumed`), how many counted car by car say whether theirs
    does, and how many do not (counted before 2026-12-07, session 51: not known; the
    session 51 review: "2 of the 40 counts" read as 38 measured where most were not
    known)."""
    by_objects = [r for r in cars if (r.method or "objects") == "objects"]
    known = [r for r in by_objects if r.spread_assumed is not None]
    return [r for r in known if r.spread_assumed], len(known), len(by_objects) - len(known)


def spread_words(rows: Sequence[SceneRow], of: int, unknown: int = 0) -> str:
    """The words "N of the M counts of cars one by one (0.3–0.5 m)" of the counts ``rows``
    whose interval rests on an assumed spread, of ``of`` counted car by car that say
    whether theirs does; ``unknown`` more, counted before railwatch kept it, are named
    apart ("2 of the 3 counts ... that record it (37 more, counted before 2026-12-07,
    do not)")."""
    lo, hi = min(r.gsd for r in rows), max(r.gsd for r in rows)
    span = f"{lo:.2g} m" if f"{lo:.2g}" == f"{hi:.2g}" else f"{lo:.2g}–{hi:.2g} m"
    n = len(rows)
    if unknown:
        record = "records" if of == 1 else "record"
        earlier = "does" if unknown == 1 else "do"
        return (
            f"{n} of the {of} counts of cars one by one ({span}) that {record} it "
            f"({unknown} more, counted before 2026-12-07, {earlier} not)"
        )
    if n < of:
        return f"{n} of the {of} counts of cars one by one ({span})"
    if n == 1:
        return f"the count of cars one by one ({span})"
    return f"all {n} counts of cars one by one ({span})"


def spread_caveat(cars: Sequence[SceneRow], site: str = "SITE") -> str | None:
    """That the 90 % intervals of counts made car by car rest on an assumed
    scene-to-scene spread of the detector's recall, not a measured one (its card of
    ``railwatch calibrate --labels`` on fewer than two labelled images of 5 or more cars
    at their resolution: ``Calibration.spread_assumed_at``), with what to do; None when
    none does. Since 2026-12-07 (session 51): only ``railwatch detect`` said so."""
    assumed, of, unknown = spread_counts(cars)
    if not assumed:
        return None
    verb = "rests" if len(assumed) == 1 else "rest"
    their = "its" if len(assumed) == 1 else "their"
    return (
        f"The 90 % interval{'' if len(assumed) == 1 else 's'} of "
        f"{spread_words(assumed, of, unknown)} {verb} on an assumed scene-to-scene spread "
        "of the detector's recall, not a measured one: its calibration had fewer than 2 labelled "
        f"images of 5 or more cars at that resolution, so {their} width is a guess. "
        "Calibrate the weights on more labelled images there (`railwatch calibrate WEIGHTS "
        f"--labels DIR`) and count the images again (`railwatch process {site} "
        "--reprocess`)."
    )


#: The detector's count error with the sun at 15-35 degrees on drawings it never learned
#: from, as measured (docs/benchmarks.md "Detection", third renderer, 2026-12-05 05:29
#: UTC: net +7.1 % / +6.1 %, count MAPE 12.4 % / 12.7 % at 15-25 / 25-35 degrees).
LOW_SUN_NET = "6-7 %"
LOW_SUN_MAPE = "12-13 %"


def low_sun_caveat(counted: Sequence[SceneRow]) -> str | None:
    """Which counts of cars seen one by one come from images with a low sun, whose long
    shadows the detector may count as cars (measured on drawings it never learned from,
    ``benchmarks/bench_third_renderer.py``, table in docs/benchmarks.md "Detection", run
    2026-12-05 05:29 UTC: with the sun at 15-35 degrees about two thirds of its false boxes
    lay on shadows and its counts ran 6-7 % high in all (+7.1 % at 15-25, +6.1 % at 25-35),
    each scene 12-13 % off either way (count MAPE 12.4 % and 12.7 %), against 3 % low in
    all, each 4 % off, with the sun above 55 degrees, and 10 % off over all 200 scenes; the
    simulator's low-sun scenes show no such bias, and no real image has measured it).

    Until 2026-12-05 it said "each about 12 % off", README "each scene about 10 % off"
    (that is over all scenes, whatever the sun): both now give the low-sun figure."""
    rows = [
        r
        for r in counted
        if (r.method or "objects") == "objects" and not r.reviewed and is_low_sun(r.sun_elevation)
    ]
    if not rows:
        return None
    rows.sort(key=lambda r: r.when)
    days = some([f"{r.day} ({r.sun_elevation:.1f}°)" for r in rows], 5)
    n = len(rows)
    which = "1 count comes from an image" if n == 1 else f"{n} counts come from images"
    return (
        f"{which} taken with the sun below {LOW_SUN_DEG:g}° ({days}): "
        "cars then cast long shadows, dark strips of a car's size beside them, which the "
        "detector may count as cars. On test drawings it had never seen, those with the sun "
        f"at 15-35° were counted {LOW_SUN_NET} high in all and each {LOW_SUN_MAPE} off either "
        "way, against 10 % off over all its drawings (benchmarks/bench_third_renderer.py, "
        'docs/benchmarks.md "Detection"); check them by eye before '
        "relying on them (`railwatch scene to-review` lists the images to check first)."
    )


#: A share of the site in a quality reason ("haze covers 89 % of the site"): its first
#: share, when that is one of the site; not one of the site's tracks ("no data hides 65 %
#: of the site's tracks: ... though 92 % of the site is", a share of where cars stand,
#: which the quality check adds when they are hidden) nor of other places.
_SHARE = re.compile(r"^\D*?(\d+(?:\.\d+)?)\s*% of the site(?!'s)\b")
#: Kinds that are no quality measure: they name the image's cause whatever else it says.
#: The parts of a scene's processing version that are not the version of its count: the
#: mapping of its pixels to 8 bits ("+in3", "+ind3"), the quality rules' ("+q1") and a
#: mark to count it again ("+mask-changed").
_NOT_THE_COUNT = re.compile(r"\+(?:in|q)[0-9a-z]*|\+[a-z-]+-changed")
_NOT_QUALITY = ("analyst review", "not processed", "no track centrelines", "processing failed")


def _kind_of(text: str) -> str | None:
    low = text.lower()
    return next((kind for word, kind in REASON_KINDS if word in low), None)


def reason_kind(reasons: Sequence[str]) -> str:
    """A short name for why an image could not be counted (from its quality reasons):
    the cause that takes the largest share of the site ("haze covers 89 % of the site";
    "only 27 % of the site is covered by the image" is 73 % partial coverage), else the
    first of :data:`REASON_KINDS` its reasons name. (Until 2026-12-06, session 35, always
    the first named: an image 89 % under haze with 2 % cloud was counted "cloud", one
    73 % outside the image with 5 % cloud too; the demo's caveat read "cloud 27, haze 11,
    partial coverage 10" where its summary, by the largest share, read 24, 12 and 12.
    Until session 40 a share of the site's tracks competed too: "no data hides 57 % of
    the site's tracks" beat "only 50 % of the site is covered by the image", and the
    demo's caveat read "partial coverage 6, no data 5" and one more "haze" where its
    summary read "12 partial coverage".)"""
    text = " ".join(reasons)
    first = _kind_of(text)
    if first in _NOT_QUALITY:
        return first
    shares: dict[str, float] = {}
    for reason in reasons:
        kind, found = _kind_of(reason), _SHARE.search(reason)
        if kind is None or found is None:
            continue
        share = float(found.group(1))
        if kind == "partial coverage":  # the share given is the part covered
            share = 100.0 - share
        shares[kind] = max(shares.get(kind, 0.0), share)
    if shares:
        return max(shares, key=lambda k: shares[k])
    return first if first is not None else ("other" if text else "unusable")


def gap_caveats(rows: Sequence[SceneRow], limit: int = 3) -> list[str]:
    """The longest stretches without a usable image, when unusually long. A 10 m image
    (``method`` "presence": whether a long train is present, no count) does not end a
    stretch, as it does not end the quality rule's silence (``analysis.alerts``); until
    2026-12-06 (session 35) it did, so weeks seen only at 10 m had no caveat."""
    counted = sorted((r for r in rows if r.counted and not r.presence), key=lambda r: r.when)
    if len(counted) < 3:
        return []
    gaps = [
        ((b.when - a.when).total_seconds() / 86400.0, a, b) for a, b in itertools.pairwise(counted)
    ]
    typical = median(g for g, _, _ in gaps)
    threshold = max(GAP_MIN_DAYS, GAP_FACTOR * typical)
    long_gaps = sorted((g for g in gaps if g[0] > threshold), key=lambda g: -g[0])[:limit]
    out = []
    for days, a, b in sorted(long_gaps, key=lambda g: g[1].when):
        lost = sum(1 for r in rows if a.when < r.when < b.when and not r.counted)
        flags = sum(1 for r in rows if a.when < r.when < b.when and r.counted and r.presence)
        # one bracket: "(54 days) (2 images there could not be counted)" read as two asides
        parts = []
        if lost:
            parts.append(f"{lost} image{'s' if lost != 1 else ''} could not be counted")
        if flags:
            parts.append(
                f"{flags} {'were' if flags != 1 else 'was'} 10 m image{'s' if flags != 1 else ''}"
                " showing only whether long trains were present"
            )
        why = f", in which {' and '.join(parts)}" if parts else ""
        head = "No image able to count cars" if flags else "No usable image"
        out.append(
            f"{head} from {a.day} to {b.day} ({days:.0f} days{why}): "
            "changes within that period may have been missed."
        )
    return out


MISREGISTRATION = (
    "Images of different dates without ground control can be misregistered by 5–8 m "
    "(older sensors) or under 5 m (newer ones)"
)


def _read_kinds(some: Sequence[SceneRow], of: Sequence[SceneRow] | None = None) -> str:
    """'2 of 3 occupied-length counts' or 'the one occupied-length count' (``of`` given; a
    kind none of ``some`` is not named) or '1 occupied-length count' of ``some``, and
    the 10 m long-train flags among them named apart, which are no counts (2026-12-07,
    session 48: a site's 22 length counts and 8 flags read "30 of 30 occupied-length
    counts")."""
    parts = []
    for flag, noun, one in (
        (False, "occupied-length counts", "occupied-length count"),
        (True, "long-train flags (10 m images)", "long-train flag (10 m image)"),
    ):
        n = sum(1 for r in some if r.presence == flag)
        if of is None:
            # "1 occupied-length count(s) used ..." until session 50
            parts += [f"{n} {one if n == 1 else noun}"] if n else []
            continue
        total = sum(1 for r in of if r.presence == flag)
        if not n:
            continue
        # "1 of 1 occupied-length counts were made" (the rise's report until session 50)
        parts.append(f"the one {one}" if n == total == 1 else f"{n} of {total} {noun}")
    return " and ".join(parts)


def _made(some: Sequence[SceneRow], of: Sequence[SceneRow]) -> str:
    """:func:`_read_kinds` at a sentence's start, with its verb: "The one occupied-length
    count was", "2 of 3 occupied-length counts were"."""
    said = _read_kinds(some, of)
    verb = "was" if len(some) == 1 else "were"
    return f"{said[:1].upper()}{said[1:]} {verb}"


def _coarse_registration_caveats(counted: Sequence[SceneRow]) -> list[str]:
    """How the occupied-length counts' (and long-train flags') images were registered to
    the site's other images before the track centrelines were sampled
    (``imagery.register``)."""
    tried = [r for r in counted if r.registration is not None]
    if not tried:
        return []
    moved_rows = [r for r in tried if r.registration is not None and "dx_m" in r.registration]
    moved = [
        math.hypot(float(r.registration["dx_m"]), float(r.registration["dy_m"]))
        for r in moved_rows
        if r.registration is not None
    ]
    as_given = [r for r in tried if r.registration is not None and "not_applied" in r.registration]
    why = Counter(str(r.registration.get("not_applied")) for r in as_given if r.registration)
    out: list[str] = []
    if moved:
        out.append(
            f"{_made(moved_rows, tried)} made after registering "
            f"{'its image' if len(moved) == 1 else 'their images'} to the site's other "
            "images (the track lines moved with it by "
            + (
                f"{moved[0]:.1f} m)."
                if len(moved) == 1
                else f"{median(moved):.1f} m in the median, {max(moved):.1f} m at most)."
            )
        )
    if why:
        reasons = "; ".join(f"{n}: {w}" for w, n in why.most_common())
        out.append(
            f"{_read_kinds(as_given)} used the track lines as given, "
            f"unregistered ({reasons}); an image several metres off its lines can read "
            "ground as cars."
        )
    return out


def _found_lines_caveat(
    cars: Sequence[SceneRow], site: str, *, tracks_given: bool = False
) -> str | None:
    """The occupied-length counts read along track lines found in the image itself (the
    site had no track centrelines then; ``SceneRow.tracks`` ``found``), far less
    accurate, and what to do (:func:`~railwatch.analysis.centrelines.found_lines_next_step`:
    ``tracks_given``, the site has centrelines now): until 2026-12-07 (session 48) only
    `railwatch process` said so, once, when it counted them; the report of such a site
    gave them as any other."""
    from railwatch.analysis.centrelines import found_lines_next_step

    length = [r for r in cars if r.method == "length" and not r.reviewed]
    found = [r for r in length if r.tracks == "found"]
    if not found:
        return None
    step = found_lines_next_step(site, tracks_given=tracks_given)
    then = "" if tracks_given else ": those images are then counted along them"
    return name_site(
        f"{_made(found, length)} read along track "  # "1 of 1 ... were" until session 50
        "lines found in the image itself, not along the site's track centrelines (it had "
        "none when they were counted): such counts are far less accurate (on simulated "
        "3 m scenes 25 % read within ±15 % of the truth, against 54 % along drawn "
        f'centrelines: docs/detection.md, "Coarse imagery"). {step[0].upper()}{step[1:]}'
        f"{then}.",
        site,
    )


def _offset_words(offset: dict[str, list[tuple[str, float]]]) -> str:
    """'2024-06-07 (4.2 m), 2023-11-25 (4.7 m against the before image of 2023-10-05,
    9.0 m against that of 2023-10-24)': an alert day with one offset pair gives its
    offset, one with several names each pair's before image (until 2026-12-05 such a day
    was listed twice with different offsets, and nothing said why)."""
    parts = []
    for day, pairs in offset.items():
        if len(pairs) == 1:
            parts.append(f"{day} ({pairs[0][1]:.1f} m)")
            continue
        each = [
            f"{shift:.1f} m against {'the before image' if i == 0 else 'that'} of {before}"
            for i, (before, shift) in enumerate(pairs)
        ]
        parts.append(f"{day} ({', '.join(each)})")
    return ", ".join(parts)


def _registration_caveats(evidence: Sequence[Evidence]) -> list[str]:
    seen: set[tuple[int, int]] = set()
    aligned: list[float] = []
    # alert day -> (before image's day, offset) of each pair: two alerts of one image (the
    # total's and a class's) can have different before images, which the caveat names
    offset: dict[str, list[tuple[str, float]]] = {}
    unmeasured = 0
    for ev in evidence:
        if ev.before is None or ev.after is None or ev.before_row is None or ev.after_row is None:
            continue
        key = (ev.before_row.scene_id, ev.after_row.scene_id)
        if key in seen:
            continue
        seen.add(key)
        if ev.shift_m is None:
            unmeasured += 1
        elif ev.shift_m < ev.after.gsd:
            aligned.append(ev.shift_m)
        else:
            offset.setdefault(str(ev.after_row.day), []).append(
                (str(ev.before_row.day), ev.shift_m)
            )
    out: list[str] = []
    if aligned:
        out.append(
            f"{len(aligned)} before/alert image pair(s) agree to within one pixel (largest "
            f"offset {max(aligned):.1f} m, phase correlation on the shared extent)."
        )
    if offset:
        out.append(
            "Phase correlation on the shared extent finds the before and alert images "
            f"offset for {_offset_words(offset)}. {MISREGISTRATION}: a car in one image is "
            "not necessarily the same car in the other."
        )
    if unmeasured and not aligned and not offset:
        out.append(f"{MISREGISTRATION}; compare the chips by the track layout.")
    return out


def _needs_tracks_words(n: int, site: str) -> str:
    """What the caveat of images not counted says of ``n`` coarse ones that cannot be read
    without the site's track centrelines, which it lacks (session 40); the command names
    ``site`` as the report's table and headline do (:func:`railwatch.counting.name_site`;
    it said ``SITE`` until 2026-12-06, session 41)."""
    which = "1 of them is a coarse image" if n == 1 else f"{n} of them are coarse images"
    return name_site(
        f" {which} that cannot be read without the site's track centrelines, and the site "
        "has none: give them (`railwatch site edit SITE --tracks FILE`) and process the "
        "site again.",
        site,
    )


def build_caveats(
    rows: Sequence[SceneRow],
    evidence: Sequence[Evidence] = (),
    lone: SceneRow | EllipsisType | None = ...,
    site: str = "SITE",
    *,
    tracks_given: bool = False,
) -> tuple[str, ...]:
    """All caveats for the images of the report period and the alert evidence, of
    ``site`` (named in the commands they give; ``SITE`` left out). ``lone``
    is the image the report draws when none of its alerts has images
    (``builder.lone_image``; None: none); left out, it is found by the same rule
    (:func:`~railwatch.report.model.latest_car_image`, where no alert of ``evidence`` is
    one shown with images: :func:`~railwatch.report.model.may_get_images`).
    ``tracks_given``: the site has track centrelines now (counts made along lines found in
    the image before they were given are to be counted again, not the lines given)."""
    out: list[str] = []
    counted = [r for r in rows if r.counted]
    unusable = [r for r in rows if not r.counted]

    # the images a report draws: its alerts' with images, else its latest image with a
    # count of cars (builder.lone_image, by model.latest_car_image: until session 41 the
    # latest image with any count, a 10 m presence image too, which the report does not
    # draw). The caveats of one image speak of those only: until session 41 a report of
    # info alerts alone, which draws none of their images, said "The alert images of ...
    # are too coarse to see single cars" (cbffdde), and gave each of their images a dated
    # caveat of covered loads; an alert past the images' limit was named among them
    if lone is ...:
        has_images = any(may_get_images(e.alert, e.after_row) for e in evidence)
        lone = None if has_images else latest_car_image(rows)
    by_id: dict[int, SceneRow] = {}
    for row in [e.after_row for e in evidence if e.after_row and e.after is not None]:
        by_id.setdefault(row.scene_id, row)
    if lone is not None:
        by_id.setdefault(lone.scene_id, lone)
    drawn = list(by_id.values())
    drawn_ids = set(by_id)
    coarse_shown = [r for r in drawn if r.counted and (r.method or "objects") != "objects"]
    out += [t for r in drawn if r not in coarse_shown if (t := covered_caveat(r))]
    # the alert images not drawn (info alerts', those past the limit): one caveat of their
    # covered loads, no day of theirs named (they were named one by one up to 10 of them)
    others: dict[int, SceneRow] = {
        e.after_row.scene_id: e.after_row
        for e in evidence
        if e.after_row is not None and e.after_row.scene_id not in drawn_ids
    }
    text = covered_summary(list(others.values()))
    out += [text] if text else []
    if len(coarse_shown) == 1:
        out.append(covered_caveat(coarse_shown[0]) or "")
    elif coarse_shown:
        days = ", ".join(f"{r.day}" for r in coarse_shown)
        out.append(
            f"The alert images of {days} are too coarse to see single cars: their counts are "
            "car-equivalents from track occupancy, and whether loads are covered, and what "
            "they carry, cannot be seen."
        )

    if unusable:
        reasons = Counter(reason_kind(r.reasons) for r in unusable)

        why = ", ".join(f"{k} {n}" for k, n in reasons.most_common())
        out.append(
            f"{len(unusable)} of {len(rows)} images could not be counted ({why}); they are "
            "shown as gaps, never as zero counts."
            + (
                _needs_tracks_words(reasons["no track centrelines"], site)
                if reasons.get("no track centrelines")
                else ""
            )
        )
    out.extend(gap_caveats(rows))

    # a presence image (10 m and coarser) says whether a long train is there: no count
    cars = [r for r in counted if not r.presence]
    coarse = [r for r in cars if r.gsd > SEPARABLE_GSD]
    if coarse:
        lo, hi = min(r.gsd for r in coarse), max(r.gsd for r in coarse)
        span = f"{lo:.2g} m" if f"{lo:.2g}" == f"{hi:.2g}" else f"{lo:.2g}–{hi:.2g} m"
        out.append(
            f"{len(coarse)} of {len(cars)} counts come from images coarser than "
            f"{SEPARABLE_GSD:g} m ({span}): cars are not separable there, so those "
            "counts are estimates with wider intervals."
        )
    presence = [r for r in counted if r.presence]
    if presence:
        trains = sum(1 for r in presence if r.long_train)
        n = len(presence)
        out.append(
            f"{n} image{'s' if n != 1 else ''} of 10 m or coarser only "
            f"tell{'s' if n == 1 else ''} whether a long train is present ({trains} with one): "
            "no count of cars, so they are not on the chart and not in the counts above. "
            "That flag is not reliable: on simulated 10 m scenes it was right about three "
            "times in four, missing about a third of the long trains and flagging about a "
            "fifth of the scenes without one (docs/detection.md, "
            "benchmarks/bench_presence.py); treat it as a hint to order finer imagery."
        )
    text = _found_lines_caveat(cars, site, tracks_given=tracks_given)
    if text:
        out.append(text)
    text = reviewed_caveat(cars)
    if text:
        out.append(text)
    text = spread_caveat(cars, site)
    if text:
        out.append(text)
    text = types_caveat(counted)
    if text:
        out.append(text)
    text = low_sun_caveat(counted)
    if text:
        out.append(text)
    text = covered_flag_caveat(counted)
    if text:
        out.append(text)
    if any(r.gsd > IDENTIFY_GSD for r in counted):
        out.append(
            f"Car types are not identifiable in images coarser than {IDENTIFY_GSD:g} m "
            "(NATO STANAG 3769); per-class counts from those images are unclassified."
        )
    out.extend(_coarse_registration_caveats(counted))
    methods = Counter(r.method or "objects" for r in counted)
    if methods:
        parts = [f"{METHOD_WORDS.get(m, m)}: {n}" for m, n in methods.most_common()]
        out.append("Count method per image: " + "; ".join(parts) + ".")

    partial = [r for r in counted if r.coverage is not None and r.coverage < PARTIAL_COVERAGE]
    if partial:
        worst = min(float(r.coverage or 0.0) for r in partial)
        # "(down to 60%)" and "1 counts cover" until session 50
        out.append(
            (
                f"1 count covers only part of the site ({fmt_pct(worst)}); it is a lower "
                "bound for the whole site."
            )
            if len(partial) == 1
            else f"{len(partial)} counts cover only part of the site (down to "
            f"{fmt_pct(worst)}); they are lower bounds for the whole site."
        )

    out.extend(_registration_caveats(evidence))

    # Within one count method: images counted by length carry the detector's version
    # plus the length estimator's (pipeline.processing_version), which is not a second
    # detector; two versions of the same method are. Non-8-bit images also carry the
    # version of their mapping to 8 bits ("+inN"), which 8-bit images do not need, and
    # the version of the quality rules that judged them ("+qN"), not of the count.
    by_method: dict[str, set[tuple[str, str | None]]] = {}
    for r in counted:
        if r.detector:
            version = _NOT_THE_COUNT.sub("", r.detector_version) if r.detector_version else None
            by_method.setdefault(r.method or "objects", set()).add((r.detector, version))
    for method, versions in sorted(by_method.items()):
        if len(versions) > 1:
            names = ", ".join(f"{d} {v}" for d, v in sorted(versions, key=str))
            what = "detector versions" if method == "objects" else f"versions ({method} counts)"
            out.append(f"Counts come from {len(versions)} {what} ({names}); compare with care.")
    out.append(
        "Each count is a snapshot at the image's acquisition time; trains come and go within hours."
    )
    return tuple(out)
