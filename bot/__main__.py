"""Command line: ``python -m bot [run [--webhook] | units ... | db upgrade | db current |
db copy --to URL]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from bot import copy_cli, db_copy_cli, erase_cli
from bot.logs import configure
from bot.preflight import InstanceLock, StartError, check_schema
from bot.serve import build_runtime, run_until_signalled
from bot.settings import (
    DEFAULT_DATABASE_URL,
    UNION_TIMEZONE,
    Settings,
    SettingsError,
    read_env_file,
)
from bot.unit_links import link_channels, print_entries
from domain.errors import InputError
from domain.model import RoleKind
from domain.progress import add_phase, import_groups, import_targets
from domain.reports import Exporter, ReportKind
from domain.roles import grant_role, list_roles, revoke_role
from domain.unit_import import UnitImportError
from domain.units import grassroots_units, import_units
from locales import Translator
from reports.xlsx import XlsxWriter
from storage.db import create_engine, current_revision, head_revision, upgrade
from storage.uow import SqlUnitOfWorkFactory


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or read_env_file(Path(".env")).get(name) or default


def _database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or _env("DATABASE_URL", DEFAULT_DATABASE_URL))


def run(args: argparse.Namespace) -> int:
    """Run the bot on every channel whose token is set: long polling, or webhooks with
    ``--webhook``."""
    webhook = bool(getattr(args, "webhook", False))
    try:
        settings = Settings.from_env()
        if webhook:
            settings.check_webhook()
    except SettingsError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    configure(secrets=(settings.telegram_bot_token, settings.webhook_secret,
                       settings.zalo_bot_token, settings.zalo_webhook_secret))  # fmt: skip
    logging.info("starting with %r", settings)
    lock = InstanceLock(settings.database_url)
    try:
        lock.acquire()
        asyncio.run(_check_schema(settings))
        run_until_signalled(build_runtime(settings), webhook=webhook)
    except StartError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    finally:
        lock.release()
    return 0


async def _check_schema(settings: Settings) -> None:
    """Before anything talks to a platform: the schema matches the code (upgraded if
    allowed)."""
    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine, migrate=settings.migrate_on_start)
    finally:
        await engine.dispose()


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


def _import_file(
    args: argparse.Namespace,
    run: Callable[[SqlUnitOfWorkFactory, bytes], Awaitable[str]],
) -> int:
    """Run a CSV import, all or nothing; print every problem with its line, or the result."""

    async def main() -> int:
        translator = Translator(UNION_TIMEZONE)
        data = Path(args.file).read_bytes()
        try:
            async with _database(_database_url(args)) as factory:
                print(await run(factory, data))
        except UnitImportError as error:
            print(translator.render(error.text, args.lang), file=sys.stderr)
            for problem in error.problems:
                print(f"  {translator.render(problem.text, args.lang)}", file=sys.stderr)
            return 1
        return 0

    return asyncio.run(main())


def units_import(args: argparse.Namespace) -> int:
    """Import the unit tree from a CSV file, all or nothing."""

    async def run(factory: SqlUnitOfWorkFactory, data: bytes) -> str:
        report = await import_units(factory, data, dt.datetime.now(dt.UTC))
        return f"{report.total} units: {report.added} new, {report.updated} updated."

    return _import_file(args, run)


def units_links(args: argparse.Namespace) -> int:
    """Print every grassroots unit's entry on each channel the bot is on (Telegram's deep
    link, Zalo's link and the code to send there); optionally write its A4 poster."""

    async def main() -> int:
        channels = await link_channels(args.bot_username, args.zalo_link, _env)
        async with _database(_database_url(args)) as factory:
            grassroots = await grassroots_units(factory)
        print_entries(grassroots, channels, Path(args.qr) if args.qr else None, args.lang)
        return 0

    try:
        return asyncio.run(main())
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2


def admins_command(args: argparse.Namespace) -> int:
    """Give, take back or list admin roles."""

    async def main() -> int:
        now = dt.datetime.now(dt.UTC)
        translator = Translator(UNION_TIMEZONE)
        async with _database(_database_url(args)) as factory:
            if args.action == "list":
                for held in await list_roles(factory):
                    member = held.member
                    name = member.full_name or member.display_name
                    print(f"{held.unit.code}\t{held.role.kind.value}\t{member.external_id}\t{name}")
                return 0
            person = _person(args)
            if not args.unit or person is None:
                print("give --unit CODE and --telegram-id N or --zalo-id ID", file=sys.stderr)
                return 2
            channel, external_id = person
            where = {"unit_code": args.unit, "channel": channel, "external_id": external_id,
                     "kind": RoleKind(args.role), "now": now}  # fmt: skip
            try:
                if args.action == "add":
                    held = await grant_role(factory, **where)
                    print(f"{held.member.external_id} is {args.role} of {held.unit.code} "
                          f"({held.unit.name}).")  # fmt: skip
                    return 0
                if await revoke_role(factory, **where):
                    print(f"{external_id} is no longer {args.role} of {args.unit}.")
                    return 0
                print(f"{external_id} was not {args.role} of {args.unit}.", file=sys.stderr)
                return 1
            except InputError as error:
                print(translator.render(error.text, "en"), file=sys.stderr)
                return 1

    return asyncio.run(main())


