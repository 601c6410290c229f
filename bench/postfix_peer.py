"""A private Postfix instance under /tmp that relays to the benchmark's sinks: the peer we race.

    with PostfixPeer({"d00.example": ("127.0.1.1", 2525), …}) as postfix:
        submit(postfix.port, recipients, message)   # Postfix delivers them to the sinks

    relay_rate(routes, recipients, message, received=lambda: sink.counters.messages)

Debian's `postfix` package (`make bench-tools`), run as root, with its own
config_directory, queue_directory and data_directory in a temporary directory: the
system's Postfix (if any) is not touched. It listens on 127.0.0.1 at a free high port and
relays every recipient domain to its sink through `transport_maps` (each domain its own
next hop, so Postfix's per-destination concurrency applies per domain, as it would to 40
providers). Everything else is Postfix's default: 100 processes
(default_process_limit), 20 sessions per destination
(default_destination_concurrency_limit), connection caching on demand. Stopped, and its
directory removed, when the block ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

POSTFIX = "/usr/sbin/postfix"

# The services a relaying Postfix needs; chroot off (column 5), since the chroot would need
# copies of /etc files inside the temporary queue directory.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
local     unix  - n n -  - local
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-peer.bench.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
transport_maps = texthash:{root}/etc/transport
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostfixPeer:
    """See the module docstring; `port` is where it accepts mail."""

    def __init__(self, routes: dict[str, tuple[str, int]]):
        self.routes = routes
        self.port = 0
        self.root: Path | None = None

    def __enter__(self) -> PostfixPeer:
        if not Path(POSTFIX).exists():
            raise SystemExit("Postfix is not installed: make bench-tools")
        if os.geteuid() != 0:
            raise SystemExit("A private Postfix needs root (its master runs as root).")
        self.root = Path(tempfile.mkdtemp(prefix="edm-postfix-peer-"))
        self.root.chmod(0o755)  # Postfix's daemons, running as `postfix`, read below it
        etc = self.root / "etc"
        for directory in ("etc", "queue", "data"):
            (self.root / directory).mkdir()
        shutil.chown(self.root / "data", "postfix")  # `postfix start` makes the queue's own
        self.port = free_port()
        (etc / "main.cf").write_text(MAIN_CF.format(root=self.root))
        (etc / "master.cf").write_text(MASTER_CF.format(port=self.port))
        (etc / "transport").write_text(
            "".join(f"{domain} smtp:[{ip}]:{port}\n" for domain, (ip, port) in self.routes.items())
        )
        try:
            self._postfix("start")
            self._wait_for_port()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        pid_file = self.root / "queue" / "pid" / "master.pid"
        try:
            if pid_file.exists():
                master = Path(f"/proc/{int(pid_file.read_text().split()[0])}")
                self._postfix("stop")
                deadline = time.monotonic() + 30
                while master.exists() and time.monotonic() < deadline:
                    time.sleep(0.1)  # `postfix stop` returns before its daemons have exited
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """What Postfix logged so far (for a failed run)."""
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def _postfix(self, command: str) -> None:
        subprocess.run(
            [POSTFIX, "-c", str(self.root / "etc"), command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _wait_for_port(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise SystemExit(f"Postfix did not start listening on {self.port}:\n{self.log()}")


def submit(port: int, recipients: list[str], data: bytes, connections: int = 4) -> None:
    """Hand Postfix one message per recipient over a few loopback connections (our client)."""
    from delivery.smtp import Session, TlsPolicy

    def one(share: list[str]) -> None:
        session = Session(
            "postfix-peer", port, address="127.0.0.1", helo_name="bench.test",
            tls_policy=TlsPolicy.NONE,
        )  # fmt: skip
        with session:
            for recipient in share:
                reply = session.send("news@shop.example", recipient, data)
                if not reply.ok:
                    raise SystemExit(f"Postfix refused {recipient}: {reply}")

    threads = [
        threading.Thread(target=one, args=(recipients[n::connections],)) for n in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def relay_rate(
    routes: dict[str, tuple[str, int]],
    recipients: list[str],
    data: bytes,
    received: Callable[[], int],
) -> float:
    """Messages/s of a private Postfix relaying `data` to every recipient through `routes`,
    from the first submission until `received()` (the sinks' count) has grown by as many."""
    with PostfixPeer(routes) as postfix:
        before = received()
        started = time.perf_counter()
        submit(postfix.port, recipients, data)
        while received() - before < len(recipients):
            if time.perf_counter() - started > 1800:
                raise SystemExit(f"Postfix gave up after 30 minutes:\n{postfix.log()[-3000:]}")
            time.sleep(0.1)
        return len(recipients) / (time.perf_counter() - started)
