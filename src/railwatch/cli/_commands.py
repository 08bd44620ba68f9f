"""The commands of ``railwatch``, each imported only when it is used.

Until session 38 (2026-12-06) :func:`railwatch.cli.main.build_app` imported every
module of this package to register its commands, and with them numpy, SQLAlchemy,
shapely, pyproj, OpenCV and SciPy: ``railwatch --version``, ``--help``, shell
completion and every command paid about 1.6 s of CPU for all of them (see
docs/benchmarks.md, "CLI start-up"). Now the root group (:class:`LazyGroup`) lists
the commands from :data:`COMMANDS` (name, the module of ``railwatch.cli`` that
registers it, the summary ``railwatch --help`` shows) and imports a command's module
when that command is run, or asked for its own ``--help`` or completions.

A command in a new module still only needs the module with ``register(app)``:
``build_app`` imports and registers, as before, every module that no entry of
:data:`COMMANDS` names, so the command works at once (at the old start-up cost). A new
command in a module already listed needs its entry here: until then it is not found
(the module is imported only for the commands listed). ``tests/test_cli_startup_s38.py``
fails in both cases until the command's entry is added here, printing the entries as
they should read. The same test fails when a summary here no longer matches the
command's docstring or ``help=``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from typer.core import TyperCommand, TyperGroup


class Entry(NamedTuple):
    """A command of ``railwatch`` as ``railwatch --help`` lists it."""

    #: The command's name (``railwatch NAME``).
    name: str
    #: The module of ``railwatch.cli`` whose ``register(app)`` adds it.
    module: str
    #: What the list of commands says of it: a command's one-line help (the first
    #: paragraph of its help), a group's help.
    summary: str
    #: Whether it is a group of commands (``site``, ``event``, ...).
    group: bool = False
    #: The panel of ``--help`` it is listed in (None: "Commands").
    panel: str | None = None


#: Every command of ``railwatch``, in the order of ``railwatch --help`` (as typer lists
#: an app: the commands by module, then the groups).
COMMANDS: tuple[Entry, ...] = (
    Entry(
        "alerts",
        "alerts",
        "List stored alerts, newest first.",
    ),
    Entry(
        "analyze",
        "analyze",
        "Judge every image against its own history and raise explained alerts.",
    ),
    Entry(
        "backup",
        "backup",
        "Copy the SQLite database to DEST (a new file), consistently, while other "
        "railwatch runs go on writing: SQLite's online backup (not `cp`, which "
        "misses the latest commits kept in the -wal file beside the database, or "
        "copies a damaged file), made one self-contained file, checked "
        "(integrity, schema revision, rows per table) before it is given DEST's "
        "name. An existing DEST is never overwritten. Nothing is migrated: run it "
        "before upgrading railwatch to keep the database as it was. To put it "
        "back, use `railwatch restore DEST` (not cp). PostgreSQL: it says the "
        "pg_dump and pg_restore commands to use.",
    ),
    Entry(
        "restore",
        "backup",
        "Put BACKUP (a file `railwatch backup` wrote) back as the SQLite "
        "database. BACKUP is checked first (integrity, a schema revision this "
        "railwatch knows); the database as it is now is first backed up beside it "
        "(FILE.before-restore-STAMP.db), so nothing is lost; then BACKUP is "
        "written into it through SQLite, in one transaction. Do not copy a backup "
        "over the database file with cp: a -wal file left beside it (a run "
        "killed, a crash) is replayed onto the copy at the next open and mixes in "
        "the old database's last commits. Refused while a railwatch run processes "
        "a site of the database; stop `railwatch serve` too: it is refused while "
        "any other process has the database open. A backup of an older railwatch "
        "is upgraded by the next command (restore says so). Interrupted (Ctrl-C), "
        "it says whether the database is as it was or restored: never half of "
        "each.",
    ),
    Entry(
        "copy-db",
        "backup",
        "Copy the whole database into DEST, a new, empty database: SQLite to "
        "PostgreSQL as a team outgrows one file, or back, or between two servers.",
    ),
    Entry(
        "calibrate",
        "calibrate",
        "Calibrate the default detector's counts on freshly simulated scenes and "
        "store the result in the card next to the weights (precision by score, "
        "recall by resolution). Runs the fp32 network, also when the card names "
        "INT8 weights (both use the card).",
    ),
    Entry(
        "demo",
        "demo",
        "Run the whole job offline on a simulated site: render imagery (cached "
        "after the first run), create the site and its events, ingest, detect, "
        "count, analyse and write the report; then print a summary.",
        group=False,
        panel="Pipeline",
    ),
    Entry(
        "detect",
        "detect",
        "Detect railcars in IMAGE... and write one GeoJSON FeatureCollection per "
        "image (an oriented polygon per car, with class, score and covered flag); "
        "print the count per class and the total with its 90 % interval (the "
        "detector's calibrated one; not widened for cloud or haze, which "
        "`railwatch process` judges). At 1.5 m per pixel and coarser, cars are "
        "not separable: the occupied track length is reported as car equivalents "
        "instead.",
    ),
    Entry(
        "eval",
        "eval",
        "Score detections against truth: oriented-polygon IoU matching, "
        "precision, recall and F1 at IoU 0.3 and 0.5, count errors per scene, "
        "class and resolution, covered accuracy, and the share of matched cars "
        'given a type ("typed") with how often that type is right. 10 m scenes '
        "(presence: whether a long train, 300 m of occupied track, is there) are "
        "scored on that flag against the truth's total box length, never as a "
        "count.",
    ),
    Entry(
        "export",
        "export",
        "Export a site's layers: sites, scenes (footprints), detections (car "
        "polygons with every property and the scene date), occupied_track (lines: "
        "the stretches of track a 1.5-10 m image's length count read as occupied, "
        "with length_m and car_equivalents) and counts (one row per image).",
    ),
    Entry(
        "export-labels",
        "export",
        "Cut the usable scenes of a site (or one scene) into PNG chips over the "
        "site and write their cars as training labels (COCO, DOTA or YOLO-OBB): a "
        "scene an analyst reviewed with outlines (railwatch scene review ID "
        "--cars) is labelled with the analyst's outlines (verified), every other "
        "with its detections (the detector's, to be corrected in a labelling tool "
        "and brought back with import-labels). Each chip is georeferenced as its "
        "scene: NAME.pgw (world file) and NAME.png.aux.xml (CRS) beside it, so "
        "QGIS opens it over the site. railwatch_export.json in the output lists "
        "each scene's chips, CRS and chip transforms, and where its labels come "
        "from.",
    ),
    Entry(
        "import-labels",
        "export",
        "Check a label dataset (COCO, DOTA or YOLO-OBB) and write it as a "
        "railwatch training set: images/NAME.png, labels/NAME.txt with "
        "dataset.yaml (Ultralytics OBB layout, railwatch class ids) and "
        "railwatch_labels.json (every object's pixel corners, class and covered "
        "flag, each image's ground sample distance and whether its labels are "
        "verified, plus the source and site), which railwatch train --labels "
        "reads. Nothing is written when any label is wrong: every problem is "
        "listed as file:line.",
    ),
    Entry(
        "ingest",
        "ingest",
        "Register image files of a site: each distinct file (by content hash) is one scene.",
    ),
    Entry(
        "ingest-stac",
        "ingest_stac",
        "Register the STAC items that intersect a site, with their metadata; the "
        "images stay where they are and are read over HTTP range requests (COG) "
        "when processed.",
        group=False,
        panel="Pipeline",
    ),
    Entry(
        "process",
        "process",
        "Process the scenes of one or more sites: only scenes not yet processed "
        "with the current detector version run (``--reprocess`` forces); each "
        "scene is recorded in its own transaction. Unusable scenes are stored "
        "with their reasons, never as zero.",
        group=False,
        panel="Pipeline",
    ),
    Entry(
        "quantize",
        "quantize",
        "Quantise the default detector to INT8 (ONNX Runtime static quantisation, "
        "calibrated on rendered tiles with a fixed seed) and write NAME.int8.onnx "
        "next to NAME.onnx; the card records how, and the detector then runs it "
        "by default (`--detector default-fp32` runs the original).",
    ),
    Entry(
        "report",
        "report",
        "Write one self-contained HTML report of a site: headline, count chart, "
        "alert evidence (chips before/after), per-image table, caveats and "
        "method.",
    ),
    Entry(
        "scale",
        "scale",
        "Measure metres per pixel of IMAGE from the spacing of its rails "
        "(rail-head centres are 1.505 m apart on standard-gauge track). Prints "
        "the estimate with its interval, or (on stderr) why it could not measure "
        "(no visible straight track, or rails closer than 4 px: coarser than "
        "about 0.38 m per pixel, 0.40 m with --gauge 1520); exits with status 1 "
        "then. Use the result as [bold]railwatch detect IMAGE --gsd M[/] for "
        "images without georeferencing.",
    ),
    Entry(
        "serve",
        "serve",
        "Serve the REST API (/api; OpenAPI at /openapi.json, readable at /docs) "
        "and the dashboard (/).",
    ),
    Entry(
        "simulate",
        "simulate",
        "Render simulated overhead imagery of rail yards with exact ground truth.",
    ),
    Entry(
        "train",
        "train",
        "Train the default railcar detector on synthetic yards (and your own "
        "labelled images with --labels) and export it to ONNX.",
    ),
    Entry(
        "alert",
        "alerts",
        "Stored alerts: list them, acknowledge them.",
        group=True,
    ),
    Entry(
        "event",
        "event",
        "Dated events at a site; alerts name the latest one before them.",
        group=True,
    ),
    Entry(
        "scene",
        "scene",
        "Scenes: the images recorded for a site, their quality and processing state.",
        group=True,
    ),
    Entry(
        "site",
        "site",
        "Sites: named areas of interest (a rail yard polygon in WGS84).",
        group=True,
    ),
)


def help_on_demand(command: Any) -> None:
    """Have ``command`` (and, a group, each of its commands) lay its help out as the root
    group does (:func:`railwatch.cli.main._option_names_never_cut` first): that imports
    ``typer.rich_utils`` (with rich's markdown and traceback, about 0.1 s of CPU), which
    running a command does not need (before session 39 every command imported it)."""
    if "format_help" in vars(command):
        return  # done already
    layout = command.format_help

    def format_help(ctx: Any, formatter: Any) -> None:
        from railwatch.cli.main import _option_names_never_cut

        _option_names_never_cut()
        layout(ctx, formatter)

    command.format_help = format_help
    for sub in (getattr(command, "commands", None) or {}).values():
        help_on_demand(sub)


class LazyCommands(MutableMapping[str, Any]):
    """The commands of the root group, by name: those of :data:`COMMANDS`, each loaded
    (its module imported and registered) when it is first looked up, and those given
    (registered on the app itself)."""

    def __init__(self, loaded: Mapping[str, Any]) -> None:
        self._modules = {entry.name: entry.module for entry in COMMANDS}
        self._loaded: dict[str, Any] = dict(loaded)

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            module = self._modules[name]  # KeyError: no such command
            from railwatch.cli import main

            group = main.typer_group(main.command_app(module))
            for loaded_name, command in group.commands.items():
                help_on_demand(command)
                self._loaded.setdefault(loaded_name, command)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        # Mapping's would load the command (import its module) to answer
        return name in self._modules or name in self._loaded

    def get(self, name: str, default: Any = None) -> Any:
        """The command ``name`` (loaded), or ``default`` when there is none. An error
        importing its module goes on to the caller, a ``KeyError`` too: Mapping's ``get``
        took one (a module-level ``os.environ[...]``, a lookup in a package's tables)
        for "no such command", and ``railwatch site list`` said "No such command 'site'.
        Did you mean 'site'?" with status 2 and no traceback under --debug (r4, session
        38)."""
        if name not in self:
            return default
        if name not in self._loaded:
            self[name]  # loads the module, raising what its import raises
        return self._loaded.get(name, default)

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from (name for name in self._loaded if name not in self._modules)

    def __len__(self) -> int:
        return len(self._modules.keys() | self._loaded.keys())

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._modules and name not in self._loaded:
            raise KeyError(name)
        self._modules.pop(name, None)
        self._loaded.pop(name, None)


class LazyGroup(TyperGroup):
    """The root group of ``railwatch``: its commands are :class:`LazyCommands`, and the
    list of commands of its ``--help`` and of shell completion is made from
    :data:`COMMANDS` without importing any command's module."""

    def __init__(self, *, commands: Any = None, **attrs: Any) -> None:
        super().__init__(commands=commands, **attrs)
        self.commands = LazyCommands(self.commands)
        self._summaries = {entry.name: entry for entry in COMMANDS}
        self._summarising = False

    @contextmanager
    def _listing(self) -> Iterator[None]:
        """While the commands are only listed (their names, summaries, panels)."""
        summarising, self._summarising = self._summarising, True
        try:
            yield
        finally:
            self._summarising = summarising

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        commands = self.commands
        entry = self._summaries.get(cmd_name)
        if (
            self._summarising
            and entry is not None
            and not (isinstance(commands, LazyCommands) and commands.is_loaded(cmd_name))
        ):
            return self._stand_in(entry)
        return commands.get(cmd_name)

    def _stand_in(self, entry: Entry) -> TyperCommand:
        """What the list of commands reads of a command not loaded: its name, summary
        (as a command's short help or a group's help, so that completion shortens it
        as it would the command's own) and panel."""
        return TyperCommand(
            entry.name,
            help=entry.summary if entry.group else None,
            short_help=None if entry.group else entry.summary,
            rich_markup_mode=self.rich_markup_mode,
            rich_help_panel=entry.panel,
        )

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from railwatch.cli.main import _option_names_never_cut

        _option_names_never_cut()
        with self._listing():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        with self._listing():
            return super().shell_complete(ctx, incomplete)