def _person(args: argparse.Namespace) -> tuple[str, str] | None:
    """The person a role is for: their channel and their id on it."""
    if args.telegram_id is not None:
        return "telegram", str(args.telegram_id)
    zalo_id = (args.zalo_id or "").strip()
    return ("zalo", zalo_id) if zalo_id else None


def phases_command(args: argparse.Namespace) -> int:
    """Create, change or list the programme's phases."""

    async def main() -> int:
        async with _database(_database_url(args)) as factory:
            if args.action == "list":
                async with factory() as uow:
                    for phase in await uow.progress.phases():
                        target = phase.target if phase.target is not None else "-"
                        print(f"{phase.code}\t{phase.starts_on:%d/%m/%Y}\t"
                              f"{phase.ends_on:%d/%m/%Y}\t{target}\t{phase.name}")  # fmt: skip
                return 0
            if not (args.code and args.start and args.end):
                print("give --code, --start and --end (dd/mm/yyyy)", file=sys.stderr)
                return 2
            try:
                starts, ends = (dt.datetime.strptime(d, "%d/%m/%Y").date()
                                for d in (args.start, args.end))  # fmt: skip
            except ValueError:
                print("dates are dd/mm/yyyy, for example 31/05/2022", file=sys.stderr)
                return 2
            try:
                phase = await add_phase(factory, args.code, args.name or args.code, starts, ends,
                                        args.target)  # fmt: skip
            except InputError as error:
                print(Translator(UNION_TIMEZONE).render(error.text, "en"), file=sys.stderr)
                return 1
            print(f"phase {phase.code}: {phase.starts_on:%d/%m/%Y} to {phase.ends_on:%d/%m/%Y}")
            return 0

    return asyncio.run(main())


def targets_import(args: argparse.Namespace) -> int:
    """Import unit targets per phase from CSV, all or nothing."""

    async def run(factory: SqlUnitOfWorkFactory, data: bytes) -> str:
        return f"{await import_targets(factory, data, dt.datetime.now(dt.UTC))} targets set."

    return _import_file(args, run)


def groups_import(args: argparse.Namespace) -> int:
    """Import emulation groups from CSV, all or nothing."""

    async def run(factory: SqlUnitOfWorkFactory, data: bytes) -> str:
        return f"{await import_groups(factory, data)} emulation groups set."

    return _import_file(args, run)


def export_command(args: argparse.Namespace) -> int:
    """Write one of the Excel reports of a unit's subtree, as the operator."""

    async def main() -> int:
        translator = Translator(UNION_TIMEZONE)
        async with _database(_database_url(args)) as factory:
            exporter = Exporter(factory, XlsxWriter(translator, UNION_TIMEZONE))
            try:
                unit_id, phase_id = await exporter.by_codes(args.unit, args.phase)
                report = await exporter.make(
                    ReportKind(args.report), None, unit_id, phase_id,
                    dt.datetime.now(UNION_TIMEZONE).date(), args.lang,
                    confidential=not args.no_confidential,
                )  # fmt: skip
            except InputError as error:
                print(translator.render(error.text, "en"), file=sys.stderr)
                return 1
        Path(args.out).write_bytes(report.data)
        print(f"{args.out}: {report.rows} rows")
        return 0

    return asyncio.run(main())


def data_erase(args: argparse.Namespace) -> int:
    """Erase a member's personal data, for a request on paper or by phone."""
    return erase_cli.data_erase(args, _database(_database_url(args)))


def data_export(args: argparse.Namespace) -> int:
    """Write a member's copy of their data, for a request on paper or by phone."""
    return copy_cli.data_export(args, _database(_database_url(args)))


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


