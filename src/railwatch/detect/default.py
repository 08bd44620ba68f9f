"""The shipped default railcar detector (CPU, ONNX Runtime, no torch).

A tiny fully convolutional network (``weights/railwatch_default.onnx``, run by default as
its INT8 quantisation ``weights/railwatch_default.int8.onnx`` when the weights' card names
one, see ``detect.quantize``) looks at the tile
resampled to 0.5 m per pixel after local contrast normalisation and predicts, on a 2 m
grid, a car-centre heat map, the centre offset, the car's length and width, its axis
direction, the car-body mask, class logits and a tarpaulin logit. Cars are the local
maxima of the heat map; their oriented rectangles come from the regressed size and
axis. See ``docs/detection.md`` for the training data, figures and limits.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.calibration import Calibration, read_card
from railwatch.detect.model_core import (
    CLASSES,
    FUSE_MODES,
    N_OUT,
    STRIDE,
    VIEW_COUNTS,
    VIEWS,
    RawDetection,
    decode,
    fuse_views,
    normalise,
    tile_alignment,
    to_work_scale,
    unview_output,
    view_input,
)
from railwatch.detect.refine import CARD_KEY as REFINE_KEY
from railwatch.detect.refine import Refiner
from railwatch.detect.strings import support_strings
from railwatch.detect.track_evidence import keep_on_track
from railwatch.detect.verify import CARD_KEY as VERIFY_KEY
from railwatch.detect.verify import NetworkMaps, Verifier
from railwatch.errors import DetectionError, InputError

WEIGHTS_NAME = "railwatch_default.onnx"
#: Key of the card holding the SHA-256 of the fp32 weights it was written for (since
#: session 29; every writer of weights or of a card copied from other weights sets it or
#: drops it). A detector refuses a card whose digest is not its weights'.
DIGEST_KEY = "weights_sha256"
#: Suffix of the INT8 weights ``railwatch quantize`` writes next to fp32 ``NAME.onnx``.
INT8_SUFFIX = ".int8.onnx"
#: What ``precision`` accepts: ``auto`` runs INT8 when the card names it, else fp32.
PRECISIONS = ("auto", "int8", "fp32")
#: Coarsest ground sample distance the object detector accepts; coarser imagery goes to
#: ``railwatch.detect.coarse`` (occupied track length).
MAX_GSD = 1.6
#: Plausible body dimensions in metres (DOMAIN.md with slack); other peaks are dropped.
LENGTH_RANGE_M = (8.0, 27.0)
WIDTH_RANGE_M = (2.0, 4.2)
#: Centre-heat threshold when neither the caller nor the weights' card sets one.
DEFAULT_THRESHOLD = 0.4
#: Class-probability threshold when neither the caller nor the calibration sets one.
DEFAULT_CLASS_THRESHOLD = 0.5
#: A class threshold no probability reaches (every car reported as ``railcar``).
NEVER_LABEL = 1.01
#: Lowest centre-heat scores of a car that continues a string of cars on one side and on
#: both sides (``detect.strings``) when the weights' card does not set them.
DEFAULT_STRING_THRESHOLDS = (0.4, 0.3)
#: Resolution-dependent string support (since v2.3): a card's ``string_thresholds_coarse``
#: ``{"from_gsd": G, "one_side": A, "two_sides": B}`` replaces ``string_thresholds`` for
#: tiles of ``G`` m per pixel and coarser (v2.3: 0.75 m, v2.4: 0.6 m; finer tiles keep the
#: first pair).
#: A small tolerance so that a ground sample distance of 0.7499999 still counts as 0.75.
GSD_TOLERANCE = 1e-6
#: An optional second network for coarse tiles (the shipped card names none): the card's
#: ``coarse_network`` ``{"file": NAME.onnx, "from_gsd": G, "covered": "fine" | "own"}``
#: names fp32 weights
#: next to the card's (with their own card, which may name their INT8 file) that replace
#: the first network for tiles of ``G`` m per pixel and coarser; with ``covered: fine``
#: the covered (tarpaulin) map still comes from the first network.
COARSE_NETWORK_KEY = "coarse_network"
#: Where a coarse network's covered map can come from.
COVERED_SOURCES = ("fine", "own")
#: Index of the covered (tarpaulin) logit among the output maps.
COVERED_MAP = N_OUT - 1
#: Index of the car-body logit among the output maps.
BODY_MAP = 7
#: The verifier run by ``verify=True`` when the card names none (``detect.verify``).
DEFAULT_VERIFY_ENTRY: dict[str, Any] = {"file": "railwatch_verify.json"}


def default_weights() -> Path:
    """Path of the ONNX weights shipped in the package."""
    return Path(str(resources.files("railwatch.detect") / "weights" / WEIGHTS_NAME))


def weights_sha256(path: str | Path) -> str:
    """The SHA-256 of a weights file (hex), as a card's :data:`DIGEST_KEY` and an INT8
    entry's ``source_sha256`` record it."""
    from railwatch.imagery.inspect import file_sha256

    return file_sha256(Path(path))


def unreadable_card_advice(weights: str | Path) -> str:
    """What to do about a card of ``weights`` that is not a JSON object (or not JSON), as
    the detector, ``railwatch calibrate`` and ``railwatch quantize`` all refuse it: mend
    it, or move it away and calibrate again, knowing what is lost with it."""
    w = Path(weights)
    return (
        "mend it (railwatch writes the card as one JSON object: {...}) or put back a copy "
        f"of it; or move it away and run `railwatch calibrate {w}` to write a new card. "
        "What the moved card held is not carried over: its threshold, string thresholds "
        "and count calibration (give them to calibrate again: --threshold, --one-side, "
        "--two-sides, --string-pairs, --refine), its INT8 entry (run `railwatch quantize "
        f"{w}` again; until then the fp32 weights run), its coarse-network and verifier "
        "entries and its training record"
    )


