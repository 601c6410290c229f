"""An SMTP sink on loopback that behaves like a real network: for tests and benchmarks.

aiosmtpd (tests/smtpserver.py) records everything and is the server for correctness tests;
it costs ~1 ms of CPU a message and answers at once. This sink is a bare asyncio protocol
that only counts, so one process keeps up with hundreds of sessions, and it misbehaves on
request, as the internet does (`Behaviour`):

- `reply_delay`: every reply leaves D seconds after the command that asked for it, as if
  each reply cost a round trip; pipelined commands that arrived together are answered
  together, D later (RFC 2920: one round trip for the group).
- `stall`: never answer one step, and nothing after it: "greeting" (a host that accepts
  the TCP connection and never greets), "EHLO", "MAIL", "RCPT", "DATA" (no 354), "." (no
  reply to the final dot). `unread_data`: stop reading once DATA was answered 354, so the
  client's writes of the message block (a stalled data block).
- `drop_after_data`: this fraction of messages loses its connection after the final dot,
  without a reply (the client cannot know whether it was delivered); spread evenly: 0.2
  drops the 5th, 10th, 15th… message.
- `refuse_every` / `refusal`: every Nth message is answered `refusal` at the final dot; a
  421 refusal closes the connection behind it, as servers do. `close_after`: 421 to MAIL
  once a connection carried that many messages.

`Counters` are shared memory, so a benchmark reads them while the sink runs in a process of
its own (`SinkProcess`) and the sink's CPU does not compete with the client's GIL. In a test,
`running_sink(behaviour)` serves from a thread of the test process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import multiprocessing
import os
import socket
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

HOST = "127.0.0.1"
_FIELDS = ("connections", "open", "max_open", "messages", "octets", "dropped", "refused")


@dataclass(frozen=True)
class Behaviour:
    """How the sink answers; see the module docstring."""

    reply_delay: float = 0.0
    stall: frozenset[str] = frozenset()
    unread_data: bool = False
    drop_after_data: float = 0.0
    refuse_every: int = 0
    refusal: str = "451 4.3.0 Try again later"
    close_after: int = 0
    pipelining: bool = True
    receive_buffer: int = 0  # SO_RCVBUF of accepted connections (0: the system's)


@dataclass
class Counters:
    """What the sink saw; readable from another process while it runs."""

    array: ctypes.Array = field(
        default_factory=lambda: multiprocessing.RawArray(ctypes.c_longlong, len(_FIELDS))
    )

    def __getattr__(self, name: str) -> int:
        if name in _FIELDS:
            return self.array[_FIELDS.index(name)]
        raise AttributeError(name)

    def add(self, name: str, n: int = 1) -> None:
        self.array[_FIELDS.index(name)] += n

    def restart_max_open(self) -> None:
        """Count the most open at once again from now (a new phase of a benchmark)."""
        self.array[_FIELDS.index("max_open")] = self.open

    def snapshot(self) -> dict[str, int]:
        return dict(zip(_FIELDS, self.array, strict=True))


class _Connection(asyncio.Protocol):
    """One SMTP session of the sink."""

    def __init__(self, behaviour: Behaviour, counters: Counters, loop, live: set):
        self.behaviour = behaviour
        self.counters = counters
        self.loop = loop
        self.live = live  # the sink's open connections, aborted when it stops
        self.buffer = bytearray()
        self.in_data = False
        self.scanned = 0  # where the search for the final dot resumes in `buffer`
        self.on_connection = 0  # messages carried by this connection
        self.silent = False  # a stall: nothing is answered any more
        self.outbox: deque[tuple[float, bytes | None]] = deque()  # None: close the connection
        self.timer: asyncio.TimerHandle | None = None
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.live.add(self)
        # asyncio turns Nagle off only on sockets made with proto=IPPROTO_TCP, which an
        # accepted socket is not; with Nagle, each reply after the first of a pipelined
        # group would wait for the client's delayed ACK (40 ms).
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        counters = self.counters
        counters.add("connections")
        counters.add("open")
        if counters.open > counters.max_open:
            counters.array[_FIELDS.index("max_open")] = counters.open
        self._answer("greeting", b"220 sink.test ESMTP\r\n")

    def connection_lost(self, exc) -> None:
        self.live.discard(self)
        self.counters.add("open", -1)
        if self.timer is not None:
            self.timer.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while not self.silent and self.transport is not None:
            if self.in_data:
                if not self._message_end():
                    return
            else:
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                self._command(line)

    def _message_end(self) -> bool:
        if self.buffer.startswith(b".\r\n"):  # an empty message
            size, skip = 0, 3
        else:
            end = self.buffer.find(b"\r\n.\r\n", max(0, self.scanned - 4))
            if end < 0:
                self.scanned = len(self.buffer)
                return False
            size, skip = end + 2, end + 5
        self.counters.add("octets", size)  # as received: dot-stuffed, without the final dot
        del self.buffer[:skip]
        self.in_data, self.scanned = False, 0
        self._message()
        return True

    def _command(self, line: bytes) -> None:
        verb = line[:4].upper()
        if verb == b"EHLO":
            extensions = [b"250-sink.test", b"250-SIZE 104857600", b"250-8BITMIME"]
            if self.behaviour.pipelining:
                extensions.append(b"250-PIPELINING")
            self._answer("EHLO", b"\r\n".join([*extensions, b"250 ENHANCEDSTATUSCODES\r\n"]))
        elif verb == b"HELO":
            self._answer("EHLO", b"250 sink.test\r\n")
        elif verb == b"MAIL":
            limit = self.behaviour.close_after
            if limit and self.on_connection >= limit:
                self._answer("MAIL", b"421 4.7.0 Too many messages, closing\r\n", close=True)
            else:
                self._answer("MAIL", b"250 2.1.0 OK\r\n")
        elif verb == b"RCPT":
            self._answer("RCPT", b"250 2.1.5 OK\r\n")
        elif verb == b"DATA":
            self.in_data = True
            self._answer("DATA", b"354 End data with <CR><LF>.<CR><LF>\r\n")
            if self.behaviour.unread_data and not self.silent:
                self.transport.pause_reading()
        elif verb == b"QUIT":
            self._answer("QUIT", b"221 2.0.0 Bye\r\n", close=True)
        elif verb in (b"RSET", b"NOOP"):
            self._answer(verb.decode(), b"250 2.0.0 OK\r\n")
        else:
            self._answer(verb.decode(), b"502 5.5.2 Not implemented\r\n")

    def _message(self) -> None:
        behaviour, counters = self.behaviour, self.counters
        counters.add("messages")
        self.on_connection += 1
        n = counters.messages
        share = behaviour.drop_after_data
        if share and int(n * share) != int((n - 1) * share):
            counters.add("dropped")
            self._answer(".", None)
        elif behaviour.refuse_every and n % behaviour.refuse_every == 0:
            counters.add("refused")
            reply = behaviour.refusal.encode() + b"\r\n"
            self._answer(".", reply, close=reply.startswith(b"421"))
        else:
            self._answer(".", b"250 2.0.0 Ok: queued\r\n")

    def _answer(self, step: str, reply: bytes | None, close: bool = False) -> None:
        """Send `reply` after the delay (None: drop the connection instead), unless stalled."""
        if step in self.behaviour.stall:
            self.silent = True
            return
        due = self.loop.time() + self.behaviour.reply_delay
        self.outbox.append((due, reply))
        if close:
            self.outbox.append((due, None))
        if self.behaviour.reply_delay <= 0:
            self._flush()
        elif self.timer is None:
            self.timer = self.loop.call_at(due, self._flush)

    def _flush(self) -> None:
        # One timer per connection, firing at the oldest due reply: replies leave in order
        # (timers due at the same instant would not keep the order they were made in).
        self.timer = None
        now = self.loop.time()
        due = []
        while self.outbox and self.outbox[0][0] <= now:
            _, reply = self.outbox.popleft()
            if reply is None:
                self.outbox.clear()
                self.transport.write(b"".join(due))
                self.transport.abort()
                return
            due.append(reply)
        self.transport.write(b"".join(due))  # one segment for the replies of a group
        if self.outbox:
            self.timer = self.loop.call_at(self.outbox[0][0], self._flush)


def listener(behaviour: Behaviour, host: str = HOST, port: int = 0) -> socket.socket:
    """A listening socket on loopback; accepted connections inherit its receive buffer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if behaviour.receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, behaviour.receive_buffer)
    sock.bind((host, port))
    sock.listen(4096)
    return sock


