"""Server-rendered pages: one Jinja2 environment (autoescape on), the member's language
through the bot's translator, and the headers every page is sent with."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.ports import Renderer
from domain.text import Text
from handlers.web.words import WORDS

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
# Telegram Web shows a Mini App in a frame; nothing else may frame the pages. Scripts
# only from here and Telegram's Mini App script; no inline script anywhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'self' https://web.telegram.org"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class Pages:
    """Renders a template in a language, with the page's words translated."""

    def __init__(self, renderer: Renderer, prefix: str) -> None:
        self._renderer = renderer
        self._prefix = prefix
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def text(self, text: Text, language: str) -> str:
        """One core text in the language."""
        return self._renderer.render(text, language)

    def page(
        self,
        template: str,
        language: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> web.Response:
        """A whole page as the response."""
        words = {key: self._renderer.render(text, language) for key, text in WORDS.items()}
        html = self._env.get_template(template).render(
            words=words, language=language, prefix=self._prefix,
            say=lambda text: self._renderer.render(text, language), **context,
        )  # fmt: skip
        response = web.Response(text=html, status=status, content_type="text/html",
                                charset="utf-8")  # fmt: skip
        response.headers.update({**SECURITY_HEADERS, **(headers or {})})
        return response

    def message(self, status: int, language: str, *lines: Text | str) -> web.Response:
        """A plain page saying why (a refusal, a link used up, signed out)."""
        said = [line if isinstance(line, str) else self.text(line, language) for line in lines]
        return self.page("message.html", language, status=status, lines=said)
