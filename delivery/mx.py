"""Routing: the hosts that take mail for a domain, in the order to try them, and their site.

`Router(nameservers, cache=redis_client).resolve(domain)` returns a `Route` or raises
`PermanentRouteError` (bounce the recipient, never connect) or `TemporaryRouteError` (defer
and retry). The rules, RFC 5321 §5.1 and RFC 7505:

- MX records are sorted by preference; hosts of equal preference are shuffled anew on every
  resolve, cached or not, so mail spreads over them.
- A domain that exists but has no MX records (NOERROR, no data) is its own mail host: the
  "implicit MX" of its A/AAAA addresses. No addresses either: permanent.
- Null MX (a single `0 .` record) says the domain takes no mail: permanent, and its
  addresses are not even looked up. (An MX set mixing `.` with real hosts breaks RFC 7505
  §3; the real hosts are used.)
- NXDOMAIN: permanent, reason `hostunknown`. SERVFAIL, no reply in time, or no nameserver
  willing to answer: temporary.
- Each MX host name is resolved to its addresses (`address_types`, A before AAAA by
  default); a host whose name does not resolve is skipped, and when none resolves the
  failure is temporary (the domain's owner may be changing DNS).
- Internationalised domains are asked in their A-label form (`delivery.domains.a_label`).

Sites. A site is the unit traffic is shaped by (`delivery.throttle`). A domain's site is the
registrable domain (Public Suffix List, `delivery.domains.registrable_domain`) of its most
preferred MX hosts; when several hosts share the lowest preference, the alphabetically first
registrable domain among them, so the answer never depends on the shuffle, nor on which
hosts happen to resolve at the moment. All Google-hosted domains (`aspmx.l.google.com`,
`alt1.aspmx.l.google.com`) become `google.com`; every Microsoft 365 tenant has its own host
(`contoso-com.mail.protection.outlook.com`) yet all become `outlook.com`; NetEase's
163.com, 126.com and yeah.net (`*.mxmail.netease.com`) become `netease.com`. A domain with
no MX records (implicit MX) is its own site: its name in A-label form.

Cache. With a Redis client, every DNS answer is kept under

    edm:dns:<TYPE>:<name>     e.g. edm:dns:MX:example.com, edm:dns:A:mx1.example.com

as JSON `{"status": "found" | "nxdomain" | "nodata", "records": [...]}` (MX records as
`[preference, host]`, host "" for the root; A/AAAA as address strings), expiring after the
answer's TTL — for negative answers the SOA's negative TTL (RFC 2308) — clamped by
`CacheTtl`. Temporary failures are never cached. MX host addresses are shared between all
domains that use the host. A cached resolve costs two Redis round trips (GET of the MX
answer, MGET of its hosts' addresses). With `cache=None` every resolve asks DNS.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import dns.exception
import dns.name
import dns.resolver
import redis

from delivery.domains import InvalidDomainError, a_label, registrable_domain
from delivery.resolver import stub_resolver

CACHE_PREFIX = "edm:dns:"

_random = secrets.SystemRandom()


class Candidate(NamedTuple):
    """One address to try, with the MX host name it belongs to."""

    host: str
    address: str
    preference: int


@dataclass(frozen=True)
class Route:
    """Where mail for `domain` (A-label form) goes: its site and the addresses to try in order."""

    domain: str
    site: str
    hosts: tuple[Candidate, ...]


class PermanentCause(Enum):
    """Why a domain takes no mail."""

    NO_SUCH_DOMAIN = "no such domain"
    NULL_MX = "null MX"
    NO_ADDRESS = "no MX and no address"
    INVALID_NAME = "invalid domain name"

    @property
    def reason(self) -> str:
        """The bounce reason in Sisimai's taxonomy."""
        return "notaccept" if self is PermanentCause.NULL_MX else "hostunknown"

    @property
    def status(self) -> str:
        """The enhanced status code to record (RFC 3463; 5.1.10 "null MX" from RFC 7505)."""
        return {
            PermanentCause.NO_SUCH_DOMAIN: "5.1.2",
            PermanentCause.NULL_MX: "5.1.10",
            PermanentCause.NO_ADDRESS: "5.4.4",
            PermanentCause.INVALID_NAME: "5.1.2",
        }[self]


