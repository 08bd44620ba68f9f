"""The site's local day of the times the API gives (session 31).

The analysis groups a stored site's images by the site's local day, its nominal solar
zone (:func:`railwatch.analysis.store.site_utc_offset`): alert keys and the dates in
alert texts are local days. The API's times (``when``, ``acquired_at``) stay UTC
instants; each count row, scene, alert and candidate also gets its ``day``, the ISO
date at the site, so the dashboard labels by the days the alerts name (it took the first
ten characters of the UTC time: at a UTC+12 site an image of 22:30 UTC, and the alert
"on 2024-02-05" it raised, were listed under 2024-02-04).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from railwatch.analysis.events import alert_day, local_day, offset_text
from railwatch.analysis.store import site_utc_offset
from railwatch.storage.models import Alert, Site

__all__ = ["SiteDays"]


class SiteDays:
    """Local days of the sites of one answer, each site's offset worked out once."""

    def __init__(self) -> None:
        self._offsets: dict[int, timedelta] = {}

    def offset(self, site: Site) -> timedelta:
        """The site's nominal offset east of UTC."""
        found = self._offsets.get(site.id)
        if found is None:
            found = self._offsets[site.id] = site_utc_offset(site)
        return found

    def zone(self, site: Site) -> str:
        """The site's nominal zone as text: ``UTC+12``, ``UTC-5``, ``UTC``."""
        return offset_text(self.offset(site))

    def day(self, site: Site, when: datetime | None) -> str | None:
        """The ISO date at ``site`` of the instant ``when`` (naive: UTC); None for None."""
        return None if when is None else local_day(when, self.offset(site)).isoformat()

    def alert(self, alert: Alert) -> str:
        """An alert's day at its site, the day its key and text name
        (:func:`railwatch.analysis.events.alert_day`)."""
        return alert_day(alert.when, self.offset(alert.site)).isoformat()
