"""The layer rule of docs/architecture.md, checked on every module's imports.

Every ``import`` and ``from ... import`` of every module under ``src/railwatch`` is read
with :mod:`ast`, the lazy ones inside functions included, so an upward import fails
here with its file and line instead of drifting away from the architecture page.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import railwatch

SRC = Path(railwatch.__file__).resolve().parent
ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: The layers of docs/architecture.md from the bottom up: a layer imports only those
#: before it (rows below, or to its left in its row). ``railwatch`` is the root package
#: (``__version__``, ``RailwatchError``). The CLI may import the web layer (``railwatch
#: serve`` starts it).
ORDER = [
    "settings",
    "errors",
    "railwatch",
    "limits",
    "rails",
    "sites",
    "sim",
    "imagery",
    "detect",
    "counting",
    "storage",
    "analysis",
    "ingest",
    "stac",
    "pipeline",
    "distributed",
    "export",
    "review",
    "report",
    "demo",
    "api",  # railwatch.api: the Python entry points (docs/python.md)
    "web",
    "cli",
]

#: Shared value types any layer may import; they import only the bottom row.
VALUE_TYPES = {"railwatch.detect.base", "railwatch.analysis.types"}
BOTTOM = {"railwatch", "settings", "errors", "limits"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the railwatch module imported (longest known prefix)
    where: str  # path:line


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[str, int]]:
    """Every dotted name ``source`` imports (module or module.attribute), with its line:
    at module level, inside functions and under ``if TYPE_CHECKING`` alike."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            out += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.args[0].value, node.lineno))
    return out


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


@cache
def all_imports() -> tuple[Import, ...]:
    """Every import of every module of ``src/railwatch``, read once per test process (the
    sources do not change while the tests run; each of the four tests that read them read
    them again, about 4 s apiece under the suite's load: session 50)."""
    modules = all_modules()
    found: set[Import] = set()
    for name, path in modules.items():
        source = path.read_text(encoding="utf-8")
        for dotted, line in imported_names(source, name, path.name == "__init__.py"):
            target = dotted
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(Import(name, target, f"{path.relative_to(SRC.parent)}:{line}"))
    return tuple(sorted(found, key=lambda i: (i.where, i.target)))


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_reads_lazy_and_relative_imports() -> None:
    source = (
        "from . import sibling\n"
        "def f():\n"
        "    from railwatch.web.app import create_app\n"
        "    import importlib\n"
        "    importlib.import_module('railwatch.cli.main')\n"
    )
    names = {n for n, _ in imported_names(source, "railwatch.detect.api", False)}
    assert {"railwatch.detect.sibling", "railwatch.web.app", "railwatch.cli.main"} <= names


def test_the_core_never_imports_the_cli_or_the_web_layer() -> None:
    upward = [
        f"{i.where}: {i.module} imports {i.target}"
        for i in all_imports()
        if layer_of(i.module) not in ("cli", "web") and layer_of(i.target) in ("cli", "web")
    ]
    assert not upward, "the core imports the CLI or the web layer:\n" + "\n".join(upward)


def test_the_web_layer_never_imports_the_cli() -> None:
    upward = [
        f"{i.where}: {i.module} imports {i.target}"
        for i in all_imports()
        if layer_of(i.module) == "web" and layer_of(i.target) == "cli"
    ]
    assert not upward, "\n".join(upward)


def test_every_package_and_module_has_its_place_in_the_layers() -> None:
    layers = {layer_of(m) for m in all_modules()}
    missing = sorted(layers - set(ORDER))
    assert not missing, (
        f"{missing} not placed: add it to the diagram of docs/architecture.md and to ORDER here"
    )
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = {f"railwatch.{n}" for n in layers - {"railwatch"}}
    unnamed = sorted(n for n in named if n not in text)
    assert not unnamed, f"docs/architecture.md does not name {unnamed}"


def test_each_layer_imports_only_layers_below_it() -> None:
    rank = {name: k for k, name in enumerate(ORDER)}
    upward = []
    for i in all_imports():
        a, b = layer_of(i.module), layer_of(i.target)
        if a == b or i.target in VALUE_TYPES:
            continue
        if rank[b] > rank[a]:
            upward.append(f"{i.where}: {i.module} ({a}) imports {i.target} ({b})")
    assert not upward, (
        "upward imports (move the import, or change the layers in docs/architecture.md "
        "and ORDER here):\n" + "\n".join(upward)
    )


def test_the_shared_value_types_import_only_the_bottom_row() -> None:
    wrong = [
        f"{i.where}: {i.module} imports {i.target}"
        for i in all_imports()
        if i.module in VALUE_TYPES and layer_of(i.target) not in BOTTOM
    ]
    assert not wrong, "\n".join(wrong)