class TemporaryCause(Enum):
    """Why a domain cannot be routed right now."""

    SERVER_FAILURE = "nameserver failure"
    TIMEOUT = "no answer in time"
    NO_REACHABLE_HOST = "no MX host resolves"

    @property
    def reason(self) -> str:
        """The reason in Sisimai's taxonomy."""
        return "networkerror"

    @property
    def status(self) -> str:
        """The enhanced status code to record (RFC 3463 X.4.3, directory server failure)."""
        return "4.4.3"


class RouteError(Exception):
    """A domain could not be routed; `cause` says why."""

    def __init__(self, domain: str, cause: PermanentCause | TemporaryCause, detail: str = ""):
        self.domain = domain
        self.cause = cause
        self.detail = detail
        super().__init__(f"{domain}: {cause.value}" + (f" ({detail})" if detail else ""))

    @property
    def reason(self) -> str:
        return self.cause.reason

    @property
    def status(self) -> str:
        return self.cause.status


class PermanentRouteError(RouteError):
    """The domain takes no mail: bounce without connecting."""

    cause: PermanentCause

    @property
    def null_mx(self) -> bool:
        return self.cause is PermanentCause.NULL_MX


class TemporaryRouteError(RouteError):
    """DNS could not say where the domain's mail goes right now: defer."""

    cause: TemporaryCause


@dataclass(frozen=True)
class CacheTtl:
    """Bounds, in seconds, on how long DNS answers stay in the cache."""

    # A floor: records with TTL 0 would otherwise cost a query per batch.
    minimum: int = 60
    maximum: int = 86_400
    negative_minimum: int = 60
    # RFC 2308 §5 advises one to three hours at most; an hour lets a fixed typo heal soon.
    negative_maximum: int = 3_600

    def positive(self, ttl: int) -> int:
        return max(self.minimum, min(ttl, self.maximum))

    def negative(self, ttl: int) -> int:
        return max(self.negative_minimum, min(ttl, self.negative_maximum))


class _Status(Enum):
    FOUND = "found"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"


class _Answer(NamedTuple):
    status: _Status
    records: tuple


