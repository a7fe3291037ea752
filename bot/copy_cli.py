"""``python -m bot data export --member ID --out FILE.json|FILE.xlsx``: a member's copy of
their data, for a request that came on paper or by phone."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from bot.settings import UNION_TIMEZONE
from domain.errors import InputError
from domain.privacy_copy import CopyFormat, PersonalCopies
from locales import Translator
from reports.xlsx import XlsxWriter
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


def add_parser(
    data: argparse._SubParsersAction[argparse.ArgumentParser],
    run: Callable[[argparse.Namespace], int],
) -> None:
    """The ``export`` subcommand under ``data``."""
    export = data.add_parser("export", help="write a member's copy of their data")
    export.add_argument("--member", type=int, required=True, metavar="ID", help="the member's id")
    export.add_argument("--out", required=True, metavar="FILE.json|FILE.xlsx",
                        help="JSON or an Excel workbook, by the file's extension")  # fmt: skip
    export.add_argument("--lang", choices=("vi", "en"),
                        help="the workbook's language; default: the member's")  # fmt: skip
    export.set_defaults(func=run)


def data_export(
    args: argparse.Namespace, database: AbstractAsyncContextManager[SqlUnitOfWorkFactory]
) -> int:
    """Write the member's copy to the file, as JSON or a workbook by its extension."""
    out = Path(args.out)
    try:
        fmt = CopyFormat(out.suffix.lower().lstrip("."))
    except ValueError:
        print(f"{out}: the file must end in .json or .xlsx.", file=sys.stderr)
        return 2

    async def main() -> int:
        translator = Translator(UNION_TIMEZONE)
        async with database as factory:
            copies = PersonalCopies(factory, XlsxWriter(translator, UNION_TIMEZONE), translator)
            try:
                language = args.lang or await copies.language(args.member)
                document = await copies.make(args.member, fmt, language, dt.datetime.now(dt.UTC))
            except InputError as error:
                print(translator.render(error.text, args.lang or "en"), file=sys.stderr)
                return 1
        # The operator's action on record, naming the member by number only.
        log.info("copy of member #%s's data written (%s) at the operator's command",
                 args.member, fmt.value)  # fmt: skip
        out.write_bytes(document.data)
        print(f"{out}: the data of member #{args.member}")
        return 0

    return asyncio.run(main())
