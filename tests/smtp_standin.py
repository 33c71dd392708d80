"""A tiny SMTP server on a loopback port for tests: it speaks just enough SMTP for smtplib
(EHLO/HELO, MAIL, RCPT, DATA, QUIT) and keeps each message, parsed, in `messages`; it refuses
the addresses in `refused_recipients`."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from email.message import EmailMessage


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: SMTPStandIn = self.server  # type: ignore[assignment]
        self._say("220 stand-in ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 stand-in")
            elif verb == "MAIL":
                recipients = []
                self._say("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip(" <>")
                if address in server.refused_recipients:
                    self._say("550 No such user here")
                else:
                    recipients.append(address)
                    self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                data = bytearray()
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                message = email.message_from_bytes(bytes(data), policy=email.policy.default)
                server.messages.append((recipients, message))
                self._say("250 OK")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("250 OK")  # RSET, NOOP

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class SMTPStandIn(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list[tuple[list[str], EmailMessage]] = []
        # Addresses answered "550 No such user" (a mistyped address at a real server).
        self.refused_recipients: set[str] = set()
        self.port = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> SMTPStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
