"""Run the three apps (Binance, KuCoin, admin) in one process, in-process or from the CLI."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from fake_exchange._state import Config, ExchangeState
from fake_exchange.admin import admin_app
from fake_exchange.binance import binance_app
from fake_exchange.kucoin import kucoin_app

__all__ = ["FakeExchange"]


class FakeExchange:
    """A running fake exchange on loopback; a context manager usable from sync code.

    >>> with FakeExchange(Config(seed=1)) as ex:
    ...     ex.binance_url, ex.kucoin_url, ex.admin_url
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        host: str = "127.0.0.1",
        ports: tuple[int, int, int] = (0, 0, 0),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = ExchangeState(config or Config(), clock)
        self.host = host
        self._want = ports  # binance, kucoin, admin; 0: any free port
        self.ports: tuple[int, int, int] = (0, 0, 0)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def binance_url(self) -> str:
        return f"http://{self.host}:{self.ports[0]}"

    @property
    def kucoin_url(self) -> str:
        return f"http://{self.host}:{self.ports[1]}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.ports[2]}"

    async def start_async(self) -> None:
        apps = (binance_app(self.state), kucoin_app(self.state), admin_app(self.state))
        ports = []
        for app, port in zip(apps, self._want, strict=True):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, self.host, port)
            await site.start()
            self._runners.append(runner)
            server = site._server  # aiohttp keeps the bound socket here
            assert server is not None
            ports.append(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        self.ports = (ports[0], ports[1], ports[2])

    async def stop_async(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    def __enter__(self) -> FakeExchange:
        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # report a failed start to the caller
                self._error = exc
                self._ready.set()
                loop.close()
                return
            self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-exchange", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
