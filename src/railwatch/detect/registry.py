"""Detectors by name: ``default``, ``default:PATH``, ``default-fp32``,
``default-fp32:PATH`` (each with optional ``?views=N`` and ``?verify=true|false``, joined
by ``&``), ``onnx:PATH[?classes=a,b&conf=C&gsd=M]``, ``ultralytics:PATH[?conf=C&gsd=M]``
(both also ``iou=I&agnostic=0|1&max_det=N``: Ultralytics' NMS settings, session 36).

A name that is not such a spec (an unknown backend or option, a bad value, no path, a
``default:PATH`` whose file does not exist) is a :class:`DetectorSpecError`: bad input,
status 2 in the CLI, and still a :class:`~railwatch.errors.DetectionError` for callers
that catch that. A detector that cannot be loaded or run (unreadable weights, a model of
another layout) stays a plain :class:`~railwatch.errors.DetectionError` (status 1)."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import parse_qs

from railwatch.detect.base import Detector
from railwatch.errors import DetectionError, InputError


class DetectorSpecError(DetectionError, InputError):
    """A detector name :func:`get_detector` cannot read: bad input (an
    :class:`~railwatch.errors.InputError`, status 2 in the CLI), and a
    :class:`~railwatch.errors.DetectionError` as it always was."""


#: What :func:`get_detector` accepts, for help texts and error messages.
DETECTOR_CHOICES: tuple[str, ...] = (
    "default[?views=N&verify=true|false]",
    "default:PATH[?views=N&verify=true|false]",
    "default-fp32[?views=N&verify=true|false]",
    "default-fp32:PATH[?views=N&verify=true|false]",
    "onnx:PATH[?classes=a,b,...&conf=C&iou=I&agnostic=0|1&max_det=N&gsd=M]",
    "ultralytics:PATH[?conf=C&iou=I&agnostic=0|1&max_det=N&gsd=M]",
)

#: The NMS options of ``onnx:`` and ``ultralytics:`` specs (Ultralytics' ``iou``,
#: ``agnostic_nms``, ``max_det``; session 36).
_NMS_KEYS: tuple[str, ...] = ("iou", "agnostic", "max_det")


def _split_query(spec: str) -> tuple[str, dict[str, str]]:
    path, _, query = spec.partition("?")
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    return path, params


def _options(params: dict[str, str], spec: str) -> dict[str, Any]:
    """The ``views`` and ``verify`` queries of a default-detector spec as
    ``DefaultDetector`` keyword arguments (``views`` 1 and ``verify`` the card's when
    absent)."""
    unknown = sorted(set(params) - {"views", "verify"})
    if unknown:
        raise DetectorSpecError(
            f"unknown option {', '.join(unknown)} in detector {spec!r}: the default "
            "detector takes only ?views=N (N = 1, 2, 4 or 8) and ?verify=true|false"
        )
    out: dict[str, Any] = {}
    raw = params.get("views", "1")
    try:
        views = int(raw)
    except ValueError:
        raise DetectorSpecError(
            f"views={raw!r} in detector {spec!r} is not a whole number: use 1, 2, 4 or 8"
        ) from None
    from railwatch.detect.model_core import VIEW_COUNTS

    if views not in VIEW_COUNTS:  # said here, as bad input, not when the detector is made
        raise DetectorSpecError(
            f"views={raw!r} in detector {spec!r}: use "
            f"{', '.join(map(str, VIEW_COUNTS[:-1]))} or {VIEW_COUNTS[-1]} (the views of "
            "each tile the network's output is averaged over)"
        )
    out["views"] = views
    if "verify" in params:
        flag = params["verify"].strip().lower()
        if flag not in _FLAGS:
            raise DetectorSpecError(
                f"verify={params['verify']!r} in detector {spec!r}: use true or false"
            )
        out["verify"] = _FLAGS[flag]
    return out


def _conf(params: dict[str, str], spec: str, allowed: tuple[str, ...]) -> float | None:
    """The ``conf`` query of an ``onnx:``/``ultralytics:`` spec as a score threshold in
    (0, 1] (None when absent); a :class:`DetectorSpecError` for an unknown query key or a
    ``conf`` that is not such a number (a typo such as ``?clases=`` was ignored, and
    ``?conf=abc`` was an internal error)."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        takes = " and ".join(f"?{k}=" for k in allowed)
        raise DetectorSpecError(
            f"unknown option {', '.join(unknown)} in detector {spec!r}: this backend "
            f"takes only {takes} (e.g. ?conf=0.25), joined by &"
        )
    raw = params.get("conf")
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise DetectorSpecError(
            f"conf={raw!r} in detector {spec!r}: give the lowest score to keep, a number "
            "above 0 and at most 1 (e.g. ?conf=0.25)"
        )
    return value


