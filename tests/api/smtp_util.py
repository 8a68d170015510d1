"""SMTP test servers for the mail tests (issue 14).

- SmtpServer: a real SMTP server (Debian's python3-aiosmtpd) on 127.0.0.1 in a thread of its
  own. Optional STARTTLS or implicit TLS (smtps) with certificates from webhook_util.Pki, AUTH
  PLAIN/LOGIN checked against a user table, SMTPUTF8 on or off. It records every accepted
  message (envelope, raw bytes as received after the dot is unstuffed, the message parsed by
  Python's email package), every command line with whether it came over TLS, every AUTH attempt,
  and can be scripted to answer a command with a given reply (or to stall before answering) a
  number of times, e.g. `srv.script("RCPT", "451 4.3.0 try later", times=2)`.
- SilentServer: accepts TCP connections and never says a word (timeouts).
- send_test_mail(): runs `slotd send-test-mail` against a server and returns its result.

    with SmtpServer(starttls=pki.good, users={"bob": "s3cret"}) as srv:
        r = send_test_mail(srv.url(user="bob", password="s3cret"), "to@example.com",
                           ca_file=pki.ca)
        assert r.returncode == 0
        msg = srv.wait_messages(1)[0]

Only conftest.py and webhook_util.py are imported from the test tree.
"""

import asyncio
import collections
import email
import email.policy
import functools
import socket
import ssl
import subprocess
import threading
import urllib.parse

import pytest

from conftest import SLOTD_BIN, sanitizer_report, slotd_env, wait_until
from webhook_util import Pki  # noqa: F401 - re-exported: the mail tests make their certificates with it

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, AuthResult
except ImportError:  # pragma: no cover - tests/run installs python3-aiosmtpd
    pytest.skip("python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)", allow_module_level=True)


Received = collections.namedtuple("Received", "mail_from rcpt_tos mail_options data message tls auth_user")
Received.__doc__ = """One accepted message: data is the bytes as the server stored them (CRLF line
endings, the transparency dot removed); message is data parsed by email (policy.default)."""

Command = collections.namedtuple("Command", "name arg tls")