def json_kind(value: object) -> str:
    """``value``'s JSON type in words (``array``, ``string``, ...)."""
    if isinstance(value, bool):  # before int: a bool is an int in Python
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "null"


class DefaultDetector:
    """Railcar detector shipped with railwatch; see the module docstring.

    ``threshold`` is the minimum centre-heat score of a car on its own (default: the one
    chosen for the weights and recorded in their card, else :data:`DEFAULT_THRESHOLD`);
    ``string_thresholds`` ``(one_side, two_sides)`` the lower scores at which a peak is
    still a car when confident cars continue its string on one side or on both
    (``detect.strings``; default: the card's, else :data:`DEFAULT_STRING_THRESHOLDS`;
    each is capped at the one before it, so ``(threshold, threshold)`` turns this off);
    ``coarse_string_thresholds`` ``(from_gsd, one_side, two_sides)`` a second pair used
    instead for tiles of ``from_gsd`` m per pixel and coarser (default: the card's
    ``string_thresholds_coarse`` when ``string_thresholds`` is not given either, else
    none, so explicit ``string_thresholds`` alone apply at every resolution; see
    :meth:`string_thresholds_at`); ``string_pairs`` whether, with the first pair, two
    weak cars may continue a string together (``detect.strings.support_strings``'s
    ``pairs``; default: the card's ``string_thresholds`` ``pairs``, else False);
    ``class_threshold`` the minimum class probability below which the class is reported as
    ``railcar``, the same for every class (default: one per class, those the count
    calibration chose so that each reported type is right at least 80 % of the time, see
    ``detect.calibration``; a calibration from before detector 2.8 has one for all classes;
    without a class calibration :data:`DEFAULT_CLASS_THRESHOLD`); ``threads`` the ONNX
    Runtime threads per tile (the tiled API runs several tiles at once instead, see
    ``detect.api.default_workers``); ``precision`` which network runs: ``"auto"`` (the
    default) the INT8 quantisation recorded under ``int8`` in the card (``railwatch
    quantize``) when there is one and fp32 otherwise, ``"int8"`` or ``"fp32"`` (the original
    weights, as for fine-tuning). ``weights`` always names the fp32 file (whose card holds
    thresholds and calibration); an ``NAME.int8.onnx`` path is read as ``NAME.onnx`` with
    ``precision="int8"``.

    ``coarse_network`` names fp32 weights run instead for tiles of ``coarse_from_gsd`` m
    per pixel and coarser (default: the card's ``coarse_network`` entry, see
    :data:`COARSE_NETWORK_KEY`; ``"none"`` runs the first network at every resolution),
    in the same precision when its card names INT8 weights (with ``precision="auto"``
    in fp32 otherwise); ``coarse_covered`` ``"fine"`` takes the covered map from the
    first network on those tiles too (both networks run there), ``"own"`` from the
    coarse one. Thresholds, string support and calibration are the first card's.

    ``views`` (1, 2, 4 or 8) runs the network on that many mirrored or transposed views of
    each tile and fuses their outputs (:func:`model_core.fuse_views`): better boxes on
    simulated scenes, not better counts, ``views`` times the network's cost (see
    docs/detection.md, "Averaged views"); anything but 1 changes :attr:`version`.
    ``fuse`` says how the views are fused: ``"mean"`` (the default) or ``"max"`` (each
    cell from the view with the highest heat, the other views' heat lowered by
    ``handicap`` first, so that the plain view's peaks stay unless another view sees the
    car more clearly). ``gate`` (a heat, with ``views`` > 1) runs the other views only on
    tiles whose plain view has a heat peak from ``gate`` up to the threshold (a weak
    car), so that tiles without one cost one view. See docs/detection.md, "Max-fused
    views"; all three change :attr:`version`.

    ``refine`` moves boxes across the track where the image at its own resolution clearly
    places the car elsewhere (``detect.refine``, since v2.5): None (the default) uses the
    refiner the card names under ``refine``, False none; turning it off changes
    :attr:`version`.

    ``verify`` looks again at every candidate peak down to a low score in the image at
    its own resolution and decides car / not car (``detect.verify``): None (the default)
    uses the verifier the card names under ``verify`` (the shipped card names none: an
    opt-in that did not pass its gate on real images, see docs/detection.md), True that
    one or, when the card names none, the package's (:data:`DEFAULT_VERIFY_ENTRY`),
    False none. Anything but the card's choice changes :attr:`version`.

    ``track_evidence`` (off by default; an opt-in, 2026-12-07, session 45) drops boxes
    along whose axis the image shows no track (``detect.track_evidence``); on, it
    changes :attr:`version`.
    """

    name = "railwatch-default"
    #: Version of the shipped weights with their card (threshold, calibration); the
    #: instance's ``version`` says which weights and thresholds it actually runs.
    version = "2.9"
    #: Preferred tile size for the tiled API: a fully convolutional net is cheapest on
    #: large tiles (less overlap recomputed). 1720 px since 2026-12-05 (session 34), when
    #: tiles were anchored to the file's pixels (``detect.tiling.anchored_windows``, a
    #: stride of 1640 px at 0.5 m): the overlap is 5 % of a side and the memory about
    #: that of the 1688 px balanced windows an 8192 px scene had until then (2048 px
    #: tiles took 250-300 MB more at its peak).
    tile_px = 1720
    #: Takes tiles as views of band-sequential planes (``detect.api.PLANAR_INPUT``): the
    #: normalisation splits the bands into planes first thing, so the tiled API passes
    #: the windows rasterio reads on without interleaving them.
    planar_input = True

    def __init__(
        self,
        weights: str | Path | None = None,
        *,
        threshold: float | None = None,
        class_threshold: float | None = None,
        string_thresholds: tuple[float, float] | None = None,
        coarse_string_thresholds: tuple[float, float, float] | None = None,
        string_pairs: bool | None = None,
        threads: int = 1,
        precision: str = "auto",
        coarse_network: str | Path | None = None,
        coarse_from_gsd: float | None = None,
        coarse_covered: str | None = None,
        views: int = 1,
        fuse: str = "mean",
        handicap: float = 0.0,
        gate: float | None = None,
        refine: bool | None = None,
        verify: bool | None = None,
        track_evidence: bool = False,
    ) -> None:
        if precision not in PRECISIONS:
            raise DetectionError(
                f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}"
            )
        self.weights = Path(weights) if weights is not None else default_weights()
        self._given = weights is not None  # a path of the user's (default:PATH)
        if self.weights.name.endswith(INT8_SUFFIX):
            self.weights = self.weights.with_name(self.weights.name[: -len(INT8_SUFFIX)] + ".onnx")
            precision = "int8" if precision == "auto" else precision
        self.threads = int(threads)
        self._sessions: dict[Path, Any] = {}
        self._lock = threading.Lock()
        self._card: dict[str, Any] | None = None
        self._digest: str | None = None
        self._calibration: Calibration | None = None
        own = (
            (threshold is None or threshold == self._card_threshold)
            and class_threshold is None
            and string_thresholds is None
            and coarse_string_thresholds is None
            and string_pairs is None
            and coarse_network is None
            and coarse_from_gsd is None
            and coarse_covered is None
            and views == 1
            and fuse == "mean"
            and not handicap
            and gate is None
            and refine is None
            and (verify is None or verify == (VERIFY_KEY in self.card))
            and not track_evidence
        )
        if int(views) != views or int(views) not in VIEW_COUNTS:
            raise DetectionError(
                f"views must be one of {', '.join(map(str, VIEW_COUNTS))}, got {views!r}"
            )
        if fuse not in FUSE_MODES:
            raise DetectionError(
                f"fuse must be one of {', '.join(FUSE_MODES)}, got {fuse!r}: 'max' keeps each "
                "cell of the view with the highest heat, 'mean' averages the views"
            )
        if not (0.0 <= _heat(handicap) < 1.0) or (handicap and fuse != "max"):
            raise DetectionError(
                f"handicap must be a heat from 0 to below 1 and needs fuse='max', got "
                f"{handicap!r} with fuse={fuse!r}: e.g. fuse='max', handicap=0.1"
            )
        if gate is not None and not (0.0 <= _heat(gate) <= 1.0):
            raise DetectionError(
                f"gate must be a heat between 0 and 1 (e.g. 0.3), got {gate!r}; leave it out "
                "to run every view on every tile"
            )
        if int(views) == 1 and (fuse != "mean" or handicap or gate is not None):
            # one view has nothing to fuse or gate: the options would do nothing but
            # change the version, and every stored scene would be detected again
            given = [f"fuse={fuse!r}"] * (fuse != "mean") + ["handicap"] * bool(handicap)
            given += ["gate"] * (gate is not None)
            raise DetectionError(
                f"{', '.join(given)} need(s) views 2, 4 or 8 (one view has nothing to fuse "
                f"or gate), got views={views!r}: e.g. views=8, fuse='max'"
            )
        #: How the views' output maps are fused (:data:`model_core.FUSE_MODES`).
        self.fuse = fuse
        #: How much the views after the plain one have their heat lowered before a max
        #: fusion (:func:`model_core.fuse_views`).
        self.handicap = float(handicap)
        #: The lowest heat peak of the plain view that makes a tile run the other views
        #: (None: every tile runs every view).
        self.gate = None if gate is None else float(gate)
        #: How many views of each tile the network sees (:data:`model_core.VIEWS`): their
        #: output maps are fused (:func:`model_core.fuse_views`) before decoding.
        self.views = int(views)
        if threshold is None:
            threshold = self._card_threshold
        self.threshold = float(threshold)
        if string_thresholds is None and coarse_string_thresholds is None:
            coarse_string_thresholds = self._card_coarse_strings()
        if string_thresholds is None:
            st = self.card.get("string_thresholds", {})
            try:
                string_thresholds = (
                    float(st.get("one_side", DEFAULT_STRING_THRESHOLDS[0])),
                    float(st.get("two_sides", DEFAULT_STRING_THRESHOLDS[1])),
                )
            except (AttributeError, TypeError, ValueError) as err:
                raise DetectionError(
                    f"the card of {self.weights} has unreadable string_thresholds {st!r}: "
                    f"set them again with `railwatch calibrate {self.weights} --one-side "
                    "--two-sides`"
                ) from err
        one = min(float(string_thresholds[0]), self.threshold)
        self.string_thresholds = (one, min(float(string_thresholds[1]), one))
        if string_pairs is None:
            string_pairs = self._card_string_pairs()
        #: Whether two weak cars may continue a string together (``support_strings``'s
        #: ``pairs``), with :attr:`string_thresholds` only (not the coarse pair).
        self.string_pairs = bool(string_pairs)
        #: ``(from_gsd, one_side, two_sides)`` for coarse tiles, or None (capped like
        #: :attr:`string_thresholds`).
        self.coarse_string_thresholds: tuple[float, float, float] | None = None
        if coarse_string_thresholds is not None:
            if len(coarse_string_thresholds) != 3:
                raise DetectionError(
                    "coarse_string_thresholds must be (from_gsd, one_side, two_sides), got "
                    f"{coarse_string_thresholds!r}"
                )
            g, a, b = (float(x) for x in coarse_string_thresholds)
            if not (math.isfinite(g) and g > 0):
                raise DetectionError(
                    f"coarse string thresholds need a positive from_gsd in metres, got {g}"
                )
            a = min(a, self.threshold)
            self.coarse_string_thresholds = (g, a, min(b, a))
        #: Per class, the probability from which a car whose most probable class it is
        #: is reported as that class (else ``railcar``): the calibration's per-class
        #: thresholds when it has them and no ``class_threshold`` is given, else
        #: :attr:`class_threshold` for every class.
        self.class_thresholds: dict[str, float] = {}
        cal = self.calibration
        if class_threshold is None:
            class_threshold = DEFAULT_CLASS_THRESHOLD
            if cal is not None and cal.class_edges:
                # a class calibration that found no trustworthy confidence: never label
                ct = cal.class_threshold
                class_threshold = ct if ct is not None else NEVER_LABEL
            if cal is not None and cal.class_thresholds:
                for c in CLASSES:
                    t = cal.type_threshold(c)
                    self.class_thresholds[c] = NEVER_LABEL if t is None else float(t)
        self.class_threshold = float(class_threshold)
        if not self.class_thresholds:
            self.class_thresholds = dict.fromkeys(CLASSES, self.class_threshold)
        self.model_path, self.precision = self._choose_model(precision)
        #: The coarse network as ``(from_gsd, model path, precision, covered source)``,
        #: or None (one network at every resolution).
        self.coarse: tuple[float, Path, str, str] | None = self._choose_coarse(
            coarse_network, coarse_from_gsd, coarse_covered, precision
        )
        #: The across-track refiner (``detect.refine``) or None.
        self.refiner: Refiner | None = None
        entry = self.card.get(REFINE_KEY)
        if refine is not False and entry is not None:
            self.refiner = Refiner.from_card(entry, self.weights)
        self._refine_entry = entry if self.refiner is not None else None
        #: The second-stage verifier (``detect.verify``) or None.
        self.verifier: Verifier | None = None
        ventry = self.card.get(VERIFY_KEY)
        if verify is True and ventry is None:
            ventry = DEFAULT_VERIFY_ENTRY
        if verify is not False and ventry is not None:
            self.verifier = Verifier.from_card(ventry, self.weights)
        self._verify_entry = ventry if self.verifier is not None else None
        #: Whether boxes without track along their axis are dropped
        #: (``detect.track_evidence``; an opt-in, off by default).
        self.track_evidence = bool(track_evidence)
        self.version = self._version(own)

    @property
    def _card_threshold(self) -> float:
        return float(self.card.get("threshold", DEFAULT_THRESHOLD))

    def _card_coarse_strings(self) -> tuple[float, float, float] | None:
        """The card's ``string_thresholds_coarse`` as ``(from_gsd, one_side, two_sides)``,
        None when the card has none."""
        st = self.card.get("string_thresholds_coarse")
        if st is None:
            return None
        try:
            return (float(st["from_gsd"]), float(st["one_side"]), float(st["two_sides"]))
        except (KeyError, TypeError, ValueError) as err:
            raise DetectionError(
                f"the card of {self.weights} has unreadable string_thresholds_coarse {st!r} "
                '(want {"from_gsd": M, "one_side": A, "two_sides": B}): set them again with '
                "`railwatch calibrate --coarse-from --coarse-one-side --coarse-two-sides`"
            ) from err

    def _card_string_pairs(self) -> bool:
        """The card's ``string_thresholds`` ``pairs`` flag (False when absent)."""
        st = self.card.get("string_thresholds", {})
        pairs = st.get("pairs", False) if isinstance(st, dict) else False
        if not isinstance(pairs, bool):
            raise DetectionError(
                f"the card of {self.weights} has string_thresholds pairs {pairs!r}, not true "
                "or false: set it again with `railwatch calibrate --string-pairs` or "
                "`--no-string-pairs`"
            )
        return pairs

    def tile_alignment(self, gsd: float) -> tuple[int, int]:
        """Where the tiled API starts and ends its tiles at ``gsd`` so that every pixel is
        seen at one phase of the working grid (``detect.api.TILE_ALIGNMENT``,
        :func:`~railwatch.detect.model_core.tile_alignment`)."""
        return tile_alignment(gsd)

    def string_pairs_at(self, gsd: float) -> bool:
        """Whether string support keeps pairs of weak cars (``support_strings``'s
        ``pairs``) on a tile of ``gsd`` m per pixel: with the fine pair of thresholds only."""
        c = self.coarse_string_thresholds
        return self.string_pairs and not (c is not None and gsd >= c[0] - GSD_TOLERANCE)

    def string_thresholds_at(self, gsd: float) -> tuple[float, float]:
        """The ``(one_side, two_sides)`` string thresholds for a tile of ``gsd`` m per
        pixel: the coarse pair from its ``from_gsd`` on, else :attr:`string_thresholds`."""
        c = self.coarse_string_thresholds
        if c is not None and gsd >= c[0] - GSD_TOLERANCE:
            return c[1], c[2]
        return self.string_thresholds

    def _choose_model(self, precision: str) -> tuple[Path, str]:
        """The ONNX file to run and its precision (``int8`` or ``fp32``)."""
        entry = self.card.get("int8")
        if precision == "fp32" or (precision == "auto" and not isinstance(entry, dict)):
            return self.weights, "fp32"
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise DetectionError(
                f"the card of {self.weights} names no INT8 weights: run `railwatch quantize "
                f"{self.weights}` first, or use the fp32 weights"
            )
        path = self.weights.with_name(Path(entry["file"]).name)
        source = entry.get("source_sha256")
        if isinstance(source, str) and self._weights_digest() not in (None, source):
            raise DetectionError(
                f"{path} was quantised from other weights than {self.weights} (the fp32 "
                f"file changed since): run `railwatch quantize {self.weights}` again, or "
                "use the fp32 weights (precision fp32: detector='default-fp32:PATH' in "
                "Python, --detector default-fp32:PATH on the command line)"
            )
        # the INT8 file itself (hashed once per detector; a missing file is reported when
        # its session is loaded): `railwatch quantize` writes the entry first, so one
        # stopped before its move leaves the entry beside the previous INT8 file
        recorded = entry.get("sha256")
        if isinstance(recorded, str) and path.is_file() and weights_sha256(path) != recorded:
            raise DetectionError(
                f"{path} is not the INT8 file the card of {self.weights} records (its "
                "SHA-256 differs: a `railwatch quantize` stopped before it moved the new "
                f"file into place, or the file was replaced): run `railwatch quantize "
                f"{self.weights}` again, or use the fp32 weights (precision fp32: "
                "detector='default-fp32:PATH' in Python, --detector default-fp32:PATH on the "
                "command line)"
            )
        return path, "int8"

    def _choose_coarse(
        self,
        network: str | Path | None,
        from_gsd: float | None,
        covered: str | None,
        precision: str,
    ) -> tuple[float, Path, str, str] | None:
        """The coarse network (see :attr:`coarse`) from the arguments and the card."""
        entry = self.card.get(COARSE_NETWORK_KEY)
        if entry is not None and not (
            isinstance(entry, dict) and isinstance(entry.get("file"), str)
        ):
            raise DetectionError(
                f"the card of {self.weights} has an unreadable {COARSE_NETWORK_KEY} entry "
                f'{entry!r} (want {{"file": NAME.onnx, "from_gsd": M, "covered": "fine"}})'
            )
        if network is not None and str(network).lower() in ("", "none"):
            return None
        if network is None:
            if entry is None:
                return None
            path = self.weights.with_name(Path(entry["file"]).name)
        else:
            path = Path(network)
            entry = None  # another coarse network: none of the card's settings
        if path.name.endswith(INT8_SUFFIX):
            path = path.with_name(path.name[: -len(INT8_SUFFIX)] + ".onnx")
        card_entry = entry or {}
        try:
            g = float(from_gsd if from_gsd is not None else card_entry.get("from_gsd", 0.75))
        except (TypeError, ValueError) as err:
            raise DetectionError(f"unreadable coarse network from_gsd: {err}") from err
        if not (math.isfinite(g) and g > 0):
            raise DetectionError(f"the coarse network needs a positive from_gsd, got {g}")
        cov = covered if covered is not None else str(card_entry.get("covered", "fine"))
        if cov not in COVERED_SOURCES:
            raise DetectionError(
                f"unknown coarse covered source {cov!r}: choose one of {', '.join(COVERED_SOURCES)}"
            )
        if not path.is_file():
            raise DetectionError(
                f"coarse network weights not found at {path}: give an fp32 ONNX file made "
                "by `railwatch train`, or 'none'"
            )
        coarse = DefaultDetector(
            path, precision="fp32", coarse_network="none", threshold=self.threshold
        )
        if self.precision == "fp32":
            return g, path, "fp32", cov
        if precision == "auto" and not isinstance(coarse.card.get("int8"), dict):
            return g, path, "fp32", cov
        model, prec = coarse._choose_model("int8")
        return g, model, prec, cov

    def model_at(self, gsd: float) -> Path:
        """The ONNX file run on a tile of ``gsd`` m per pixel (the coarse network's from
        its ``from_gsd`` on, else :attr:`model_path`)."""
        c = self.coarse
        if c is not None and gsd >= c[0] - GSD_TOLERANCE:
            return c[1]
        return self.model_path

    def __repr__(self) -> str:
        """One line a notebook can read: the weights, the version recorded with each
        scene, the threshold and the views (was ``<... object at 0x...>``; session 46)."""
        views = f", views={self.views}" if self.views != 1 else ""
        return (
            f"DefaultDetector(weights={str(self.weights)!r}, version={self.version!r}, "
            f"threshold={self.threshold:g}{views})"
        )

    def _version(self, default_thresholds: bool) -> str:
        """The version recorded with every processed scene: the card's version for the
        shipped weights at their own thresholds run in INT8 (the default), that version
        plus ``+fp32`` for them run in fp32; otherwise that version plus a digest of the
        network run (file and precision) and the thresholds, so that `railwatch process`
        redoes scenes after the weights, their precision or thresholds change."""
        base = str(self.card.get("version", "custom"))
        shipped = self.weights.resolve() == default_weights().resolve()
        if shipped and default_thresholds and base == DefaultDetector.version:
            return base if self.precision == "int8" else f"{base}+fp32"
        h = hashlib.sha256()
        try:
            h.update(self.model_path.read_bytes())
        except OSError:  # a missing file is reported when the session is loaded
            h.update(str(self.model_path).encode())
        h.update(f"|{self.precision}".encode())
        h.update(f"|{self.threshold:.6g}|{self.class_threshold:.6g}".encode())
        if set(self.class_thresholds.values()) != {self.class_threshold}:  # absent: before 2.8
            h.update(
                "|types {}".format(
                    ",".join(f"{c}:{t:.6g}" for c, t in sorted(self.class_thresholds.items()))
                ).encode()
            )
        h.update("|{:.6g}|{:.6g}".format(*self.string_thresholds).encode())
        if self.string_pairs:  # absent: digests as before v2.7
            h.update(b"|pairs")
        if self.coarse_string_thresholds is not None:  # absent: digests as before v2.3
            h.update("|coarse {:.6g}|{:.6g}|{:.6g}".format(*self.coarse_string_thresholds).encode())
        if self.coarse is not None:  # absent: digests as without the option
            g, path, prec, cov = self.coarse
            try:
                h.update(path.read_bytes())
            except OSError:
                h.update(str(path).encode())
            h.update(f"|coarse network {g:.6g}|{prec}|covered {cov}".encode())
        if self.views != 1:  # absent: digests as without the option
            h.update(f"|views {self.views}".encode())
            if self.fuse != "mean":  # absent: digests as before session 38
                h.update(f"|fuse {self.fuse} {self.handicap:.6g}".encode())
            if self.gate is not None:
                h.update(f"|gate {self.gate:.6g}".encode())
        h.update(b"|pad 8")  # v2.6: inputs padded to a multiple of 8 px (boxes moved)
        # v2.9: the tiled API's tiles anchored to the file (detect.tiling.anchored_windows)
        h.update(b"|anchored tiles")
        if self._refine_entry is not None:  # absent: digests as before v2.5
            # the entry's settings and the refiner's weights (read when it was loaded)
            entry = self._refine_entry
            h.update(f"|refine {json.dumps(entry, sort_keys=True)}".encode())
            h.update(json.dumps(self.refiner.to_dict() if self.refiner else {}).encode())
        if self._verify_entry is not None:  # absent: digests as before the verifier
            h.update(f"|verify {json.dumps(self._verify_entry, sort_keys=True)}".encode())
            if self.verifier is not None:  # its weights and the rule it runs with
                v = self.verifier
                h.update(json.dumps(v.to_dict()).encode())
                h.update(f"|{v.min_peak:.6g}|{v.drop_below:.6g}|{v.admit_from:.6g}".encode())
        if self.track_evidence:  # absent: digests as without the option
            h.update(b"|track evidence")
        return f"{base}+{h.hexdigest()[:10]}"

    @property
    def card(self) -> dict[str, Any]:
        """The weights' card (``.json`` next to the ONNX file: training configuration,
        chosen threshold, count calibration); empty when there is none."""
        if self._card is None:
            # the one card reader (calibrate, quantize and train --init read with it): a
            # card that is a folder, not JSON or not a JSON object is said in its words,
            # with the advice of a reader (the detector replaces nothing); a DetectionError
            # here, as before. Before session 31 the detector had its own copy, worded
            # otherwise ('the detector card X is a folder', 'cannot read the detector card')
            try:
                data = read_card(self.weights, todo=unreadable_card_advice(self.weights))
            except InputError as err:
                raise DetectionError(str(err)) from err
            self._check_card_digest(self.weights.with_suffix(".json"), data)
            self._card = data
        return self._card

    def _weights_digest(self) -> str | None:
        """The SHA-256 of the fp32 weights (read once per detector), None when they are
        missing (reported when the session is loaded)."""
        if self._digest is None and self.weights.is_file():
            self._digest = weights_sha256(self.weights)
        return self._digest

    def _check_card_digest(self, path: Path, card: dict[str, Any]) -> None:
        """Refuse a card whose :data:`DIGEST_KEY` is not the digest of the weights beside
        it: its calibration, thresholds and INT8 entry were made for other weights (an
        export stopped between its two moves, or weights replaced by hand). Cards
        without the key (the shipped card, exports before session 29) are not checked."""
        if DIGEST_KEY not in card:
            return
        digest = self._weights_digest()
        if digest is None or card[DIGEST_KEY] == digest:
            return
        raise DetectionError(
            f"the card {path} was written for other weights than {self.weights} (an "
            "export stopped between its two files, or the weights were replaced): run "
            "`railwatch train` again, or put back the matching card"
        )

    @property
    def calibration(self) -> Calibration | None:
        """Count calibration stored in the card (written by ``railwatch calibrate``),
        or None when there is none."""
        if self._calibration is None and isinstance(self.card.get("calibration"), dict):
            self._calibration = Calibration.from_dict(self.card["calibration"])
        return self._calibration

    def _get_session(self, path: Path | None = None) -> Any:
        """The ONNX Runtime session of ``path`` (default: :attr:`model_path`)."""
        path = self.model_path if path is None else path
        with self._lock:
            if path not in self._sessions:
                import onnxruntime as ort

                if not path.is_file():
                    if path.name.endswith(INT8_SUFFIX):
                        # the weights the card belongs to: a card copied under another
                        # name names the INT8 file of the original (session 50: the hint
                        # named a railwatch_default.onnx that was not there)
                        hint = (
                            f"run `railwatch quantize {self.weights}` or use the fp32 "
                            "weights (--detector default-fp32:PATH)"
                        )
                    elif self._given and path.is_dir():
                        hint = "it is a folder: give the weights' .onnx file in it"
                    elif self._given:
                        hint = "check the path given as default:PATH (no such file)"
                    else:  # the shipped weights are missing from the installation
                        hint = "reinstall railwatch or run `railwatch train --out PATH` and pass it"
                    raise DetectionError(f"default detector weights not found at {path}: {hint}")
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                try:
                    self._sessions[path] = ort.InferenceSession(
                        str(path), opts, providers=["CPUExecutionProvider"]
                    )
                except Exception as err:  # onnxruntime raises its own exception types
                    raise DetectionError(
                        f"cannot load detector weights {path}: {str(err).rstrip('.')}; give the "
                        "ONNX weights that railwatch train writes"
                    ) from err
            return self._sessions[path]

    def preprocess(
        self,
        image: np.ndarray,
        gsd: float,
        valid: np.ndarray | None = None,
        *,
        reuse: bool = False,
    ) -> tuple[np.ndarray, float]:
        """The network's input (1, 3, H, W) for ``image`` (resampled to the working scale,
        contrast-normalised, padded to a multiple of the stride) and the working scale
        (working pixels per input pixel). Also what INT8 calibration feeds the network.
        With ``reuse`` the input may be this thread's scratch array, overwritten by its
        next ``reuse`` call (:func:`model_core.normalise`; the detector's own runs)."""
        img = _check_image(image)
        work, scale = to_work_scale(img, gsd)
        vw = None
        if valid is not None:
            v = np.asarray(valid, dtype=bool)
            if v.shape != img.shape[:2]:
                raise InputError(
                    f"valid mask shape {v.shape} differs from image shape {img.shape[:2]}"
                )
            vw = cv2.resize(
                v.astype(np.uint8),
                (work.shape[1], work.shape[0]),
                interpolation=cv2.INTER_NEAREST,
            ).astype(bool)
        x = normalise(work, vw, reuse=reuse)
        h, w = x.shape[1:]
        # A multiple of 2 x STRIDE: the s8 layout upsamples its stride-8 features onto
        # the stride-4 ones by size, which misplaces every output cell of an input that
        # is a multiple of 4 but not of 8 (boxes 1-2 m off towards the image origin).
        ph, pw = -h % (2 * STRIDE), -w % (2 * STRIDE)
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, ph), (0, pw)))
        return x[None], scale

    def predict_maps(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> tuple[np.ndarray, float]:
        """Raw network output (N_OUT, gh, gw) for ``image`` and the working scale
        (working pixels per input pixel), from the network for ``gsd``
        (:meth:`model_at`). Exposed for diagnostics and the coarse path."""
        # the input is dropped after the runs: a reused array spares the page faults of a
        # fresh 34 MB one per 1688 px tile
        x, scale = self.preprocess(image, gsd, valid, reuse=True)
        path = self.model_at(gsd)
        out = self._run_views(path, x)
        if path != self.model_path and self.coarse is not None and self.coarse[3] == "fine":
            out[COVERED_MAP] = self._run_views(self.model_path, x)[COVERED_MAP]
        return out, scale

    def view_maps(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> tuple[list[np.ndarray], float]:
        """The raw network output (N_OUT, gh, gw) of each of the eight views of ``image``
        (:data:`model_core.VIEWS`: the plain view first, each brought back to the plain
        frame), unfused, and the working scale; from the network for ``gsd``. For
        diagnostics of how far the views agree (``benchmarks/analyse_view_agreement.py``)."""
        x, scale = self.preprocess(image, gsd, valid)
        path = self.model_at(gsd)
        maps = [self._run(path, x)]
        maps += [unview_output(self._run(path, view_input(x, v)), v) for v in VIEWS[1:]]
        return maps, scale

    def _run_views(self, path: Path, x: np.ndarray) -> np.ndarray:
        """The network's output maps on ``x``, fused over :attr:`views` views of it
        (mirrors and transposes brought back to the plain frame; see
        :func:`model_core.fuse_views`)."""
        if self.views == 1:
            return self._run(path, x)
        plain = self._run(path, x)
        if self.gate is not None and not self._weak_peak(plain):
            return plain
        return fuse_views(
            [plain]
            + [unview_output(self._run(path, view_input(x, v)), v) for v in VIEWS[1 : self.views]],
            self.fuse,
            self.handicap,
        )

    def _weak_peak(self, out: np.ndarray) -> bool:
        """Whether the output maps ``out`` have a heat peak (a 3 x 3 local maximum) from
        :attr:`gate` up to (not including) :attr:`threshold`: a car the plain view may
        miss, on which :attr:`gate` runs the other views."""
        assert self.gate is not None
        heat = 1.0 / (1.0 + np.exp(-np.clip(out[0], -30.0, 30.0)))
        peak = heat == cv2.dilate(heat, np.ones((3, 3), np.uint8))
        return bool(np.any(peak & (heat >= self.gate) & (heat < self.threshold)))

    def _run(self, path: Path, x: np.ndarray) -> np.ndarray:
        """The output maps (N_OUT, gh, gw) of the network ``path`` on the input ``x``."""
        session = self._get_session(path)
        out = session.run(None, {session.get_inputs()[0].name: x})[0][0]
        if out.shape[0] != N_OUT:
            raise DetectionError(
                f"detector weights {path} give {out.shape[0]} output maps, "
                f"expected {N_OUT}: use weights made by `railwatch train`"
            )
        return out

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        """Railcars in ``image`` (pixel coordinates of ``image``)."""
        gsd = _check_gsd(gsd)
        img = _check_image(image)
        if min(img.shape[:2]) * gsd < 4 * STRIDE * 0.5:
            return []
        if valid is not None and not np.asarray(valid, dtype=bool).any():
            return []
        out, scale = self.predict_maps(img, gsd, valid)
        return self.decode_maps(img, gsd, out, scale, valid)

    def candidates(
        self,
        image: np.ndarray,
        gsd: float,
        out: np.ndarray,
        scale: float,
        valid: np.ndarray | None = None,
        low: float | None = None,
    ) -> tuple[list[Detection], np.ndarray]:
        """The decoded peaks of the output maps ``out`` that pass the size and valid
        filters, down to ``low`` (default: the verifier's lowest peak; without one, the
        lower string threshold), and which of them string support keeps (in the order
        decoded)."""
        one_side, two_sides = self.string_thresholds_at(gsd)
        if low is None:
            low = two_sides if self.verifier is None else min(two_sides, self.verifier.min_peak)
        raw = decode(out, low)
        v = None if valid is None else np.asarray(valid, dtype=bool)
        dets = [d for r in raw if (d := self._to_detection(r, scale, gsd, image.shape, v))]
        kept = support_strings(
            dets,
            gsd,
            threshold=self.threshold,
            one_side=one_side,
            two_sides=two_sides,
            pairs=self.string_pairs_at(gsd),
        )
        ids = {id(d) for d in kept}
        return dets, np.array([id(d) in ids for d in dets], dtype=bool)

    def network_maps(self, out: np.ndarray, scale: float) -> NetworkMaps:
        """The heat and body maps of ``out`` as the verifier reads them."""

        def sig(x: np.ndarray) -> np.ndarray:
            return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0))), dtype=np.float32)

        return NetworkMaps(sig(out[0]), sig(out[BODY_MAP]), scale / STRIDE)

    def decode_maps(
        self,
        image: np.ndarray,
        gsd: float,
        out: np.ndarray,
        scale: float,
        valid: np.ndarray | None = None,
    ) -> list[Detection]:
        """The cars of one tile from its output maps ``out`` (:meth:`predict_maps`):
        peaks, string support, the verifier when there is one, with
        :attr:`track_evidence` the track-evidence filter, and the across refinement when
        there is one."""
        img = _check_image(image)
        cands, kept = self.candidates(img, gsd, out, scale, valid)
        if self.verifier is None:  # string support's choice, in the decoded order
            dets = [d for d, k in zip(cands, kept, strict=True) if k]
        else:
            dets = self.verifier.select(img, gsd, cands, kept, self.network_maps(out, scale))
        if self.track_evidence and dets:  # before the refiner moves them: cands hold them
            dets = keep_on_track(img, gsd, dets, valid, links=cands)
        if self.refiner is not None and dets:
            dets = self.refiner.refine(img, gsd, dets)
        return dets

    def _to_detection(
        self,
        r: RawDetection,
        scale: float,
        gsd: float,
        shape: tuple[int, ...],
        valid: np.ndarray | None,
    ) -> Detection | None:
        b = r.box
        cx, cy = b.cx / scale, b.cy / scale
        length, width = b.length / scale, b.width / scale
        if not (LENGTH_RANGE_M[0] <= length * gsd <= LENGTH_RANGE_M[1]):
            return None
        if not (WIDTH_RANGE_M[0] <= width * gsd <= WIDTH_RANGE_M[1]):
            return None
        ix, iy = int(cx), int(cy)
        if not (0 <= ix < shape[1] and 0 <= iy < shape[0]):
            return None
        if valid is not None and not valid[iy, ix]:
            return None
        p = float(r.cls_probs.max())
        best = CLASSES[int(np.argmax(r.cls_probs))]
        cls = best if p >= self.class_thresholds[best] else "railcar"
        extra = {f"p_{c}": float(q) for c, q in zip(CLASSES, r.cls_probs, strict=True)}
        extra["length_m"] = float(length * gsd)
        return Detection(
            box=OrientedBox(float(cx), float(cy), float(length), float(width), b.angle % 180.0),
            cls=cls,
            score=float(r.score),
            covered=r.covered_score >= 0.5,
            covered_score=float(r.covered_score),
            extra=extra,
        )


def _heat(value: object) -> float:
    """``value`` as a heat for the range checks of ``handicap`` and ``gate``: NaN (out
    of every range: a DetectionError naming the option) where it is no number, instead
    of float()'s bare ValueError or TypeError."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _check_gsd(gsd: float) -> float:
    g = float(gsd)
    if not math.isfinite(g) or g <= 0:
        raise InputError(f"ground sample distance must be a positive number of metres, got {gsd}")
    if g > MAX_GSD:
        raise InputError(
            f"{g:g} m per pixel is too coarse to separate railcars (limit {MAX_GSD} m): "
            "use the occupied-length estimate (railwatch.detect.coarse)"
        )
    return g


def _check_image(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] < 3:
        raise InputError(f"image must be (H, W, 3) RGB, got shape {img.shape}")
    if img.dtype != np.uint8:
        raise InputError(f"image must be uint8 RGB, got {img.dtype}: scale it to 8 bits first")
    return img[..., :3]
