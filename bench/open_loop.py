"""An open-loop HTTP/1.1 load: each request is sent when its time comes, never waiting for
earlier answers, and timed from the moment it was due (no coordinated omission).

The client is a bare one on asyncio streams (keep-alive, Content-Length bodies, as uvicorn
answers): httpx.AsyncClient spent about 2.6 ms of CPU per request on this machine, this one
about 0.04 ms, and the generator shares the machine's cores with the service it measures.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

IDLE_SECONDS = 2.0  # uvicorn closes a connection idle for 5 s: never reuse one near that


@dataclass(frozen=True)
class Planned:
    """One request of a load: when it is due (seconds after the start), what it is, its bytes."""

    at: float
    kind: str
    raw: bytes


@dataclass(frozen=True)
class Answered:
    """What became of one planned request. `lag`: how late the generator sent it off (its own
    delay, not the server's); `latency`: from when it was due to its whole answer (None if
    none came); `status`: the HTTP status, or what went wrong instead."""

    kind: str
    at: float
    lag: float
    latency: float | None
    status: int | str


@dataclass(frozen=True)
class Share:
    """What one generator process sends: its part of the plan, where, and how patiently."""

    plan: Sequence[Planned]
    host: str
    ports: Sequence[int]
    connections: int  # at most this many open to each port
    timeout: float  # an answer later than this after its due time is a timeout


class Connection:
    """One keep-alive connection to the service."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.used = time.monotonic()

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    @property
    def fresh(self) -> bool:
        idle = time.monotonic() - self.used
        return idle < IDLE_SECONDS and not self.writer.is_closing()

    async def exchange(self, raw: bytes) -> tuple[int, bool]:
        """Send one request, read its whole answer; returns its status and whether the
        connection may carry another."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        fields = head.lower()
        start = fields.find(b"\r\ncontent-length:")
        if start < 0:
            raise ValueError("an answer without Content-Length")
        start += len(b"\r\ncontent-length:")
        await self.reader.readexactly(int(fields[start : fields.index(b"\r\n", start)]))
        self.used = time.monotonic()
        return status, b"\r\nconnection: close\r\n" not in fields

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Connections to one port: at most `size` in use at once, the most recent reused first."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self.slots = asyncio.Semaphore(size)
        self.idle: deque[Connection] = deque()

    async def exchange(self, raw: bytes) -> int:
        async with self.slots:
            connection = self._reused() or await Connection.open(self.host, self.port)
            try:
                status, reusable = await connection.exchange(raw)
            except BaseException:
                connection.close()
                raise
            if reusable:
                self.idle.append(connection)
            else:
                connection.close()
            return status

    def _reused(self) -> Connection | None:
        while self.idle:
            connection = self.idle.pop()
            if connection.fresh:
                return connection
            connection.close()
        return None

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


async def drive(share: Share, start: float) -> list[Answered]:
    """Send the share's plan on its schedule from `start` (the loop's clock); every answer."""
    loop = asyncio.get_running_loop()
    pools = [Pool(share.host, port, share.connections) for port in share.ports]
    spread = itertools.cycle(pools)  # as a round-robin load balancer would

    async def send(planned: Planned, pool: Pool) -> Answered:
        due = start + planned.at
        lag = loop.time() - due
        try:
            async with asyncio.timeout_at(due + share.timeout):
                status: int | str = await pool.exchange(planned.raw)
        except TimeoutError:
            return Answered(planned.kind, planned.at, lag, None, "timeout")
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            return Answered(planned.kind, planned.at, lag, None, type(e).__name__)
        return Answered(planned.kind, planned.at, lag, loop.time() - due, status)

    sent: list[asyncio.Task[Answered]] = []
    try:
        for planned in share.plan:
            wait = start + planned.at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            sent.append(loop.create_task(send(planned, next(spread))))
        return list(await asyncio.gather(*sent))
    finally:
        for pool in pools:
            pool.close()


def run(share: Share, start_at: float) -> tuple[list[Answered], float]:
    """Drive the share from the wall-clock moment `start_at` (so several processes start
    together); returns the answers and the CPU seconds this generator spent."""

    async def main() -> list[Answered]:
        loop = asyncio.get_running_loop()
        return await drive(share, loop.time() + start_at - time.time())  # if late: lag

    cpu = time.process_time()
    answers = asyncio.run(main())
    return answers, time.process_time() - cpu
