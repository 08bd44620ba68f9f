"""SQLAlchemy 2 models: sites, scenes, detections, counts, scene reviews, events, alerts.

Geometries are stored as WKB (``LargeBinary``) so they round-trip bit-exactly and
work the same on SQLite and PostgreSQL; the ``*_geom`` properties turn them into
shapely objects. Times are stored in UTC and always come back timezone-aware.
Deleting a site deletes everything that belongs to it (database-level cascades).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

__all__ = [
    "SCENE_STATUSES",
    "SENSOR_MAX",
    "Alert",
    "Base",
    "Count",
    "Detection",
    "Event",
    "Scene",
    "Site",
    "UTCDateTime",
    "from_wkb",
    "to_wkb",
    "utcnow",
]

#: Processing states of a scene.
SCENE_STATUSES: tuple[str, ...] = ("ingested", "processed", "unusable", "failed")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Table options of the tables whose ids users and pages act on (``railwatch scene show
#: ID``, ``alert ack ID``, ``event remove ID``, the API's ``/alerts/{id}``): SQLite gives
#: a new row the highest id plus one, so without ``AUTOINCREMENT`` the id of a deleted
#: highest row (an alert a re-analysis removed) went to the next new row, and a page or
#: script holding the old id acted on another row (before session 24; migration
#: ``0002_sqlite_autoincrement``). PostgreSQL's sequences never hand an id out twice.
NEVER_REUSED_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def to_wkb(geom: BaseGeometry) -> bytes:
    """Geometry to WKB bytes (2-D, little-endian)."""
    return bytes(shapely.to_wkb(geom, output_dimension=2, byte_order=1))


def from_wkb(data: bytes) -> BaseGeometry:
    """WKB bytes back to a shapely geometry."""
    return shapely.from_wkb(data)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC, returned timezone-aware (UTC) on every backend.

    Naive datetimes are refused: an acquisition time without a zone is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone (UTC) for stored times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: The longest sensor name a scene keeps (the column's size): longer ones are cut.
SENSOR_MAX = 128


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Site(Base):
    """A named area of interest (WGS84 polygon/multipolygon)."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    tracks_wkb: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    utm_crs: Mapped[str] = mapped_column(String(32), nullable=False)
    area_km2: Mapped[float] = mapped_column(Float, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    scenes: Mapped[list[Scene]] = relationship(
        back_populates="site", cascade="all, delete-orphan", passive_deletes=True
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="site", cascade="all, delete-orphan", passive_deletes=True
    )
    alerts: Mapped[list[Alert]] = relationship(
        back_populates="site", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def geometry(self) -> BaseGeometry:
        """The site polygon/multipolygon (WGS84); an empty hole stored by a railwatch
        before session 53 left out (:func:`railwatch.sites.without_empty_holes`)."""
        from railwatch.sites import without_empty_holes

        return without_empty_holes(from_wkb(self.geometry_wkb))

    @property
    def tracks(self) -> BaseGeometry | None:
        """Track centrelines (WGS84 MultiLineString) or None."""
        return from_wkb(self.tracks_wkb) if self.tracks_wkb is not None else None


class Scene(Base):
    """One image of a site: what ingest learnt about it, then its processing state."""

    __tablename__ = "scenes"
    __table_args__ = (
        UniqueConstraint("site_id", "content_hash"),
        Index("ix_scenes_site_id_acquired_at", "site_id", "acquired_at"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False)
    uri: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    crs: Mapped[str] = mapped_column(Text, nullable=False)
    footprint_wkb: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    gsd: Mapped[float] = mapped_column(Float, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    band_count: Mapped[int] = mapped_column(Integer, nullable=False)
    dtype: Mapped[str] = mapped_column(String(32), nullable=False)
    sensor: Mapped[str | None] = mapped_column(String(SENSOR_MAX), nullable=True)
    coverage: Mapped[float] = mapped_column(Float, nullable=False)
    mask_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    date_source: Mapped[str] = mapped_column(String(32), nullable=False)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, nullable=False, default=dict)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # processing state
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="ingested")
    detector: Mapped[str | None] = mapped_column(String(128), nullable=True)
    detector_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # quality (from imagery.quality.Quality)
    clear_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    quality_coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    cloud_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    haze_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    snow_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    nodata_fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    usable: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reasons: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    quality_source: Mapped[str | None] = mapped_column(String(16), nullable=True)

    site: Mapped[Site] = relationship(back_populates="scenes")
    detections: Mapped[list[Detection]] = relationship(
        back_populates="scene", cascade="all, delete-orphan", passive_deletes=True
    )
    counts: Mapped[list[Count]] = relationship(
        back_populates="scene", cascade="all, delete-orphan", passive_deletes=True
    )
    review: Mapped[SceneReview | None] = relationship(
        back_populates="scene", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def footprint(self) -> BaseGeometry:
        """Valid-data footprint (WGS84); an empty hole stored by a railwatch before
        session 53 (a STAC item's) left out (:func:`railwatch.sites.without_empty_holes`)."""
        from railwatch.sites import without_empty_holes

        return without_empty_holes(from_wkb(self.footprint_wkb))

    @validates("sensor")
    def _fit_sensor(self, _key: str, value: str | None) -> str | None:
        """The sensor's name cut to the column's :data:`SENSOR_MAX` characters (ending
        in "…"): it comes from the image's STAC sidecar (``constellation``,
        ``platform``, the ``instruments`` joined) or a TIFF tag, any length, and on
        PostgreSQL a longer one failed the image's ingest ("value too long for type
        character varying(128)", nothing to do about it) where SQLite stored it whole
        (until session 41). It is shown only (reports, exports); a STAC sidecar's
        fields stay whole in the scene's metadata."""
        if value is not None and len(value) > SENSOR_MAX:
            return value[: SENSOR_MAX - 1] + "…"
        return value


class Detection(Base):
    """One detected railcar of a scene, in WGS84 and in the CRS it was detected in."""

    __tablename__ = "detections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), nullable=False, index=True
    )
    cls: Mapped[str] = mapped_column(String(32), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    covered: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    covered_score: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    inside: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    geometry_wkb: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    native_wkb: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    native_crs: Mapped[str] = mapped_column(Text, nullable=False)

    scene: Mapped[Scene] = relationship(back_populates="detections")

    @property
    def geometry(self) -> BaseGeometry:
        """Car body polygon in WGS84."""
        return from_wkb(self.geometry_wkb)

    @property
    def native_geometry(self) -> BaseGeometry:
        """Car body polygon in ``native_crs`` (metres for UTM)."""
        return from_wkb(self.native_wkb)


class Count(Base):
    """A count of one class (``all``, a car class, or ``covered``) in one scene."""

    __tablename__ = "counts"
    __table_args__ = (UniqueConstraint("scene_id", "cls"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), nullable=False
    )
    cls: Mapped[str] = mapped_column(String(32), nullable=False)
    count: Mapped[float] = mapped_column(Float, nullable=False)
    low: Mapped[float] = mapped_column(Float, nullable=False)
    high: Mapped[float] = mapped_column(Float, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    detector: Mapped[str] = mapped_column(String(128), nullable=False)
    version: Mapped[str] = mapped_column(String(64), nullable=False)

    scene: Mapped[Scene] = relationship(back_populates="counts")


#: ``Count.detector`` of a count an analyst gave (:class:`SceneReview`).
ANALYST = "analyst"


class SceneReview(Base):
    """An analyst's count of one scene, which the scene's stored counts then are.

    ``counts``: the classes the analyst counted (``all`` always; ``covered`` and car
    classes when given), ``{cls: n}``. The :class:`Count` rows of those classes are the
    analyst's (``detector`` :data:`ANALYST`, interval the count itself); ``machine``
    keeps the detector's rows they replaced (``{cls: {count, low, high, method,
    detector, version}}``, None where the detector had no row: none of that class), so
    that removing the review puts them back and readers can show both. Processing the
    scene again refreshes ``machine`` and keeps the analyst's counts, as long as the
    scene's file is still the one reviewed (``content_hash``).

    ``cars`` (None when the analyst gave a count only): the outlines the analyst drew or
    kept, ``[{cls, covered, inside, native: [[x, y], ...], lonlat: [[lon, lat], ...]}]``
    with ``native`` in ``native_crs`` (the scene's CRS); ``inside``: the car's centre lies
    in the site (only those are counted).
    """

    __tablename__ = "scene_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    counts: Mapped[dict[str, float]] = mapped_column(JSON, nullable=False)
    machine: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    cars: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    native_crs: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    scene: Mapped[Scene] = relationship(back_populates="review")


class Event(Base):
    """A dated real-world event at a site (a label for alerts to refer to)."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("site_id", "date", "label"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="events")


class Alert(Base):
    """An explained alert; ``key`` is stable so re-analysis updates it in place."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("site_id", "key"),
        Index("ix_alerts_site_id_when", "site_id", "when"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    when: Mapped[datetime] = mapped_column("when", UTCDateTime, nullable=False)
    cls: Mapped[str] = mapped_column(String(32), nullable=False, default="all")
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    explanation: Mapped[str] = mapped_column(Text, nullable=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    event_label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scene_id: Mapped[int | None] = mapped_column(
        ForeignKey("scenes.id", ondelete="SET NULL"), nullable=True
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    acknowledged: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ack_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="alerts")