async def serve(
    listeners: list[tuple[socket.socket, Behaviour]], counters: Counters, stop: asyncio.Event
) -> None:
    """Serve on every listening socket, each with its behaviour, until `stop` is set."""
    loop = asyncio.get_running_loop()
    live: set[_Connection] = set()
    servers = [
        await loop.create_server(
            functools.partial(_Connection, behaviour, counters, loop, live),
            sock=sock,
            backlog=4096,
        )
        for sock, behaviour in listeners
    ]
    await stop.wait()
    for server in servers:
        server.close()
    for connection in list(live):  # stalled ones would otherwise outlive the loop
        connection.transport.abort()
    for server in servers:
        await server.wait_closed()


class RunningSink:
    """A sink serving on `host`:`port`; `counters` are live."""

    def __init__(self, port: int, counters: Counters):
        self.host = HOST
        self.port = port
        self.counters = counters


@contextlib.contextmanager
def running_sink(
    behaviour: Behaviour = Behaviour(), host: str = HOST, port: int = 0
) -> Iterator[RunningSink]:
    """Serve from a thread of this process until the block ends (for tests)."""
    sock = listener(behaviour, host, port)
    counters = Counters()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(serve([(sock, behaviour)], counters, stop),),
        daemon=True,
    )
    thread.start()
    try:
        sink = RunningSink(sock.getsockname()[1], counters)
        sink.host = host
        yield sink
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


