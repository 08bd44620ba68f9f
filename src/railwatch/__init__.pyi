# The types of the names src/railwatch/__init__.py imports lazily (its _LAZY): type
# checkers and editors read this file, Python runs __init__.py.
# tests/test_python_api_s36.py checks that both name the same objects.

from railwatch.analysis.alerts import analyze_series as analyze_series
from railwatch.analysis.csvio import read_counts_csv as read_counts_csv
from railwatch.analysis.settings import AlertSettings as AlertSettings
from railwatch.analysis.types import Alert as Alert
from railwatch.analysis.types import CountPoint as CountPoint
from railwatch.analysis.types import Event as Event
from railwatch.api import analyze_counts as analyze_counts
from railwatch.api import assess_file as assess_file
from railwatch.api import count_cars as count_cars
from railwatch.api import site_alerts as site_alerts
from railwatch.api import site_counts as site_counts
from railwatch.api import to_geodataframe as to_geodataframe
from railwatch.api import to_geojson as to_geojson
from railwatch.counting import SceneCount as SceneCount
from railwatch.detect.api import DetectionResult as DetectionResult
from railwatch.detect.api import detect_array as detect_array
from railwatch.detect.api import detect_file as detect_file
from railwatch.detect.base import Detection as Detection
from railwatch.detect.base import OrientedBox as OrientedBox
from railwatch.detect.registry import get_detector as get_detector
from railwatch.errors import RailwatchError as RailwatchError
from railwatch.imagery.quality import Quality as Quality
from railwatch.sim.io import write_scene as write_scene
from railwatch.sim.params import SceneParams as SceneParams
from railwatch.sim.scene import render_scene as render_scene
from railwatch.sites import SiteSpec as SiteSpec
from railwatch.sites import site_from_bbox as site_from_bbox
from railwatch.sites import site_from_geojson as site_from_geojson
from railwatch.storage.db import Database as Database

__version__: str
__all__: list[str]
