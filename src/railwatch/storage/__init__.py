"""railwatch.storage: SQLAlchemy 2 models, Alembic migrations, repository functions.

SQLite by default, PostgreSQL by URL. Use :class:`Database` for sessions and the
functions of :mod:`railwatch.storage.repo` for reads and writes.
"""

from railwatch.storage.db import Database, make_engine
from railwatch.storage.migrate import upgrade
from railwatch.storage.records import DetectionRecord, records_from_detections

__all__ = ["Database", "DetectionRecord", "make_engine", "records_from_detections", "upgrade"]
