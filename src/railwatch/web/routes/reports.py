"""Reports: generate a site's HTML (and optional PDF) report, list and download them.

Reports are written under the server's report folder, in a directory named by a
random id the server chose; downloads are looked up by that id only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import uuid
from email.utils import parsedate_to_datetime
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.staticfiles import NotModifiedResponse

from railwatch.errors import InputError, NotFoundError
from railwatch.storage import repo
from railwatch.web import schemas
from railwatch.web.apidocs import conditional_responses
from railwatch.web.bodies import JsonBool, JsonDate
from railwatch.web.deps import DB, Paging, read_session
from railwatch.web.errors import api_words
from railwatch.web.pagination import paginate, window
from railwatch.web.params import LookupName
from railwatch.web.routes.sites import SiteName
from railwatch.web.routes.tiles import etag_matches
from railwatch.web.schemas import Page
from railwatch.web.security import require_read, require_write

router = APIRouter(tags=["reports"])

#: What a report file's ETag stays the same while (docs of its 304)
REPORT_UNCHANGED = "the report's file is the same (a report is written once, under its own id)"

ReportId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Report id.")]
#: A report id (a folder's name under the report folder).
REPORT_ID = re.compile(r"[0-9a-f]{32}")
META = "report.json"
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


class ReportIn(BaseModel):
    """What to report on: the period's first and last days (``since``, ``until``) and
    whether to write a PDF too."""

    model_config = ConfigDict(extra="forbid")

    # local days at the site, as `railwatch report --since/--until` (report.model.site_day;
    # since 91c015a, session 31: they were UTC days)
    since: JsonDate | None = Field(
        default=None,
        description="First day of the report, a local day at the site (an image at "
        "22:30 UTC on 2024-02-04 at 175° E is of 2024-02-05); none: from the first image. "
        "As `railwatch report --since` and `since` of the other endpoints; `date_from` "
        "is its older name.",
    )
    until: JsonDate | None = Field(
        default=None,
        description="Last day of the report (included), a local day at the site; none: "
        "to the last image. As `railwatch report --until`; `date_to` is its older name.",
    )
    # their names until 2026-12-07 (session 46), still taken: both names with two dates
    # are refused (as `railwatch report --since D --from E`)
    date_from: JsonDate | None = Field(
        default=None,
        description="The older name of `since` (the first day, a local day at the site), "
        "still accepted; give `since`.",
        json_schema_extra={"deprecated": True},
    )
    date_to: JsonDate | None = Field(
        default=None,
        description="The older name of `until` (the last day, a local day at the site), "
        "still accepted; give `until`.",
        json_schema_extra={"deprecated": True},
    )
    pdf: JsonBool = False

    @model_validator(mode="after")
    def _one_name_each(self) -> ReportIn:
        for new, old in (("since", "date_from"), ("until", "date_to")):
            given, older = getattr(self, new), getattr(self, old)
            if given is not None and older is not None and given != older:
                raise ValueError(
                    f"{new} {given} and {old} {older} are the same member ({old} is its "
                    f"older name) with two dates: give one of them, {new} preferably"
                )
        return self

    @property
    def first_day(self) -> dt.date | None:
        """The period's first day, by either name."""
        return self.since if self.since is not None else self.date_from

    @property
    def last_day(self) -> dt.date | None:
        """The period's last day, by either name."""
        return self.until if self.until is not None else self.date_to


#: The member of a report's metadata file that names the database it was made from
#: (:func:`_database_mark`): kept in the file, never in an answer.
DATABASE = "database"


def _database_mark(db: Any) -> str:
    """The mark of the database ``db`` in its reports' metadata: the first 16 hex digits
    of the SHA-256 of what names the database itself. Of a SQLite file, its absolute
    path (links resolved: ``storage.db.sqlite_path``), so that ``sqlite:///railwatch.db``
    run from two folders are two databases, and one file by relative and by absolute path
    one; of another database, its URL normalised (no password, the backend without its
    driver, the host in lower case, the query's parameters sorted). The report folder is
    the cache's (``RAILWATCH_CACHE_DIR/reports``), which servers of other databases share:
    until 2026-12-07 (session 50) a site's list gave the reports of every database with a
    site of that name (the demo's "tumangang" listed those of other demo databases); the
    first mark that day hashed the URL's text (:func:`_legacy_mark`), which took the
    relative name of two folders' files for one database (review, session 50)."""
    import hashlib

    from sqlalchemy.engine import make_url

    from railwatch.storage.db import is_memory_url, sqlite_path

    url = str(db.url)
    path = sqlite_path(url)
    if path is not None:
        named = f"sqlite-file:{path}"
    elif is_memory_url(url):
        # lives as long as its engine: no other server's
        named = f"sqlite-memory:{id(db.engine)}"
    else:
        try:
            parsed = make_url(url)
            named = repr(
                (
                    parsed.get_backend_name(),
                    parsed.username,
                    (parsed.host or "").lower(),
                    parsed.port,
                    parsed.database,
                    sorted((k, str(v)) for k, v in parsed.query.items()),
                )
            )
        except (ValueError, TypeError):  # opened, so a URL: the safe text at worst
            named = str(db.safe_url)
    return hashlib.sha256(named.encode()).hexdigest()[:16]


