"""Bot instances serving Telegram's webhook, each in its own process, for load benchmarks.

``python -m benchmarks.webhook --port P --database-url URL`` runs one instance:
``bot.serve.serve`` in webhook mode on ``127.0.0.1:P`` with a ``FastFakeBotApi``, until
SIGTERM.  Its webhook answers 200 only once the update is handled, but a simulated
member also needs the buttons the bot sent (the draft ids are in them), and those
stay in the instance's fake Bot API.  So the instance writes one JSON line per handled
update to stdout *before* the 200 goes out: ``["done", update_id, chat_id, buttons,
last_text]``; at exit it writes ``["stats", {"errors": n, "notices": n, "notes": [...]}]``.

``WebhookInstances`` (used by ``benchmarks.dialog``) starts such processes, feeds
their buttons into one shared ``FastFakeBotApi`` (used only as the button store that
``Person.update`` reads) and POSTs updates round-robin over their ports, as a load
balancer would, without putting a proxy process in the way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from benchmarks.harness import Person, Step, bot_settings, silence_logging
from bot.settings import Settings
from bot.web import SECRET_HEADER
from handlers.telegram.fake import FastFakeBotApi

WEBHOOK_URL = "https://bench.example/telegram"
SECRET = "bench-secret-0123456789abcdef"
START_TIMEOUT = 60.0


def settings_for(database_url: str, port: int) -> Settings:
    """The settings of one benchmark instance."""
    return bot_settings(
        database_url,
        webhook_url=WEBHOOK_URL,
        webhook_secret=SECRET,
        http_listen="127.0.0.1",
        http_port=port,
        job_lease_seconds=30,
    )


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the instance (child process) --------------------------------------------------------


async def run_instance(database_url: str, port: int) -> None:
    """Serve the webhook until SIGTERM, reporting each handled update on stdout."""
    from bot.serve import build_runtime, serve

    api = FastFakeBotApi()
    runtime = build_runtime(settings_for(database_url, port), request=api)
    telegram: Any = runtime.channel("telegram")
    application = telegram.application
    errors: list[str] = []
    out = sys.stdout.buffer
    processor = application.update_processor
    inner = processor.do_process_update

    async def reported(update: Any, coroutine: Any) -> None:
        try:
            await inner(update, coroutine)
        finally:
            chat = getattr(getattr(update, "effective_chat", None), "id", None)
            buttons = api.buttons.pop(chat, []) if chat is not None else []
            line = ["done", getattr(update, "update_id", -1), chat, buttons]
            line.append(api.last_text.get(chat, "")[:200] if chat is not None else "")
            out.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
            out.flush()

    processor.do_process_update = reported

    async def collect(update: object, context: Any) -> None:
        errors.append(repr(context.error))

    application.add_error_handler(collect)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        await serve(runtime, webhook=True, stop=stop)
    finally:
        stats = {
            "errors": len(errors),
            "notices": len(api.notices),
            "notes": errors[:3] + api.notices[:3],
        }
        out.write(json.dumps(["stats", stats], ensure_ascii=False).encode() + b"\n")
        out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one instance (the child side)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhook", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    silence_logging()
    asyncio.run(run_instance(args.database_url, args.port))
    return 0


# -- the load generator's side (parent process) ------------------------------------------


class WebhookInstances:
    """``count`` instance processes on one database, and a client posting updates to them.

    ``send(person, step)`` has the shape of ``benchmarks.harness.Driver.send``, so the same
    closed loop drives either; the times it returns are the POST being sent and its 200.
    """

    def __init__(self, database_url: str, count: int, connections: int) -> None:
        self.database_url = database_url
        self.ports = [free_port() for _ in range(count)]
        self.api = FastFakeBotApi()  # the button store Person.update reads
        self.updates = 0
        self.errors = 0
        self.notices = 0
        self.notes: list[str] = []
        self._connections = connections
        self._processes: list[asyncio.subprocess.Process] = []
        self._readers: list[asyncio.Task[None]] = []
        self._done: dict[int, asyncio.Future[None]] = {}
        self._turn = itertools.count()
        self._session: aiohttp.ClientSession | None = None
        self._headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        self._urls = [f"http://127.0.0.1:{port}/telegram" for port in self.ports]

    async def __aenter__(self) -> WebhookInstances:
        try:
            for port in self.ports:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "benchmarks.webhook",
                    "--port",
                    str(port),
                    "--database-url",
                    self.database_url,
                    stdout=asyncio.subprocess.PIPE,
                    cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    limit=1 << 20,
                )
                self._processes.append(process)
                self._readers.append(asyncio.create_task(self._read(process)))
            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(connector=connector)
            await asyncio.wait_for(self._ready(), START_TIMEOUT)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _ready(self) -> None:
        assert self._session is not None
        for port, process in zip(self.ports, self._processes, strict=True):
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"instance on port {port} exited: {process.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with self._session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                        if answer.status == 200:
                            break
                await asyncio.sleep(0.1)

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line[0] == "done":
                _kind, update_id, chat, buttons, last_text = line
                if chat is not None:
                    self.api.buttons.setdefault(chat, []).extend(buttons)
                    self.api.last_text[chat] = last_text
                waiter = self._done.pop(update_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
            elif line[0] == "stats":
                self.errors += int(line[1]["errors"])
                self.notices += int(line[1]["notices"])
                self.notes.extend(line[1]["notes"])

    def problems(self) -> tuple[int, int, list[str]]:
        """Errors the instances' bots raised, notices they answered buttons with, the first."""
        return self.errors, self.notices, self.notes[:3]

    async def send(self, person: Person, step: Step) -> tuple[float, float]:
        """POST the step's update to the next instance; (sent, 200 received)."""
        assert self._session is not None
        data = person.update(step, self.api, False)
        self.api.expect(person.id)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._done[data["update_id"]] = waiter
        self.updates += 1
        body = json.dumps(data, ensure_ascii=False).encode()
        url = self._urls[next(self._turn) % len(self._urls)]
        sent = time.perf_counter()
        async with self._session.post(url, data=body, headers=self._headers) as answer:
            await answer.read()
            received = time.perf_counter()
            if answer.status != 200:
                self._done.pop(data["update_id"], None)
                raise RuntimeError(f"webhook answered {answer.status} to {data['update_id']}")
        # The instance reported the buttons before answering; the line may still be in
        # the pipe when the 200 is read.
        await asyncio.wait_for(waiter, 30)
        return sent, received

    async def close(self) -> None:
        """Stop the instances (SIGTERM), collect their final stats, close the client."""
        for process in self._processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for process in self._processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        for reader in self._readers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(reader, 5)
        if self._session is not None:
            await self._session.close()
            self._session = None


if __name__ == "__main__":
    sys.exit(main())
