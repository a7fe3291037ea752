"""The staff web view: server-rendered pages for union admins, served under /web by the
bot's own HTTP server, on the same use cases as the chat.

One module per page (``queue``, ``progress`` and its ``exports``; initiatives and
announcements slot in beside them); ``auth`` decides who gets in. ``web_view`` builds
the sub-application.
"""

from __future__ import annotations

from aiohttp import web

from handlers.web import announcements, auth, exports, files, initiatives, progress, queue
from handlers.web.context import PREFIX, Web, WebConfig
from handlers.web.pages import STATIC, Pages

__all__ = ["PREFIX", "WebConfig", "web_view"]


def web_view(config: WebConfig) -> web.Application:
    """The web view as an aiohttp application, to mount at ``PREFIX``."""
    view = Web(config, Pages(config.renderer, PREFIX))
    app = web.Application(middlewares=[auth.guard(view)])
    app.router.add_routes(auth.routes(view))
    app.router.add_routes(queue.QueuePages(view).routes())
    app.router.add_routes(initiatives.InitiativePages(view).routes())
    app.router.add_routes(files.FilePages(view).routes())
    app.router.add_routes(announcements.AnnouncementPages(view).routes())
    app.router.add_routes(progress.ProgressPages(view).routes())
    app.router.add_routes(exports.ExportPages(view).routes())
    app.router.add_static("/static", STATIC, name="static")
    return app
