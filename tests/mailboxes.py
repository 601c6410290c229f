"""Small real IMAP and POP3 servers over TLS on loopback, for testing the bounce poller.

They speak just enough of RFC 3501 / RFC 1939 for a client that logs in, lists, fetches,
deletes (or copies) and logs out — over real sockets and a real TLS handshake (trustme CA).
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    user: str
    password: str
    folders: dict[str, list[bytes]] = field(default_factory=lambda: {"INBOX": []})
    # Fail the connection after this many RETR/FETCH commands (to test interrupted polls).
    break_after_fetches: int | None = None
    fetches: int = 0


class _TLSServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, mailbox: Mailbox, context: ssl.SSLContext):
        self.mailbox = mailbox
        self.context = context
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), handler)

    def get_request(self):
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), address


class _Lines(socketserver.StreamRequestHandler):
    def send(self, line: str | bytes) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def lines(self):
        while raw := self.rfile.readline():
            yield raw.rstrip(b"\r\n").decode()


class Pop3Handler(_Lines):
    def handle(self) -> None:
        box: Mailbox = self.server.mailbox
        messages = box.folders["INBOX"]
        deleted: set[int] = set()
        user = None
        authed = False
        self.send("+OK POP3 ready")
        for line in self.lines():
            command, _, argument = line.partition(" ")
            command = command.upper()
            if command == "USER":
                user = argument
                self.send("+OK")
            elif command == "PASS":
                authed = user == box.user and argument == box.password
                self.send("+OK logged in" if authed else "-ERR [AUTH] invalid login")
            elif command == "QUIT":
                with self.server.lock:
                    for index in sorted(deleted, reverse=True):
                        del messages[index - 1]
                self.send("+OK bye")
                return
            elif not authed:
                self.send("-ERR log in first")
            elif command == "LIST":
                self.send(f"+OK {len(messages)} messages")
                for number, message in enumerate(messages, 1):
                    if number not in deleted:
                        self.send(f"{number} {len(message)}")
                self.send(".")
            elif command == "RETR":
                box.fetches += 1
                if box.break_after_fetches is not None and box.fetches > box.break_after_fetches:
                    return  # drop the connection without QUIT: no deletion takes effect
                message = messages[int(argument) - 1]
                self.send(f"+OK {len(message)} octets")
                for body_line in message.split(b"\r\n")[:-1]:
                    self.send(b"." + body_line if body_line.startswith(b".") else body_line)
                self.send(".")
            elif command == "DELE":
                deleted.add(int(argument))
                self.send("+OK deleted")
            else:
                self.send("-ERR unknown command")


class ImapHandler(_Lines):
    def handle(self) -> None:
        box: Mailbox = self.server.mailbox
        selected: str | None = None
        authed = False
        flagged: set[int] = set()
        self.send("* OK [CAPABILITY IMAP4rev1] ready")
        for line in self.lines():
            tag, _, rest = line.partition(" ")
            command, _, argument = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
                self.send(f"{tag} OK done")
            elif command == "LOGIN":
                user, password = (part.strip('"') for part in argument.split(" ", 1))
                authed = user == box.user and password == box.password
                self.send(f"{tag} OK logged in" if authed else f"{tag} NO [AUTHENTICATIONFAILED]")
            elif command == "LOGOUT":
                self.send("* BYE")
                self.send(f"{tag} OK bye")
                return
            elif not authed:
                self.send(f"{tag} BAD log in first")
            elif command == "SELECT":
                selected = argument.strip('"')
                count = len(box.folders.setdefault(selected, []))
                self.send(f"* {count} EXISTS")
                self.send(f"{tag} OK [READ-WRITE] selected")
            elif command == "CLOSE":
                with self.server.lock:
                    folder = box.folders[selected]
                    for uid in sorted(flagged, reverse=True):
                        del folder[uid - 1]
                flagged.clear()
                selected = None
                self.send(f"{tag} OK closed")
            elif command == "UID":
                self._uid(tag, argument, box.folders[selected], flagged, box)
            else:
                self.send(f"{tag} BAD unknown command")

    def _uid(self, tag: str, argument: str, folder: list[bytes], flagged: set[int], box) -> None:
        # UIDs are positions + 1: enough for a mailbox nobody else changes during the test.
        command, _, rest = argument.partition(" ")
        command = command.upper()
        if command == "SEARCH":
            uids = [str(i) for i in range(1, len(folder) + 1) if i not in flagged]
            self.send("* SEARCH " + " ".join(uids))
        elif command == "FETCH":
            box.fetches += 1
            if box.break_after_fetches is not None and box.fetches > box.break_after_fetches:
                self.request.shutdown(socket.SHUT_RDWR)  # the read loop then ends
                return
            uid = int(rest.split(" ", 1)[0])
            message = folder[uid - 1]
            self.wfile.write(f"* {uid} FETCH (UID {uid} BODY[] {{{len(message)}}}\r\n".encode())
            self.wfile.write(message + b")\r\n")
        elif command == "STORE":
            flagged.add(int(rest.split(" ", 1)[0]))
        elif command == "COPY":
            uid, target = rest.split(" ", 1)
            box.folders.setdefault(target.strip('"'), []).append(folder[int(uid) - 1])
        else:
            self.send(f"{tag} BAD unknown UID command")
            return
        self.send(f"{tag} OK {command} done")


class RunningServer:
    def __init__(self, handler, mailbox: Mailbox, context: ssl.SSLContext):
        self.mailbox = mailbox
        self.server = _TLSServer(handler, mailbox, context)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