def _legacy_mark(db: Any) -> str | None:
    """The mark the reports made between 720dac16 and its review (2026-12-07, session 50,
    19:54 to 20:21 UTC) carry: the hash of the database's URL text, password hidden;
    None where that text does not name one database, so that such a report cannot be
    told from another database's: a SQLite file named by a relative path (or ``~``), whose
    folder the text does not say (``sqlite:///railwatch.db`` served from two folders is
    two databases with one such mark), and SQLite in memory. Where it does (a SQLite file
    by its absolute path; another database's URL, whose :func:`_database_mark` is of the
    same text, normalised), a report with it is this database's, and :func:`list_reports`
    writes :func:`_database_mark` in its place (:func:`_claim`), once. Until session 51
    every report with it was listed as this database's, also those of the same relative
    URL served from another folder."""
    import hashlib
    from pathlib import PurePath

    from sqlalchemy.engine import make_url

    from railwatch.storage.db import is_memory_url, sqlite_path

    url = str(db.url)
    if is_memory_url(url):
        return None
    if sqlite_path(url) is not None:
        try:
            named = str(make_url(url).database or "")
        except (ValueError, TypeError):  # pragma: no cover - opened, so a URL
            return None
        if not PurePath(named).is_absolute():
            return None
    return hashlib.sha256(str(db.safe_url).encode()).hexdigest()[:16]


def _claim(folder: FsPath, mark: str) -> None:
    """Write this database's mark ``mark`` into the metadata file of the report in
    ``folder``, in place of the first mark (:func:`_legacy_mark`), the file otherwise as
    it was (its permissions too); replaced whole (a file beside it, then renamed), so
    that a reader never sees half of it. A folder it cannot write to keeps the first
    mark (still recognised)."""
    import os
    import stat
    import tempfile

    path = folder / META
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            return
        data[DATABASE] = mark
        mode = stat.S_IMODE(path.stat().st_mode)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".report-", suffix=".json")
        try:
            # mkstemp makes the file 0600: the report folder may be shared by servers
            # of other users, who read report.json with the permissions it had
            # (session 51 review: a listed report left the other users' lists)
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(data))
            os.replace(tmp, path)
        except BaseException:
            FsPath(tmp).unlink(missing_ok=True)
            raise
    except (OSError, ValueError):
        return


def _public(meta: dict[str, Any], report_id: str) -> dict[str, Any]:
    """A report's metadata as answered: without its database's mark, and with its id and
    download links made here from the id of its folder, never those its file holds (the
    report folder is shared: a ``report.json`` whose ``links`` held
    ``javascript:...`` was the href of the dashboard's download, script run in its
    origin at a click; review, 2026-12-07, session 50). A format is listed where it is
    one the API serves."""
    out = {k: v for k, v in meta.items() if k != DATABASE}
    formats = [f for f in (meta.get("formats") or []) if f in MEDIA]
    out["id"] = report_id
    out["formats"] = formats
    out["links"] = {f: f"/api/reports/{report_id}/{f}" for f in formats}
    return out


def _root(request: Request) -> FsPath:
    root = request.app.state.report_dir
    if not isinstance(root, FsPath):  # pragma: no cover - set by create_app
        raise RuntimeError("app.state.report_dir is not a Path")
    return root


def _meta(folder: FsPath) -> dict[str, Any]:
    try:
        data = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise NotFoundError(f"no report with id {folder.name}: list them at /api/reports") from err
    if not isinstance(data, dict):
        raise NotFoundError(f"no report with id {folder.name}: list them at /api/reports")
    try:
        # what the answers' schema takes (an edited file, another tool's): one it refuses
        # made the answer, and the whole list with it, a 500 "internal error"
        # (2026-12-06, session 35 review); it is left out of the list, as an unreadable one
        schemas.Report.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise NotFoundError(
            f"report {folder.name} cannot be read: its {META} is not a report's metadata "
            f"({where}: {first['msg']}); generate the report again, and remove the folder "
            f"{folder.name} from the server's report folder (reports listed: /api/reports)"
        ) from err
    # a report written before session 46 has the period's days by their older names only
    for new, old in (("since", "date_from"), ("until", "date_to")):
        if new not in data and old in data:
            data[new] = data[old]
    return data


