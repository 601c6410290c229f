"""A real authoritative nameserver on loopback, for the delivery tests and benchmarks.

    with DnsServer('''
        example.com.      300 MX  10 mx1.example.com.
        mx1.example.com.  300 A   127.0.0.2
    ''') as server:
        router = Router([server.address])           # server.address == ("127.0.0.1", port)

It answers over UDP and, on the same port, over TCP. Zones are zone-file text (dnspython's
parser; every line starts with its owner name, absolute or relative to the root, and may be
indented; `$TTL 300` is the default), any
record types dnspython knows (MX, A, AAAA, TXT, CNAME…); `load()` more text at any time
(records of the same name and type are replaced). Internationalised names are written as
A-labels. Names not in any zone get NXDOMAIN; names that exist without the asked type get
an empty NOERROR answer; both carry an SOA whose minimum is `negative_ttl` (RFC 2308).
`behave(name, Behaviour.X)` overrides the answer for a name: NXDOMAIN, SERVFAIL or no reply
at all (the client times out), for every type or one.

Every query is recorded (`queries`, `count()`), so tests can prove what was or was not
asked. A UDP answer larger than the client's EDNS payload (512 bytes without EDNS) is sent
truncated (TC), as real servers do, and the client asks again over TCP. Records of a set
are sent in the order they were loaded, never rotated.

Usable without pytest: `server = DnsServer(zone).start()` … `server.stop()` from a
benchmark; it serves from daemon threads.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from enum import Enum
from typing import NamedTuple

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone


class Behaviour(Enum):
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    NO_REPLY = "no reply"


class Query(NamedTuple):
    name: str  # lower-case, no trailing dot
    rdtype: str  # "MX", "A"…
    transport: str  # "udp" or "tcp"


class DnsServer:
    """An authoritative nameserver for the zones loaded into it, on a free loopback port."""

    def __init__(self, zone: str = "", *, host: str = "127.0.0.1", negative_ttl: int = 300):
        self.host = host
        self.negative_ttl = negative_ttl
        self._lock = threading.Lock()
        self._records: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self._behaviours: dict[tuple[dns.name.Name, int | None], Behaviour] = {}
        self._queries: list[Query] = []
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        if zone:
            self.load(zone)

    # Zones and behaviours

    def load(self, zone: str) -> None:
        """Add the records of zone-file text, replacing those of the same name and type."""
        # Lines are stripped so zones can be indented in Python source; the zone-file
        # shorthand of a blank owner ("same name as above") is therefore not available.
        text = "\n".join(line.strip() for line in zone.splitlines())
        parsed = dns.zone.from_text(
            "$TTL 300\n" + text, origin=dns.name.root, relativize=False, check_origin=False
        )
        with self._lock:
            for name, rdataset in parsed.iterate_rdatasets():
                self._records[(name, rdataset.rdtype)] = dns.rrset.from_rdata_list(
                    name, rdataset.ttl, list(rdataset)
                )

    def behave(self, name: str, behaviour: Behaviour, rdtype: str | None = None) -> None:
        """Answer queries for `name` (of `rdtype`, or of any type) with `behaviour`."""
        key = (_name(name), None if rdtype is None else dns.rdatatype.from_text(rdtype))
        with self._lock:
            self._behaviours[key] = behaviour

    # What was asked

    @property
    def queries(self) -> list[Query]:
        with self._lock:
            return list(self._queries)

    def count(
        self, name: str | None = None, rdtype: str | None = None, transport: str | None = None
    ) -> int:
        """How many queries matched the given name, type and transport."""
        wanted_name = None if name is None else _text(_name(name))
        return sum(
            1
            for query in self.queries
            if (wanted_name is None or query.name == wanted_name)
            and (rdtype is None or query.rdtype == rdtype)
            and (transport is None or query.transport == transport)
        )

    def reset(self) -> None:
        """Forget the queries recorded so far."""
        with self._lock:
            self._queries.clear()

    # Running

    @property
    def address(self) -> tuple[str, int]:
        """(ip, port) to give a resolver."""
        return self.host, self._servers[0].server_address[1]

    def start(self) -> DnsServer:
        """Listen on a free port (the same one for UDP and TCP) and serve from threads."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        udp_class = type("UdpServer", (_UdpServer,), {"address_family": family})
        tcp_class = type("TcpServer", (_TcpServer,), {"address_family": family})
        for _ in range(20):
            udp = udp_class((self.host, 0), _UdpHandler)
            try:
                tcp = tcp_class((self.host, udp.server_address[1]), _TcpHandler)
            except OSError:  # that port is taken for TCP: pick another
                udp.server_close()
                continue
            break
        else:
            raise OSError("No port free for both UDP and TCP on " + self.host)
        for server in (udp, tcp):
            server.dns = self
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # Answering

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The reply to one query in wire format, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if len(query.question) != 1:
            return None
        question = query.question[0]
        qname, rdtype = question.name, question.rdtype
        with self._lock:
            self._queries.append(Query(_text(qname), dns.rdatatype.to_text(rdtype), transport))
            behaviour = self._behaviours.get((qname, rdtype)) or self._behaviours.get((qname, None))
            if behaviour is Behaviour.NO_REPLY:
                return None
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if behaviour is Behaviour.SERVFAIL:
                response.set_rcode(dns.rcode.SERVFAIL)
            elif behaviour is Behaviour.NXDOMAIN:
                response.set_rcode(dns.rcode.NXDOMAIN)
                response.authority.append(self._soa())
            else:
                self._fill(response, qname, rdtype)
        # Records go out in zone order (dnspython would shuffle them), so what a test sees
        # reordered was reordered by the client.
        if transport == "udp":
            limit = query.payload if query.edns >= 0 else 512
            try:
                return response.to_wire(max_size=limit, want_shuffle=False)
            except dns.exception.TooBig:
                truncated = dns.message.make_response(query)
                truncated.flags |= dns.flags.AA | dns.flags.TC
                return truncated.to_wire()
        # TCP: the client's UDP payload size does not apply.
        return response.to_wire(max_size=65535, want_shuffle=False)

    def _fill(self, response: dns.message.Message, qname: dns.name.Name, rdtype: int) -> None:
        name = qname
        for _ in range(8):  # follow CNAMEs inside our zones, as an authoritative server does
            rrset = self._records.get((name, rdtype))
            if rrset is not None:
                response.answer.append(rrset)
                return
            cname = self._records.get((name, dns.rdatatype.CNAME))
            if cname is None or rdtype == dns.rdatatype.CNAME:
                break
            response.answer.append(cname)
            name = cname[0].target
        if not any(owner.is_subdomain(name) for owner, _ in self._records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(self._soa())

    def _soa(self) -> dns.rrset.RRset:
        return dns.rrset.from_text(
            dns.name.root,
            self.negative_ttl,
            dns.rdataclass.IN,
            dns.rdatatype.SOA,
            f"ns.test. hostmaster.test. 1 3600 600 86400 {self.negative_ttl}",
        )


class _UdpServer(socketserver.UDPServer):
    dns: DnsServer


class _TcpServer(socketserver.ThreadingTCPServer):
    dns: DnsServer
    daemon_threads = True
    block_on_close = False


class _UdpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        reply = self.server.dns.answer(data, "udp")
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TcpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        # RFC 1035 §4.2.2: each message is preceded by its two-byte length.
        while len(header := self.rfile.read(2)) == 2:
            (length,) = struct.unpack("!H", header)
            reply = self.server.dns.answer(self.rfile.read(length), "tcp")
            if reply is None:
                return
            self.wfile.write(struct.pack("!H", len(reply)) + reply)


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text.rstrip(".") + ".")


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()
