"""Review of session 31's changes: bugs found and fixed, each with its test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shapely.geometry import box

#: 174.78°E, nominal UTC+12
AKL = box(174.78, -36.85, 174.79, -36.84)
PATTERN = (10.0, 11.0, 9.0, 12.0, 8.0, 10.0, 10.0, 12.0, 8.0)


def test_a_stored_local_key_is_not_moved_onto_another_images_alert(tmp_path: Path) -> None:
    """``store._move_keys`` moves only a row stored under session 30's UTC-day key. An
    alert stored since under its local key, of an image whose local day is its UTC day
    (05:00 UTC, 17:00 at UTC+12), is no such row: when re-analysis no longer raises it
    and raises one for the next image (20:00 UTC the same UTC day, the next local day),
    the new alert is new, unacknowledged, and the acknowledged one is retired with its
    note. The key move took the first alert's row, acknowledgement and note for the
    other image's alert."""
    from sqlalchemy import select

    from counted_site import add_counted_site
    from railwatch.analysis.store import analyze_site
    from railwatch.storage import Database, repo
    from railwatch.storage.models import Alert as AlertRow
    from railwatch.storage.models import Count

    x = datetime(2024, 2, 4, 5, 0, tzinfo=UTC)  # 17:00 on 2024-02-04 at the site
    y = datetime(2024, 2, 4, 20, 0, tzinfo=UTC)  # 08:00 on 2024-02-05 at the site
    last = datetime(2024, 1, 25, 2, 0, tzinfo=UTC)
    counts = [(last - timedelta(days=10 * (119 - k)), PATTERN[k % 9]) for k in range(120)]
    counts += [(x, 50.0), (y, 10.0)]
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    add_counted_site(db, "akl", AKL, counts, interval=lambda n: (0.0, 99.0), detector="hand")
    as_of = datetime(2024, 2, 6, tzinfo=UTC)
    with db.session() as s:
        analyze_site(s, "akl", as_of=as_of)
    with db.session() as s:
        mine = {
            row.key: row.id
            for row in s.scalars(select(AlertRow))
            if row.key.endswith(":2024-02-04") and row.kind != "quality"
        }
        assert mine  # the rise at x raised something
        for alert_id in mine.values():
            repo.acknowledge_alert(s, alert_id, "x checked")
    with db.session() as s:  # x was 10 cars after all; y is the rise
        for n, scene_id in ((10.0, 121), (50.0, 122)):
            count = s.scalar(select(Count).where(Count.scene_id == scene_id))
            assert count is not None
            count.count = n
    with db.session() as s:
        analyze_site(s, "akl", as_of=as_of)
        stored = {row.key: row for row in s.scalars(select(AlertRow))}
    moved = [k.replace("2024-02-04", "2024-02-05") for k in mine]
    assert any(k in stored for k in moved)  # the rise at y raised something
    for key in moved:
        if key in stored:
            assert not stored[key].acknowledged, key
            assert "x checked" not in (stored[key].ack_note or ""), key
            assert stored[key].id not in mine.values(), key
    for key, alert_id in mine.items():  # retired, the note kept
        assert stored[key].id == alert_id and not stored[key].active
        assert "x checked" in (stored[key].ack_note or "")
    db.dispose()