@router.post(
    "/sites/{site}/reports",
    status_code=201,
    dependencies=[Depends(require_write)],
    summary="Generate a report",
    response_model=schemas.Report,
    response_model_exclude_unset=True,
)
def create_report(
    site: SiteName, request: Request, response: Response, db: DB, body: ReportIn | None = None
) -> dict[str, Any]:
    """Build the site's report now (HTML, and PDF when asked); returns download links
    and ``warnings``, the lines ``railwatch report`` prints as warnings (no usable image
    in the period, points left off the chart, stored alerts that analysing the stored
    results now would change: run the analysis first, the report stores nothing; empty
    when none).
    ``since`` and ``until`` are local days at the site, as every day the report shows
    (session 31); ``date_from`` and ``date_to``, their names before session 46, are
    still taken (both names of one day with two dates are a 422).
    The body may be left out (the whole history, HTML only): it was a 422 "body: Field
    required" before session 29.
    The report is built during the request: tens of seconds for a site of a few hundred
    images (34-36 s for the demo's 223, HTML only, on a 2-core machine), so give the
    client a timeout of minutes; one that gives up before the answer leaves the report
    written and listed at ``GET /api/reports`` (sending it again writes a second one)."""
    from railwatch.report.builder import build_report

    body = body if body is not None else ReportIn()
    first, last = body.first_day, body.last_day
    if first is not None and last is not None and first > last:
        # said with the names given, as `railwatch report` says them
        start = "date_from" if body.since is None else "since"
        end = "date_to" if body.until is None else "until"
        raise InputError(
            f"{start} {first} is after {end} {last}: swap them (the period runs from "
            f"{start} to {end}, both included)"
        )
    with read_session(db) as s:
        name = repo.get_site(s, site).name
    report_id = uuid.uuid4().hex
    folder = _root(request) / report_id
    folder.mkdir(parents=True, exist_ok=False)
    # what `railwatch report` prints as warnings (a period without a usable image, points
    # off the chart): the answer's `warnings` (the API said nothing of them before
    # 2026-12-05, session 33: a report of an empty period was a plain 201)
    warnings: list[str] = []
    try:
        html = build_report(
            db,
            name,
            folder / "report.html",
            pdf=body.pdf,
            date_from=first,
            date_to=last,
            warn=warnings.append,
            # the app's own settings: without it the report read the environment's
            # again (another threshold than the app's; a bad RAILWATCH_* variable was
            # an internal error)
            usable_threshold=request.app.state.settings.usable_threshold,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no half-written report stays listed
        raise
    formats = ["html"] + (["pdf"] if html.with_suffix(".pdf").is_file() else [])
    meta = {
        "id": report_id,
        "site": name,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "since": first.isoformat() if first else None,
        "until": last.isoformat() if last else None,
        # their names until session 46, kept for the clients that read them
        "date_from": first.isoformat() if first else None,
        "date_to": last.isoformat() if last else None,
        "formats": formats,
        "links": {f: f"/api/reports/{report_id}/{f}" for f in formats},
        # in the API's words: the requests, not the CLI's commands and options (2026-12-07,
        # session 49: "check --since/--until", "Run `railwatch analyze SITE`")
        "warnings": [api_words(w) for w in warnings],
    }
    (folder / META).write_text(json.dumps({**meta, DATABASE: _database_mark(db)}), encoding="utf-8")
    response.headers["Location"] = f"/api/reports/{report_id}"
    return meta


@router.get(
    "/reports",
    dependencies=[Depends(require_read)],
    summary="List reports",
    response_model=Page[schemas.Report],
    response_model_exclude_unset=True,
)
def list_reports(
    request: Request,
    response: Response,
    page: Paging,
    db: DB,
    site: Annotated[
        str | None,
        Query(max_length=64, description="Only this site (404 if unknown)."),
        LookupName,
    ] = None,
) -> dict[str, Any]:
    """Generated reports, newest first: those of this server's database (and those
    written before 2026-12-07, session 50, which do not say which database they are of;
    the report folder is shared by the servers of one cache folder). A report with the
    first mark of session 50 is listed where that mark names this database alone, and
    marked anew (:func:`_legacy_mark`)."""
    if site is not None:  # an unknown site is a 404, as for /api/alerts?site=
        with read_session(db) as s:
            site = repo.get_site(s, site).name
    root = _root(request)
    mark = _database_mark(db)
    legacy = _legacy_mark(db)
    metas = []
    if root.is_dir():
        for folder in root.iterdir():
            # a folder named otherwise is no report of this API's (none of its links
            # would answer: the routes take a report id alone)
            if REPORT_ID.fullmatch(folder.name) and folder.is_dir() and (folder / META).is_file():
                try:
                    meta = _meta(folder)
                except NotFoundError:
                    continue
                found = meta.get(DATABASE, mark)
                if legacy is not None and found == legacy:
                    _claim(folder, mark)  # the first mark of session 50: this database's
                elif found != mark:
                    continue  # another database's, or one that cannot be told from it
                if site is None or meta.get("site") == site:
                    metas.append(_public(meta, folder.name))
    metas.sort(key=lambda m: str(m.get("created_at", "")), reverse=True)
    return paginate(request, response, window(metas, page), len(metas), page).envelope()


@router.get(
    "/reports/{report_id}",
    dependencies=[Depends(require_read)],
    summary="Get a report",
    response_model=schemas.Report,
    response_model_exclude_unset=True,
)
def get_report(report_id: ReportId, request: Request) -> dict[str, Any]:
    """A report's metadata and download links."""
    return _public(_meta(_root(request) / report_id), report_id)


@router.get(
    "/reports/{report_id}/html",
    dependencies=[Depends(require_read)],
    summary="Download a report's HTML",
    response_class=FileResponse,
    responses=conditional_responses("text/html", REPORT_UNCHANGED),
)
def download_report_html(report_id: ReportId, request: Request) -> Response:
    """The report's HTML file, with its ``ETag``: ``If-None-Match`` with it is a
    bodiless ``304`` (a report is written once, under its own id)."""
    return download_report(report_id, "html", request)


@router.get(
    "/reports/{report_id}/pdf",
    dependencies=[Depends(require_read)],
    summary="Download a report's PDF",
    response_class=FileResponse,
    responses=conditional_responses("application/pdf", REPORT_UNCHANGED),
)
def download_report_pdf(report_id: ReportId, request: Request) -> Response:
    """The report's PDF file (a report generated with ``{"pdf": true}``), with its ``ETag``
    as the HTML's."""
    return download_report(report_id, "pdf", request)


# One route a format: another sub-path of a report (``/api/reports/ID/xml``) is the
# API's 404 "nothing at ...", as an unknown sub-path of a site, scene or alert is
# (2026-12-06, session 38: one route ``/reports/{id}/{fmt}`` made it a 422 of the path
# parameter ``fmt``).
def download_report(report_id: str, fmt: Literal["html", "pdf"], request: Request) -> Response:
    """The report file (HTML or PDF), with its ``ETag``: ``If-None-Match`` with it is a
    bodiless ``304`` (a report is written once, under its own id)."""
    folder = _root(request) / report_id
    meta = _meta(folder)
    path = folder / f"report.{fmt}"
    if fmt not in meta.get("formats", ()) or not path.is_file():
        raise NotFoundError(
            f"report {report_id} has no {fmt.upper()}: generate a report with one, POST "
            f'/api/sites/{meta.get("site", "SITE")}/reports with {{"pdf": true}}'
        )
    answer = FileResponse(
        path,
        media_type=MEDIA[fmt],
        filename=download_name(meta, fmt),
        stat_result=path.stat(),  # its ETag now, to answer If-None-Match
    )
    # the ETag was sent and never honoured: a 200 with the whole file (4 MB for the demo's
    # report) to every conditional request, before 2026-12-05 (session 34)
    if _not_modified(request, answer):
        return NotModifiedResponse(answer.headers)
    return answer


def download_name(meta: dict[str, Any], fmt: str) -> str:
    """The file name a report downloads as: its site, period and the first 8 digits of
    its id (``tumangang-report-2023-09-01-to-2023-12-31-a0945120.html``; ``start`` and
    ``end`` where the period is open). Every report of a site downloaded as
    ``SITE-report.html`` before 2026-12-06 (session 38): the files of two periods could
    not be told apart, and the browser numbered the second ``(1)``."""
    start = meta.get("since") or meta.get("date_from") or "start"
    end = meta.get("until") or meta.get("date_to") or "end"
    return (
        f"{meta.get('site', 'report')}-report-{start}-to-{end}-{str(meta.get('id', ''))[:8]}.{fmt}"
    )


def _not_modified(request: Request, answer: Response) -> bool:
    """Whether a ``GET`` may be answered ``304`` instead of ``answer`` (RFC 9110 13.1.2
    and 13.1.3): ``If-None-Match`` holds ``*`` or ``answer``'s ``ETag`` by the weak
    comparison, as a tile's (``W/"x"`` matches ``"x"``: a proxy that compresses the
    file, nginx's gzip, makes the tag weak and the browser sends it back so); without
    ``If-None-Match``, ``If-Modified-Since`` is not before ``answer``'s
    ``Last-Modified``. Until the review of 2026-12-05 (session 34) d8aa1e1 compared the
    tags as strings, so a weak one got the whole file, and read no date."""
    asked = request.headers.get("if-none-match")
    if asked is not None:
        etag = answer.headers.get("etag")  # always there: FileResponse got the file's stat
        return etag is not None and etag_matches(asked, etag)
    since, modified = request.headers.get("if-modified-since"), answer.headers.get("last-modified")
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(modified)
    except (TypeError, ValueError):  # a date that is no HTTP date: the whole file
        return False
