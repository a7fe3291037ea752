"""``python -m bot data erase --member ID [--yes]``: erasing a member's personal data for
a request that came on paper or by phone."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from bot.settings import UNION_TIMEZONE
from domain.erasure import erase_for_operator, operator_plan, plan_lines
from domain.errors import InputError
from locales import Translator
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


def add_parser(
    data: argparse._SubParsersAction[argparse.ArgumentParser],
    run: Callable[[argparse.Namespace], int],
) -> None:
    """The ``erase`` subcommand under ``data``."""
    erase = data.add_parser("erase", help="erase a member's personal data (cannot be undone)")
    erase.add_argument("--member", type=int, required=True, metavar="ID", help="the member's id")
    erase.add_argument("--yes", action="store_true", help="do not ask to confirm")
    erase.add_argument("--lang", choices=("vi", "en"), default="en")
    erase.set_defaults(func=run)


def _confirmed(args: argparse.Namespace) -> bool:
    """``--yes``, or "yes" typed on a terminal."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("Not a terminal: add --yes to erase without being asked.", file=sys.stderr)
        return False
    answer = input(f"Erase the personal data of member #{args.member}? Type yes: ")
    return answer.strip().lower() in ("yes", "y", "có", "co")


def data_erase(
    args: argparse.Namespace, database: AbstractAsyncContextManager[SqlUnitOfWorkFactory]
) -> int:
    """Show what erasing the member would do, confirm, erase, and say what was done."""

    async def main() -> int:
        translator = Translator(UNION_TIMEZONE)
        async with database as factory:
            try:
                plan = await operator_plan(factory, args.member)
                print(translator.lines(plan_lines(plan)[:-1], args.lang))
                if not _confirmed(args):
                    print("Nothing was erased.")
                    return 1
                log.info("erasing member #%s at the operator's command", args.member)
                report = await erase_for_operator(factory, args.member, dt.datetime.now(dt.UTC))
            except InputError as error:
                print(translator.render(error.text, args.lang), file=sys.stderr)
                return 1
        counts = report.counts
        print(f"Member #{args.member} erased: {counts.drafts_deleted} drafts deleted, "
              f"{counts.initiatives_kept} approved initiatives kept, {counts.texts_removed} "
              f"initiatives' texts removed, {counts.files_removed} files removed, "
              f"{counts.messages_cancelled} queued messages cancelled.")  # fmt: skip
        return 0

    return asyncio.run(main())