def db_copy(args: argparse.Namespace) -> int:
    """Copy the whole database into another, empty one, and verify it."""
    return db_copy_cli.db_copy(args, _database_url(args))


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    root = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    root.add_argument("--database-url", help=f"default: $DATABASE_URL or {DEFAULT_DATABASE_URL}")
    commands = root.add_subparsers(dest="command")
    running = commands.add_parser("run", help="run the bot (long polling by default)")
    running.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates at WEBHOOK_URL and/or ZALO_WEBHOOK_URL (README: Deployment)",
    )
    running.set_defaults(func=run)
    units = commands.add_parser("units", help="manage the unit tree").add_subparsers(
        dest="units_command", required=True
    )
    importing = units.add_parser(
        "import", help="import units from CSV: code,name,parent_code,level"
    )
    importing.add_argument("file")
    importing.add_argument("--lang", choices=("vi", "en"), default="vi")
    importing.set_defaults(func=units_import)
    links = units.add_parser("links", help="print grassroots units' links on each channel")
    links.add_argument("--qr", metavar="DIR", help="also write an A4 poster PNG per unit here")
    links.add_argument("--bot-username", metavar="NAME",
                       help="default: $BOT_USERNAME, else asked from Telegram")  # fmt: skip
    links.add_argument("--zalo-link", metavar="URL",
                       help="the Zalo bot's link; default: $ZALO_BOT_LINK")  # fmt: skip
    links.add_argument("--lang", choices=("vi", "en"), default="vi", help="the posters' language")
    links.set_defaults(func=units_links)
    admins = commands.add_parser("admins", help="bootstrap admins and helpers")
    admins.add_argument("action", choices=("add", "list", "remove"))
    admins.add_argument("--unit", metavar="CODE", help="the unit's code")
    person = admins.add_mutually_exclusive_group()
    person.add_argument("--telegram-id", type=int, metavar="N", help="the person's Telegram id")
    person.add_argument("--zalo-id", metavar="ID", help="the person's Zalo user id")
    admins.add_argument("--role", choices=[k.value for k in RoleKind], default="admin")
    admins.set_defaults(func=admins_command)
    phases = commands.add_parser("phases", help="the programme's phases")
    phases.add_argument("action", choices=("add", "list"))
    phases.add_argument("--code", help="a short code, e.g. GD1")
    phases.add_argument("--name", help="e.g. 'Giai đoạn 1'")
    phases.add_argument("--start", metavar="DD/MM/YYYY")
    phases.add_argument("--end", metavar="DD/MM/YYYY")
    phases.add_argument("--target", type=int, help="the programme's total target")
    phases.set_defaults(func=phases_command)
    targets = commands.add_parser("targets", help="unit targets per phase").add_subparsers(
        dest="targets_command", required=True
    )
    targets_in = targets.add_parser("import", help="import CSV: unit_code,phase,target")
    targets_in.add_argument("file")
    targets_in.add_argument("--lang", choices=("vi", "en"), default="vi")
    targets_in.set_defaults(func=targets_import)
    groups = commands.add_parser("groups", help="emulation groups").add_subparsers(
        dest="groups_command", required=True
    )
    groups_in = groups.add_parser("import", help="import CSV: group_code,group_name,unit_code")
    groups_in.add_argument("file")
    groups_in.add_argument("--lang", choices=("vi", "en"), default="vi")
    groups_in.set_defaults(func=groups_import)
    export = commands.add_parser("export", help="write an Excel report of a unit's subtree")
    export.add_argument("report", choices=[k.value for k in ReportKind])
    export.add_argument("--unit", metavar="CODE", required=True, help="the unit's code")
    export.add_argument("--phase", metavar="CODE", help="the phase's code; default: today's")
    export.add_argument("--out", metavar="FILE.xlsx", required=True)
    export.add_argument("--lang", choices=("vi", "en"), default="vi")
    export.add_argument(
        "--no-confidential",
        action="store_true",
        help="leave out confidential details (a copy for outside the review)",
    )
    export.set_defaults(func=export_command)
    data = commands.add_parser(
        "data", help="a member's personal data, for requests on paper or by phone"
    ).add_subparsers(dest="data_command", required=True)
    erase_cli.add_parser(data, data_erase)
    copy_cli.add_parser(data, data_export)
    database = commands.add_parser("db", help="database schema, and copying the database")
    database_commands = database.add_subparsers(dest="action", required=True)
    database_commands.add_parser("upgrade", help="apply the migrations").set_defaults(
        func=db_command
    )
    database_commands.add_parser("current", help="show the schema's revision").set_defaults(
        func=db_command
    )
    db_copy_cli.add_parser(database_commands, db_copy)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.INFO)  # fmt: skip
    # httpx logs each request's address, which holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    if args.command is None:
        return run(args)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
