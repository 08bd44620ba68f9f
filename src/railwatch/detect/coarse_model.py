"""The learned per-sample occupancy classifier of the coarse estimate.

A small multilayer perceptron (one hidden layer, ReLU, logistic output) that decides,
for every sample along a track line, whether a car stands there, from the features of
:func:`railwatch.detect.coarse.sample_features` (the colour-offset evidence at three
lengths, its direction, the neighbouring lines' evidence, the offsets across the track,
the evidence along the line around the sample and how crowded the scene and the line
are). Pure NumPy; the weights ship as ``coarse_occupancy.json`` beside this module and
are fitted by ``benchmarks/fit_coarse_occupancy.py`` on simulator 3 m scenes of the
training style families only (docs/detection.md, "Coarse imagery"). A second set,
``coarse_occupancy_crowded.json``, fitted the same way with every fourth training scene
a yard half full or more (``fit_coarse_occupancy.py --dense-every 4``, five members),
decides the samples of a yard read alone that looks crowded, and of a yard taken as
full against the site's empty track (session 29, docs/detection.md "Crowded yards: patchy
ground, and a classifier for them"); it over-reads ordinary yards, so it is used for
those only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from railwatch.errors import ConfigError

#: The shipped weights.
MODEL_PATH = Path(__file__).resolve().parent / "coarse_occupancy.json"
#: The shipped weights for a yard read alone that looks crowded.
CROWDED_MODEL_PATH = Path(__file__).resolve().parent / "coarse_occupancy_crowded.json"


@dataclass(frozen=True)
class OccupancyModel:
    """Clipping to the training range (``low``, ``high``: the 0.5th and 99.5th
    percentiles of each feature there, so a scene far cleaner or stronger than the
    training scenes is not extrapolated), standardisation, one hidden layer and a
    logistic output. The samples of a line are
    decoded into strings against ``cut`` with ``switch`` (log-odds) per change
    (:func:`railwatch.detect.coarse.decode_strings`)."""

    features: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float
    cut: float = 0.5
    switch: float = 0.0
    meta: dict[str, Any] | None = None

    def probability(self, feats: np.ndarray) -> np.ndarray:
        """P(occupied) for each row of ``feats`` (N, F)."""
        if feats.ndim != 2 or feats.shape[1] != len(self.features):
            raise ConfigError(
                f"occupancy model expects {len(self.features)} features, got {feats.shape}"
            )
        z = (np.clip(feats, self.low, self.high) - self.mean) / self.scale
        hid = np.maximum(z @ self.w1 + self.b1, 0.0)
        logit = hid @ self.w2 + self.b2
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logit, -40, 40))))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "w1": self.w1.tolist(),
            "b1": self.b1.tolist(),
            "w2": self.w2.tolist(),
            "b2": self.b2,
            "cut": self.cut,
            "switch": self.switch,
            "meta": self.meta or {},
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OccupancyModel:
        try:
            return cls(
                features=tuple(d["features"]),
                low=np.asarray(d["low"], np.float64),
                high=np.asarray(d["high"], np.float64),
                mean=np.asarray(d["mean"], np.float64),
                scale=np.asarray(d["scale"], np.float64),
                w1=np.asarray(d["w1"], np.float64),
                b1=np.asarray(d["b1"], np.float64),
                w2=np.asarray(d["w2"], np.float64),
                b2=float(d["b2"]),
                cut=float(d.get("cut", 0.5)),
                switch=float(d.get("switch", 0.0)),
                meta=dict(d.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"bad coarse occupancy model: {exc}") from exc


def load_model(path: Path | str | None = None) -> OccupancyModel:
    """The occupancy model at ``path`` (default: the shipped one)."""
    p = Path(path) if path is not None else MODEL_PATH
    if path is None:
        return _shipped()
    try:
        return OccupancyModel.from_json(json.loads(p.read_text()))
    except OSError as exc:
        raise ConfigError(f"cannot read the coarse occupancy model {p}: {exc}") from exc


def load_crowded_model() -> OccupancyModel:
    """The shipped occupancy model for crowded yards read alone."""
    return _shipped(CROWDED_MODEL_PATH)


@lru_cache(maxsize=2)
def _shipped(path: Path = MODEL_PATH) -> OccupancyModel:
    try:
        return OccupancyModel.from_json(json.loads(path.read_text()))
    except OSError as exc:
        raise ConfigError(f"cannot read the coarse occupancy model {path}: {exc}") from exc