class SinkProcess:
    """A sink in a process of its own (for benchmarks): `with SinkProcess(b) as sink: …`.

    It listens on one port of every address in `hosts` (loopback addresses: 127.0.1.7 is as
    much loopback as 127.0.0.1, and lets each of 40 sites have a server of its own), each
    behaving as `behaviour` unless `overrides` names its address: one slow site, one silent
    MX among well-behaved ones. The process also ends by itself when the process that
    started it is gone.
    """

    def __init__(
        self,
        behaviour: Behaviour = Behaviour(),
        hosts: tuple[str, ...] = (HOST,),
        overrides: Mapping[str, Behaviour] | None = None,
    ):
        self.behaviours = {host: (overrides or {}).get(host, behaviour) for host in hosts}
        self.hosts = hosts
        self.counters = Counters()
        self.host = hosts[0]
        self.port = 0
        self._process: multiprocessing.Process | None = None

    def __enter__(self) -> SinkProcess:
        context = multiprocessing.get_context("spawn")
        ready = context.SimpleQueue()
        self._process = context.Process(
            target=_sink_main,
            args=(self.behaviours, self.counters.array, ready, os.getpid()),
        )
        self._process.start()
        self.port = ready.get()
        return self

    @property
    def pid(self) -> int:
        return self._process.pid

    def __exit__(self, *exc_info) -> None:
        self._process.terminate()
        self._process.join(10)


def _sink_main(behaviours: dict[str, Behaviour], array, ready, parent: int) -> None:
    (first_host, first_behaviour), *others = behaviours.items()
    first = listener(first_behaviour, first_host)
    port = first.getsockname()[1]
    listeners = [(first, first_behaviour)]
    listeners += [(listener(behaviour, host, port), behaviour) for host, behaviour in others]
    ready.put(port)

    async def main() -> None:
        stop = asyncio.Event()

        async def orphaned() -> None:
            while os.getppid() == parent:
                await asyncio.sleep(1)
            stop.set()

        watchdog = asyncio.create_task(orphaned())
        await serve(listeners, Counters(array), stop)
        watchdog.cancel()

    asyncio.run(main())