def _model_gsd(params: dict[str, str], spec: str) -> float | None:
    """The ``gsd`` query of an ``onnx:``/``ultralytics:`` spec (the ground sample
    distance the model was trained at, tiles are resampled to it; None when absent),
    a :class:`DetectorSpecError` when it is not such a number (session 35)."""
    raw = params.get("gsd")
    if raw is None or raw.strip() == "":
        return None
    from railwatch.detect.onnx_backend import check_model_gsd

    try:
        return check_model_gsd(raw.strip(), f"detector {spec!r}:")
    except InputError as err:
        raise DetectorSpecError(str(err)) from None


def _nms(params: dict[str, str], spec: str) -> dict[str, Any]:
    """The ``iou``, ``agnostic`` and ``max_det`` queries of an ``onnx:``/``ultralytics:``
    spec as the detector's ``nms_iou``, ``agnostic`` and ``max_det`` (absent ones left
    out: Ultralytics' defaults 0.7, off, 300); a :class:`DetectorSpecError` saying what
    to give for a value that is not one (session 36)."""
    out: dict[str, Any] = {}
    raw = params.get("iou", "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not 0.0 <= value <= 1.0:
            raise DetectorSpecError(
                f"iou={raw!r} in detector {spec!r}: give the NMS threshold, the "
                "probabilistic IoU above which the lower-scored of two boxes of one class is "
                "dropped, a number from 0 to 1 (Ultralytics' default: ?iou=0.7)"
            )
        out["nms_iou"] = value
    raw = params.get("agnostic", "").strip()
    if raw:
        flag = _FLAGS.get(raw.lower())
        if flag is None:
            raise DetectorSpecError(
                f"agnostic={raw!r} in detector {spec!r}: use 1 (one NMS over all classes, "
                "Ultralytics' agnostic_nms=True) or 0 (per class, its default)"
            )
        out["agnostic"] = flag
    raw = params.get("max_det", "").strip()
    if raw:
        try:
            count = int(raw)
        except ValueError:
            count = 0
        if count < 1:
            raise DetectorSpecError(
                f"max_det={raw!r} in detector {spec!r}: give the most boxes kept per model "
                "run, a whole number of at least 1 (Ultralytics' default: ?max_det=300)"
            )
        out["max_det"] = count
    return out


def _need_path(path: str, kind: str, name: str) -> None:
    """A :class:`DetectorSpecError` when a ``KIND:PATH`` spec has no path (``onnx:`` or
    ``onnx:?classes=a`` was 'unknown detector' or 'ONNX model . is a folder')."""
    if not path.strip():
        example = "model.pt" if kind == "ultralytics" else "weights.onnx"
        raise DetectorSpecError(
            f"detector {name!r} names no model file: give its path after '{kind}:', e.g. "
            f"{kind}:{example}"
        )


def _need_file(path: str, name: str) -> None:
    """A :class:`DetectorSpecError` when the weights a ``default:PATH`` spec names are
    not a file: said before any image is read (``process --detector default:TYPO``
    failed every scene it processed, one by one, with the same error), as ``onnx:PATH``
    says a missing model. The shipped weights, and a file removed later, are checked
    when the detector first runs (a :class:`~railwatch.errors.DetectionError`)."""
    from pathlib import Path

    weights = Path(path)  # as DefaultDetector reads it (no ~ expansion)
    if weights.is_file():
        return
    why = (
        "it is a folder: give the weights' .onnx file in it"
        if weights.is_dir()
        else "no such file; check the path (the .onnx file railwatch train --out wrote)"
    )
    raise DetectorSpecError(
        f"detector {name!r}: default detector weights not found at {path}: {why}"
    )


_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _default(weights: str | None = None, precision: str = "auto", **options: Any) -> Detector:
    try:
        module = importlib.import_module("railwatch.detect.default")
    except ImportError as err:
        raise DetectionError(
            "the default detector (railwatch.detect.default) is not available in this "
            f"installation ({err}); reinstall railwatch or give a model of your own "
            "(detector='onnx:PATH' in Python, --detector onnx:PATH on the command line)"
        ) from err
    cls = getattr(module, "DefaultDetector", None)
    if cls is None:
        raise DetectionError(
            "railwatch.detect.default defines no DefaultDetector; reinstall railwatch"
        )
    detector = cls(weights, precision=precision, **options)
    if not isinstance(detector, Detector):
        raise DetectionError("railwatch.detect.default.DefaultDetector is not a Detector")
    return detector


def get_detector(name: str = "default") -> Detector:
    """The detector called ``name``; see :data:`DETECTOR_CHOICES`.

    ``onnx:PATH`` runs an oriented-box ONNX model in the Ultralytics YOLO-OBB output
    layouts (raw, transposed or end-to-end); its class names come from the model's
    ``names`` metadata, a ``?classes=a,b`` query or a ``PATH.json`` sidecar.
    ``ultralytics:PATH`` needs the ``ultralytics`` extra (AGPL-3.0 licensed). Both take
    ``?gsd=M``, the ground sample distance the model was trained at: each tile is
    resampled to it before the model sees it (default: fed at the imagery's own), and
    ``?iou=I&agnostic=0|1&max_det=N``, the NMS settings of Ultralytics' ``predict``
    (defaults 0.7, per class, 300 per model run, as Ultralytics'; see
    :mod:`railwatch.detect.onnx_backend`).
    ``default:PATH`` runs the default detector with other weights (``railwatch train
    --out PATH``, e.g. fine-tuned on your own labels). The default detector runs its
    INT8 weights when their card names them (``railwatch quantize``); ``default-fp32``
    and ``default-fp32:PATH`` run the
    original fp32 network instead. ``?views=N`` (2, 4 or 8) after any of the four makes
    the default detector average its network's output over N mirrored or transposed views
    of each tile (N times the cost; see ``docs/detection.md``, "Averaged views");
    ``?verify=true`` (or ``false``) turns the second-stage verifier (``detect.verify``)
    on or off whatever the card says; both together as ``?views=2&verify=true``.

    A name that is not such a spec raises :class:`DetectorSpecError` (bad input).
    """
    spec = name.strip()
    head, params = _split_query(spec)
    if head in ("", "default", "railwatch-default", "default-fp32"):
        precision = "fp32" if head == "default-fp32" else "auto"
        return _default(precision=precision, **_options(params, spec))
    kind, sep, rest = spec.partition(":")
    if sep and kind in ("default", "default-fp32") and rest:
        path, params = _split_query(rest)
        _need_path(path, kind, name)
        _need_file(path, name)
        precision = "fp32" if kind == "default-fp32" else "auto"
        return _default(path, precision=precision, **_options(params, spec))
    if sep and kind == "onnx" and rest:
        from railwatch.detect.onnx_backend import OnnxObbDetector

        path, params = _split_query(rest)
        _need_path(path, kind, name)
        conf = _conf(params, spec, ("classes", "conf", *_NMS_KEYS, "gsd"))
        classes = params.get("classes")
        return OnnxObbDetector(
            path,
            classes=tuple(c.strip() for c in classes.split(",") if c.strip()) if classes else None,
            score_threshold=conf,
            model_gsd=_model_gsd(params, spec),
            **_nms(params, spec),
        )
    if sep and kind == "ultralytics" and rest:
        from railwatch.detect.ultralytics_backend import UltralyticsObbDetector

        path, params = _split_query(rest)
        _need_path(path, kind, name)
        conf = _conf(params, spec, ("conf", *_NMS_KEYS, "gsd"))
        return UltralyticsObbDetector(
            path, score_threshold=conf, model_gsd=_model_gsd(params, spec), **_nms(params, spec)
        )
    if sep and kind in ("default", "default-fp32", "onnx", "ultralytics"):
        _need_path("", kind, name)
    raise DetectorSpecError(
        f"unknown detector {name!r}: {_model_file_hint(name)}"
        f"choose one of {', '.join(DETECTOR_CHOICES)}"
    )


def _model_file_hint(name: str) -> str:
    """What to write for a detector given as a model file's path alone (``tuned.onnx``,
    ``best.pt``): its kind before it (2026-12-07, session 46: the weights `railwatch
    train` wrote, given so, were "unknown detector" and the list of every spec)."""
    path = name.split("?", 1)[0]
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix == "onnx":
        return (
            f"a model file is given with its kind: default:{path} for weights that "
            f"`railwatch train` wrote, onnx:{path} for another YOLO-OBB ONNX model; "
        )
    if suffix == "pt":
        return f"a model file is given with its kind: ultralytics:{path}; "
    return ""
