"""The Excel reports from the web ("Tải Excel"): the list of initiatives and progress by
unit, for the unit and phase on screen, made by the same exporter as /export and the
command line (it re-checks the admin's scope and writes the file off the event loop)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from domain.reports import XLSX_TYPE, ReportKind
from handlers.web.context import Web, staff
from handlers.web.progress import ident
from handlers.web.words import WORDS


def attachment(file_name: str) -> str:
    """A Content-Disposition that saves the file under its name, in any browser."""
    plain = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "-"
                    for ch in file_name)  # fmt: skip
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name)}"


class ExportPages:
    """GET /export/initiatives and /export/progress, for ?unit= and ?phase=."""

    def __init__(self, view: Web) -> None:
        self._config = view.config
        self._pages = view.pages

    def routes(self) -> web.RouteTableDef:
        """The downloads' route."""
        table = web.RouteTableDef()
        table.get(r"/export/{kind:initiatives|progress}", name="export")(self.export)
        return table

    async def export(self, request: web.Request) -> web.StreamResponse:
        """The report as an .xlsx download, or a plain page saying why not."""
        config, pages = self._config, self._pages
        member = staff(request).member
        unit_id = ident(request.query, "unit")
        if config.exporter is None or unit_id is None:
            return pages.message(404, member.language, WORDS["not_found"])
        today = config.clock().astimezone(config.timezone).date()
        report = await config.exporter.make(
            ReportKind(request.match_info["kind"]), member, unit_id,
            ident(request.query, "phase"), today, member.language,
        )  # fmt: skip
        return web.Response(body=report.data, content_type=XLSX_TYPE,
                            headers={"Content-Disposition": attachment(report.file_name),
                                     "Cache-Control": "no-store",
                                     "X-Content-Type-Options": "nosniff"})  # fmt: skip
