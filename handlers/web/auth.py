"""Who gets in: the guard every page passes, the one-time login link, the Mini App's
launch, and signing out.

A login link is opened with GET (a chat app's link preview fetches it too) and used with
the button's POST, so a preview never spends it. Every other POST carries the session's
CSRF token, compared in constant time; a request without it changes nothing.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from domain.errors import NotAllowed, NotFound
from domain.web_access import sign_in_by_link, sign_in_on_telegram, sign_out, staff_of
from handlers.web.context import COOKIE, PREFIX, STAFF, Web, staff
from handlers.web.initdata import InitDataRefused, check_init_data
from handlers.web.words import WORDS

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Routes anyone may reach: signing in, and the stylesheet.
PUBLIC = frozenset({"login", "login_post", "app", "app_session", "static"})
# A login token is 43 characters (32 random bytes); anything much longer is not one.
MAX_TOKEN = 100


def guard(view: Web) -> Middleware:
    """The middleware: a page needs a live session of a current admin, and a POST its
    CSRF token; what a use case refuses or cannot find becomes a 403 or 404 page."""
    config, pages = view.config, view.pages

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.route.name in PUBLIC:
            return await handler(request)
        session_id = request.cookies.get(COOKIE, "")
        language = config.default_language
        async with config.units_of_work() as uow:
            try:
                found = await staff_of(uow, session_id, config.clock()) if session_id else None
            except NotAllowed as refusal:
                # The role was taken back: the session ends here and now.
                await uow.commit()
                response = pages.message(403, language, refusal.text)
                view.clear_session(response)
                return response
        if found is None:
            return pages.message(401, language, WORDS["need_sign_in"])
        if request.method == "POST":
            form = await request.post()
            given = form.get("csrf")
            expected = found.session.csrf
            if not isinstance(given, str) or not hmac.compare_digest(
                given.encode(), expected.encode()
            ):
                log.warning("web: a POST without its CSRF token was refused")
                return pages.message(403, found.member.language, WORDS["forbidden"])
        request[STAFF] = found
        try:
            return await handler(request)
        except NotFound as missing:
            return pages.message(404, found.member.language, missing.text)
        except NotAllowed as refusal:
            # What the use case refused this admin (a unit outside their scope…).
            return pages.message(403, found.member.language, refusal.text)

    return check


def routes(view: Web) -> web.RouteTableDef:
    """Signing in by link or from Telegram, and signing out."""
    config, pages = view.config, view.pages
    table = web.RouteTableDef()

    @table.get("/login/{token}", name="login")
    async def login_page(request: web.Request) -> web.StreamResponse:
        return pages.page("login.html", config.default_language)

    @table.post("/login/{token}", name="login_post")
    async def login(request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if len(token) > MAX_TOKEN:
            return pages.message(403, config.default_language, WORDS["forbidden"])
        async with config.units_of_work() as uow:
            try:
                opened = await sign_in_by_link(uow, token, config.clock(),
                                               config.session_lifetime)  # fmt: skip
            except NotAllowed as refusal:
                return pages.message(403, config.default_language, refusal.text)
            await uow.commit()
        response = web.Response(status=303, headers={"Location": f"{PREFIX}/queue"})
        view.set_session(response, opened.session_id)
        return response

    @table.get("/app", name="app")
    async def app_page(request: web.Request) -> web.StreamResponse:
        return pages.page("app.html", config.default_language)

    @table.post("/app/session", name="app_session")
    async def app_session(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        raw = form.get("init_data")
        now = config.clock()
        try:
            launch = check_init_data(raw if isinstance(raw, str) else "", config.telegram_token,
                                     now, config.init_data_max_age)  # fmt: skip
        except InitDataRefused as refused:
            log.warning("web: Mini App launch data refused: %s", refused)
            return web.Response(status=401, text=str(refused))
        async with config.units_of_work() as uow:
            try:
                opened = await sign_in_on_telegram(uow, config.telegram_channel, launch.user_id,
                                                   now, config.session_lifetime)  # fmt: skip
            except NotAllowed as refusal:
                return web.Response(
                    status=403, text=pages.text(refusal.text, config.default_language)
                )
            await uow.commit()
        response = web.json_response({"next": f"{PREFIX}/queue"})
        view.set_session(response, opened.session_id, embedded=True)
        return response

    @table.post("/logout", name="logout")
    async def logout(request: web.Request) -> web.StreamResponse:
        signed_in = staff(request)
        async with config.units_of_work() as uow:
            await sign_out(uow, request.cookies.get(COOKIE, ""))
            await uow.commit()
        response = pages.message(200, signed_in.member.language, WORDS["signed_out"])
        view.clear_session(response)
        return response

    return table