def _server_context(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    return ctx


class _Controller(Controller):
    """Builds the recording SMTP class for each connection."""

    def __init__(self, owner, handler, **kwargs):
        self._owner = owner
        super().__init__(handler, **kwargs)

    def factory(self):
        return _RecordingSMTP(self._owner, self.handler, **self.SMTP_kwargs)


class _RecordingSMTP(SMTP):
    """aiosmtpd's SMTP with every command recorded (name, argument, whether under TLS) and
    scripted replies for the commands that have no handler hook."""

    def __init__(self, owner, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._owner = owner
        for name, method in list(self._smtp_methods.items()):
            self._smtp_methods[name] = self._recorded(name, method)

    def _recorded(self, name, method):
        @functools.wraps(method)
        async def wrapper(arg):
            self._owner._record(Command(name, arg, self._owner.implicit_tls or self._tls_protocol is not None))
            scripted = self._owner._take(name) if name in ("EHLO", "HELO", "STARTTLS", "AUTH", "QUIT") else None
            if isinstance(scripted, (int, float)):
                await asyncio.sleep(scripted)
            elif scripted is not None:
                return await self.push(scripted)
            return await method(arg)
        return wrapper


class _Handler:
    def __init__(self, owner):
        self.owner = owner

    async def _scripted(self, command):
        s = self.owner._take(command)
        if isinstance(s, (int, float)):
            await asyncio.sleep(s)
            return None
        return s

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = await self._scripted("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = await self._scripted("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = await self._scripted("DATA")
        if reply:
            return reply
        data = envelope.original_content
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        self.owner._deliver(Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            mail_options=list(envelope.mail_options),
            data=data,
            message=email.message_from_bytes(data, policy=email.policy.default),
            tls=self.owner.implicit_tls or server._tls_protocol is not None,
            auth_user=login.decode() if isinstance(login, bytes) else login,
        ))
        return "250 2.0.0 OK: queued"


class SmtpServer:
    """A real SMTP server on 127.0.0.1:port in a background thread (see the module doc).

    starttls:      (certfile, keyfile) to offer STARTTLS with, or None
    implicit_tls:  (certfile, keyfile) for smtps (TLS from the first byte), or None
    users:         {login: password} enables AUTH (PLAIN and LOGIN unless mechanisms says)
    mechanisms:    the AUTH mechanisms to offer, e.g. ("LOGIN",)
    auth_require_tls: aiosmtpd's switch; False offers AUTH on a plain connection
    smtputf8:      offer SMTPUTF8 (8BITMIME is always offered)
    """

    def __init__(self, starttls=None, implicit_tls=None, users=None, mechanisms=None, auth_require_tls=True,
                 smtputf8=True):
        self.users = dict(users or {})
        self.messages = []
        self.commands = []
        self.auth_attempts = []  # (mechanism, login, success)
        self._scripts = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()
        # aiosmtpd counts only STARTTLS as TLS: with smtps the connection is TLS from the start.
        kwargs = {"enable_SMTPUTF8": smtputf8, "decode_data": False,
                  "auth_require_tls": auth_require_tls and implicit_tls is None}
        if starttls:
            kwargs["tls_context"] = _server_context(starttls)
        if users:
            kwargs["authenticator"] = self._authenticate
            if mechanisms:
                kwargs["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in mechanisms]
        self.implicit_tls = implicit_tls is not None
        self.port = self._free_port()
        self._controller = _Controller(
            self, _Handler(self), hostname="127.0.0.1", port=self.port,
            ssl_context=_server_context(implicit_tls) if implicit_tls else None, **kwargs)

    @staticmethod
    def _free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    # lifecycle

    def start(self):
        self._controller.start()
        with self._lock:  # the controller's own readiness probe is not a client
            self.commands.clear()
        return self

    def stop(self):
        self._controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # what the tests use

    def url(self, user=None, password=None, host="localhost"):
        """smtp:// (or smtps:// for implicit TLS) to this server, credentials percent-encoded."""
        auth = ""
        if user is not None:
            auth = urllib.parse.quote(user, safe="")
            if password is not None:
                auth += ":" + urllib.parse.quote(password, safe="")
            auth += "@"
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{auth}{host}:{self.port}"

    def script(self, command, reply, times=1):
        """Answer the next `times` uses of command (MAIL, RCPT, DATA, EHLO, HELO, STARTTLS, AUTH,
        QUIT) with reply ("451 4.3.0 try later"), or, with a number, stall that many seconds first
        (MAIL/RCPT/DATA then go on normally)."""
        with self._lock:
            self._scripts[command.upper()].extend([reply] * times)

    def wait_messages(self, n, timeout=10):
        wait_until(lambda: len(self.messages) >= n, timeout, what=f"{n} message(s) at the SMTP server")
        return list(self.messages)

    def command_names(self):
        with self._lock:
            return [c.name for c in self.commands]

    # internals (called from the server thread)

    def _take(self, command):
        with self._lock:
            q = self._scripts.get(command)
            return q.popleft() if q else None

    def _record(self, cmd):
        with self._lock:
            self.commands.append(cmd)

    def _deliver(self, rec):
        with self._lock:
            self.messages.append(rec)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        ok = login in self.users and self.users[login] == password
        with self._lock:
            self.auth_attempts.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


class SilentServer:
    """Accepts connections on 127.0.0.1 and never sends a byte (until stop)."""

    def __init__(self):
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.connections = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def url(self, host="127.0.0.1"):
        return f"smtp://{host}:{self.port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._sock.close()
        self._thread.join(5)
        for c in self.connections:
            c.close()


def send_test_mail(url, to, *, mail_from="slotd@example.com", ca_file=None, timeout_ms=None, message=None,
                   env=None, timeout=60):
    """`slotd send-test-mail to` (with `-` and message on stdin when message is given) against url.
    Returns the CompletedProcess (text stdout/stderr); fails on any sanitizer report."""
    extra = {"SLOTD_SMTP_URL": url, "SLOTD_MAIL_FROM": mail_from, "SLOTD_SMTP_CA_FILE": ca_file,
             "SLOTD_SMTP_TIMEOUT_MS": timeout_ms, **(env or {})}
    args = [SLOTD_BIN, "send-test-mail", to] + (["-"] if message is not None else [])
    if isinstance(message, str):
        message = message.encode()
    p = subprocess.run(args, env=slotd_env({k: v for k, v in extra.items() if v is not None}),
                       input=message if message is not None else b"", capture_output=True, timeout=timeout)
    out = subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode(errors="replace"),
                                      p.stderr.decode(errors="replace"))
    found = sanitizer_report(out.stderr)
    assert not found, f"sanitizer report ({found}) in slotd stderr:\n{out.stderr[-8000:]}"
    return out
