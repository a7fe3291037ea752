"""Command line: ``python -m bot [run | units import FILE | units links | db upgrade]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from telegram import Bot, Update

from bot.app import build_application
from bot.links import deep_link, write_qr
from bot.settings import (
    DEFAULT_DATABASE_URL,
    UNION_TIMEZONE,
    Settings,
    SettingsError,
    read_env_file,
)
from domain.unit_import import UnitImportError
from domain.units import grassroots_units, import_units
from locales import Translator
from storage.db import create_engine, current_revision, head_revision, upgrade
from storage.uow import SqlUnitOfWorkFactory


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or read_env_file(Path(".env")).get(name) or default


def _database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or _env("DATABASE_URL", DEFAULT_DATABASE_URL))


def run(_args: argparse.Namespace) -> int:
    """Run the bot with long polling."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.info("starting with %r", settings)
    application = build_application(settings)
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


@contextlib.asynccontextmanager
async def _database(url: str) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """A migrated database for one command, closed afterwards."""
    engine = create_engine(url)
    factory = SqlUnitOfWorkFactory(engine)
    try:
        await upgrade(engine)
        yield factory
    finally:
        factory.dispose()
        await engine.dispose()


def units_import(args: argparse.Namespace) -> int:
    """Import the unit tree from a CSV file, all or nothing."""

    async def main() -> int:
        translator = Translator(UNION_TIMEZONE)
        data = Path(args.file).read_bytes()
        try:
            async with _database(_database_url(args)) as factory:
                report = await import_units(factory, data, dt.datetime.now(dt.UTC))
        except UnitImportError as error:
            print(translator.render(error.text, args.lang), file=sys.stderr)
            for problem in error.problems:
                print(f"  {translator.render(problem.text, args.lang)}", file=sys.stderr)
            return 1
        print(f"{report.total} units: {report.added} new, {report.updated} updated.")
        return 0

    return asyncio.run(main())


def units_links(args: argparse.Namespace) -> int:
    """Print every grassroots unit's deep link; optionally write QR codes for posters."""

    async def main() -> int:
        username = args.bot_username or _env("BOT_USERNAME", "")
        if not username:
            settings = Settings.from_env()
            bot = Bot(settings.telegram_bot_token,
                      base_url=f"{settings.telegram_api_base_url}/bot")  # fmt: skip
            async with bot:
                username = bot.username
        async with _database(_database_url(args)) as factory:
            grassroots = await grassroots_units(factory)
        for unit in grassroots:
            link = deep_link(username, unit.code)
            line = f"{unit.code}\t{unit.name}\t{link}"
            if args.qr:
                line += f"\t{write_qr(Path(args.qr), unit.code, link)}"
            print(line)
        return 0

    try:
        return asyncio.run(main())
    except SettingsError as error:
        print(f"Give --bot-username or set TELEGRAM_BOT_TOKEN: {error}", file=sys.stderr)
        return 2


def db_command(args: argparse.Namespace) -> int:
    """Apply migrations or show the schema version."""

    async def main() -> int:
        engine = create_engine(_database_url(args))
        try:
            if args.action == "upgrade":
                await upgrade(engine)
            print(f"database at {await current_revision(engine)}, code at {head_revision()}")
        finally:
            await engine.dispose()
        return 0

    return asyncio.run(main())


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    root = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    root.add_argument("--database-url", help=f"default: $DATABASE_URL or {DEFAULT_DATABASE_URL}")
    commands = root.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (long polling)").set_defaults(func=run)
    units = commands.add_parser("units", help="manage the unit tree").add_subparsers(
        dest="units_command", required=True
    )
    importing = units.add_parser(
        "import", help="import units from CSV: code,name,parent_code,level"
    )
    importing.add_argument("file")
    importing.add_argument("--lang", choices=("vi", "en"), default="vi")
    importing.set_defaults(func=units_import)
    links = units.add_parser("links", help="print deep links of grassroots units")
    links.add_argument("--qr", metavar="DIR", help="also write a QR code PNG per unit here")
    links.add_argument("--bot-username", help="default: $BOT_USERNAME, else asked from Telegram")
    links.set_defaults(func=units_links)
    database = commands.add_parser("db", help="database schema")
    database.add_argument("action", choices=("upgrade", "current"))
    database.set_defaults(func=db_command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.INFO)  # fmt: skip
    args = parser().parse_args(argv)
    if args.command is None:
        return run(args)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