class Router:
    """Resolves domains to routes through the given nameservers, caching answers in Redis."""

    def __init__(
        self,
        nameservers: Sequence[tuple[str, int]] = (),
        *,
        cache: redis.Redis | None = None,
        timeout: float = 2.0,
        lifetime: float = 6.0,
        ttl: CacheTtl | None = None,
        address_types: Sequence[str] = ("A", "AAAA"),
    ):
        self._resolver = stub_resolver(nameservers, timeout=timeout, lifetime=lifetime)
        self._cache = cache
        self._ttl = ttl or CacheTtl()
        self._address_types = tuple(address_types)

    def resolve(self, domain: str) -> Route:
        """The route for `domain`; raises PermanentRouteError or TemporaryRouteError."""
        try:
            name = a_label(domain)
        except InvalidDomainError as exc:
            raise PermanentRouteError(domain, PermanentCause.INVALID_NAME, str(exc)) from exc
        mx = self._lookup(name, "MX")
        if mx.status is _Status.NXDOMAIN:
            raise PermanentRouteError(name, PermanentCause.NO_SUCH_DOMAIN)
        if mx.status is _Status.NODATA:
            return self._implicit_route(name)
        exchanges = [(preference, host) for preference, host in mx.records if host]
        if not exchanges:
            raise PermanentRouteError(name, PermanentCause.NULL_MX)
        ordered = _by_preference(exchanges)
        addresses = self._addresses({host for _, host in ordered})
        candidates: list[Candidate] = []
        seen: set[str] = set()
        failures: list[str] = []
        for preference, host in ordered:
            found, failure = addresses[host]
            # Two MX names for one address (a CNAME, a backup alias): one try is enough.
            fresh = [address for address in found if address not in seen]
            seen.update(fresh)
            candidates.extend(Candidate(host, address, preference) for address in fresh)
            if failure is not None:
                failures.append(f"{host}: {failure.cause.value}")
        if not candidates:
            detail = "; ".join(failures) or "every MX host name is unknown"
            raise TemporaryRouteError(name, TemporaryCause.NO_REACHABLE_HOST, detail)
        return Route(name, _site(exchanges), tuple(candidates))

    def _implicit_route(self, name: str) -> Route:
        # RFC 5321 §5.1: no MX records -> the domain itself, preference 0.
        found, failure = self._addresses({name})[name]
        if found:
            return Route(name, name, tuple(Candidate(name, address, 0) for address in found))
        if failure is not None:
            raise failure
        raise PermanentRouteError(name, PermanentCause.NO_ADDRESS)

    def _addresses(
        self, hosts: set[str]
    ) -> dict[str, tuple[list[str], TemporaryRouteError | None]]:
        """Each host's addresses in `address_types` order, and a temporary failure if any."""
        questions = [(host, rdtype) for host in sorted(hosts) for rdtype in self._address_types]
        cached = self._cached(questions)  # one round trip for every host of the domain
        result = {}
        for host in hosts:
            addresses: list[str] = []
            failure = None
            for rdtype in self._address_types:
                answer = cached.get((host, rdtype))
                if answer is None:
                    try:
                        answer = self._ask(host, rdtype)
                    except TemporaryRouteError as exc:
                        failure = exc
                        continue
                if answer.status is _Status.NXDOMAIN:
                    break  # the name does not exist for any type
                found = list(answer.records)
                _random.shuffle(found)
                addresses.extend(found)
            result[host] = (addresses, failure)
        return result

    def _lookup(self, name: str, rdtype: str) -> _Answer:
        cached = self._cached([(name, rdtype)]).get((name, rdtype))
        return cached if cached is not None else self._ask(name, rdtype)

    def _cached(self, questions: list[tuple[str, str]]) -> dict[tuple[str, str], _Answer]:
        """The cached answers among `questions`."""
        if self._cache is None or not questions:
            return {}
        values = self._cache.mget([_key(name, rdtype) for name, rdtype in questions])
        return {
            (name, rdtype): _decode(value, rdtype)
            for (name, rdtype), value in zip(questions, values, strict=True)
            if value is not None
        }

    def _ask(self, name: str, rdtype: str) -> _Answer:
        """Ask DNS, and keep the answer in the cache for as long as it may be kept."""
        answer, ttl = self._query(name, rdtype)
        if self._cache is not None:
            self._cache.set(_key(name, rdtype), _encode(answer), ex=ttl)
        return answer

    def _query(self, name: str, rdtype: str) -> tuple[_Answer, int]:
        """Ask DNS; the answer and how long it may be cached."""
        qname = dns.name.from_text(name)
        try:
            answer = self._resolver.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN as exc:
            ttl = min(
                (response.resolve_chaining().minimum_ttl for response in exc.responses().values()),
                default=0,
            )
            return _Answer(_Status.NXDOMAIN, ()), self._ttl.negative(ttl)
        except dns.resolver.LifetimeTimeout as exc:
            raise TemporaryRouteError(name, TemporaryCause.TIMEOUT, f"{rdtype}: {exc}") from exc
        except dns.exception.DNSException as exc:
            # NoNameservers (SERVFAIL or REFUSED everywhere) and the rarer failures alike:
            # nothing here proves the domain has no mail route, so try again later.
            raise TemporaryRouteError(
                name, TemporaryCause.SERVER_FAILURE, f"{rdtype}: {exc}"
            ) from exc
        ttl = answer.chaining_result.minimum_ttl
        if answer.rrset is None:
            return _Answer(_Status.NODATA, ()), self._ttl.negative(ttl)
        if rdtype == "MX":
            records = tuple((rdata.preference, _host(rdata.exchange)) for rdata in answer.rrset)
        else:
            records = tuple(rdata.address for rdata in answer.rrset)
        return _Answer(_Status.FOUND, records), self._ttl.positive(ttl)


def _by_preference(exchanges: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Sorted by preference, equal preferences in random order (RFC 5321 §5.1)."""
    shuffled = list(exchanges)
    _random.shuffle(shuffled)
    return sorted(shuffled, key=lambda exchange: exchange[0])  # sorted() is stable


def _site(exchanges: list[tuple[int, str]]) -> str:
    best = min(preference for preference, _ in exchanges)
    return min(registrable_domain(host) for preference, host in exchanges if preference == best)


def _host(name: dns.name.Name) -> str:
    """An MX exchange as text: lower-case, no trailing dot, "" for the root (null MX)."""
    return "" if name == dns.name.root else name.to_text(omit_final_dot=True).lower()


def _key(name: str, rdtype: str) -> str:
    return f"{CACHE_PREFIX}{rdtype}:{name}"


def _encode(answer: _Answer) -> str:
    return json.dumps({"status": answer.status.value, "records": answer.records})


def _decode(raw: bytes | str, rdtype: str) -> _Answer:
    data = json.loads(raw)
    records = data["records"]
    if rdtype == "MX":  # JSON turned the (preference, host) pairs into lists
        records = [(preference, host) for preference, host in records]
    return _Answer(_Status(data["status"]), tuple(records))
