"""``railwatch.analysis`` imports its names when first used (session 36).

The package imported every analysis module eagerly, so ``from railwatch.analysis.types
import CountPoint`` (the value types storage and the simulator import) pulled in NumPy,
shapely and pyproj (0.5-1.4 s). Its re-exports are now lazy, as :mod:`railwatch`'s are.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "from railwatch.analysis.types import CountPoint",
        "from railwatch.analysis import CountPoint, Event, Alert, ALERT_KINDS",
        "import railwatch.analysis",
    ],
)
def test_the_value_types_import_neither_numpy_nor_shapely_nor_pyproj(statement: str) -> None:
    loaded = _modules_after(statement)
    assert "railwatch.analysis.types" in loaded or statement == "import railwatch.analysis"
    heavy = {"numpy", "shapely", "pyproj", "railwatch.analysis.alerts"} & loaded
    assert not heavy, f"{statement!r} imported {sorted(heavy)}"


def test_every_re_export_is_its_module_s_object() -> None:
    analysis = importlib.import_module("railwatch.analysis")
    lazy: dict[str, str] = analysis._LAZY
    assert sorted(lazy) == sorted(analysis.__all__)
    for name, module in lazy.items():
        assert getattr(analysis, name) is getattr(importlib.import_module(module), name)
    assert set(analysis.__all__) <= set(dir(analysis))


def test_an_unknown_name_and_the_submodules() -> None:
    analysis = importlib.import_module("railwatch.analysis")
    with pytest.raises(AttributeError, match=r"railwatch\.analysis' has no attribute 'nope'"):
        analysis.nope  # noqa: B018
    from railwatch.analysis import analyze_series, store

    assert store.__name__ == "railwatch.analysis.store"
    assert analyze_series.__module__ == "railwatch.analysis.alerts"
