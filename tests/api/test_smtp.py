"""The SMTP client (issue 14), driven through `slotd send-test-mail` against a real SMTP server
(aiosmtpd) on 127.0.0.1: plain delivery, STARTTLS with certificate and host name checks, AUTH
PLAIN and LOGIN, smtps, dot-stuffing and line endings, SMTPUTF8/8BITMIME, 4xx and 5xx replies,
timeouts, and the configuration errors."""

import email.utils
import re
import time

import pytest

from conftest import free_port, run_slotd
from smtp_util import Pki, SilentServer, SmtpServer, send_test_mail

TO = "alice@example.org"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("smtp-pki"))


def crlf(text):
    """text with LF line endings as SMTP stores it."""
    return text.replace("\n", "\r\n").encode()


def deliver(message=None, to=TO, **server):
    """One message through `slotd send-test-mail` to a fresh SmtpServer(**server): what it received."""
    with SmtpServer(**server) as srv:
        r = send_test_mail(srv.url(), to, message=message)
        assert r.returncode == 0, r
        return srv.wait_messages(1)[0]


# ----------------------------------------------------------------------------
# delivery


def test_plain_delivery_headers_and_envelope():
    with SmtpServer() as srv:
        r = send_test_mail(srv.url(host="127.0.0.1"), TO, mail_from="Bücher Team <books@example.com>")
        assert r.returncode == 0, r
        assert re.fullmatch(r"accepted: 250 2\.0\.0 OK: queued \(\d+ ms\)\n", r.stdout), r.stdout
        [m] = srv.wait_messages(1)
    assert m.mail_from == "books@example.com" and m.rcpt_tos == [TO] and not m.tls and m.auth_user is None
    msg = m.message
    assert msg["From"].addresses[0].display_name == "Bücher Team"
    assert msg["From"].addresses[0].addr_spec == "books@example.com"
    assert msg["To"].addresses[0].addr_spec == TO
    assert msg["Subject"] == "slotd test message"
    assert abs(email.utils.parsedate_to_datetime(msg["Date"]).timestamp() - time.time()) < 60
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", msg["Message-ID"])
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"
    assert "test message from slotd" in msg.get_content()
    assert not msg.defects
    # No TLS offered, no credentials: the conversation in clear, EHLO with our public address.
    assert srv.command_names() == ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]
    assert srv.commands[0].arg == "[127.0.0.1]"


def test_ehlo_refused_falls_back_to_helo():
    with SmtpServer() as srv:
        srv.script("EHLO", "502 5.5.2 Error: command not recognized")
        r = send_test_mail(srv.url(), TO, env={"SLOTD_PUBLIC_URL": "https://book.example.com"})
        assert r.returncode == 0, r
        srv.wait_messages(1)
    assert srv.command_names() == ["EHLO", "HELO", "MAIL", "RCPT", "DATA", "QUIT"]
    assert srv.commands[1].arg == "book.example.com"


def test_starttls_with_a_valid_certificate(pki):
    with SmtpServer(starttls=pki.good) as srv:
        r = send_test_mail(srv.url(), TO, ca_file=pki.ca)
        assert r.returncode == 0, r
        [m] = srv.wait_messages(1)
    assert m.tls
    names = srv.command_names()
    assert names[:3] == ["EHLO", "STARTTLS", "EHLO"], names
    assert all(c.tls for c in srv.commands[2:]), srv.commands  # nothing after STARTTLS in clear


@pytest.mark.parametrize("cert", ["wronghost", "unknownca"])
def test_starttls_with_a_bad_certificate_sends_nothing(pki, cert):
    with SmtpServer(starttls=getattr(pki, cert), users={"bob": "s3cret"}) as srv:
        r = send_test_mail(srv.url(user="bob", password="s3cret"), TO, ca_file=pki.ca)
        assert r.returncode == 1, r
        assert r.stdout.startswith("failed (temporary): tls: certificate verify failed"), r.stdout
        assert srv.command_names() == ["EHLO", "STARTTLS"]  # no fallback to clear text
        assert srv.messages == [] and srv.auth_attempts == []


def test_plaintext_injected_after_the_starttls_reply_is_refused(pki):
    # One write carries the 220 and a forged reply meant to be read as if it came under TLS.
    with SmtpServer(starttls=pki.good) as srv:
        srv.script("STARTTLS", "220 2.0.0 Ready to start TLS\r\n250 injected")
        r = send_test_mail(srv.url(), TO, ca_file=pki.ca)
        assert r.returncode == 1, r
        assert r.stdout.startswith("failed (temporary): unexpected data from the server after a reply"), r.stdout
        assert srv.command_names() == ["EHLO", "STARTTLS"] and srv.messages == []


@pytest.mark.parametrize("mechanisms", [("PLAIN", "LOGIN"), ("LOGIN",)], ids=["plain", "login"])
def test_auth_with_credentials_checked_by_the_server(pki, mechanisms):
    password = "p@ss:wörd %/"  # percent-encoded in the URL, decoded by slotd
    with SmtpServer(starttls=pki.good, users={"bob@example.com": password}, mechanisms=mechanisms) as srv:
        r = send_test_mail(srv.url(user="bob@example.com", password=password), TO, ca_file=pki.ca)
        assert r.returncode == 0, r
        [m] = srv.wait_messages(1)
    assert m.auth_user == "bob@example.com" and m.tls
    assert srv.auth_attempts == [(mechanisms[0], "bob@example.com", True)]
    auth = [c for c in srv.commands if c.name == "AUTH"]
    assert len(auth) == 1 and auth[0].tls and auth[0].arg.split()[0] == mechanisms[0]
    assert password not in r.stdout + r.stderr


def test_wrong_password_is_permanent_with_the_reply(pki):
    with SmtpServer(starttls=pki.good, users={"bob": "right"}) as srv:
        r = send_test_mail(srv.url(user="bob", password="wrong"), TO, ca_file=pki.ca)
        assert r.returncode == 1, r
        assert r.stdout == "failed (permanent): 535 5.7.8 Authentication credentials invalid\n"
        assert "MAIL" not in srv.command_names() and srv.messages == []
        assert "wrong" not in r.stdout + r.stderr


def test_credentials_without_starttls_are_never_sent():
    # The server offers AUTH in clear; slotd must not take the offer.
    with SmtpServer(users={"bob": "s3cret"}, auth_require_tls=False) as srv:
        r = send_test_mail(srv.url(user="bob", password="s3cret"), TO)
        assert r.returncode == 1, r
        assert r.stdout.startswith("failed (temporary): the server does not offer STARTTLS"), r.stdout
        assert srv.command_names() == ["EHLO"], srv.commands
        assert srv.auth_attempts == [] and srv.messages == []


def test_smtps_implicit_tls(pki):
    with SmtpServer(implicit_tls=pki.good, users={"bob": "s3cret"}) as srv:
        assert srv.url().startswith("smtps://")
        r = send_test_mail(srv.url(user="bob", password="s3cret"), TO, ca_file=pki.ca)
        assert r.returncode == 0, r
        [m] = srv.wait_messages(1)
    assert m.tls and m.auth_user == "bob"
    assert "STARTTLS" not in srv.command_names()


def test_smtps_with_a_certificate_for_another_host(pki):
    with SmtpServer(implicit_tls=pki.wronghost) as srv:
        r = send_test_mail(srv.url(), TO, ca_file=pki.ca)
        assert r.returncode == 1 and "certificate verify failed" in r.stdout, r
        assert srv.commands == [] and srv.messages == []


# ----------------------------------------------------------------------------
# the message on the wire

HEAD = "From: <slotd@example.com>\nTo: <alice@example.org>\nSubject: {subject}\nMessage-ID: <t1@example.com>\n"


def test_dot_stuffing_keeps_the_message_unchanged():
    body = ".\n..\n.hidden line\nmiddle\n.\n. \nlast."
    m = deliver(HEAD.format(subject="dots") + "\n" + body + "\n")
    assert m.data == crlf(HEAD.format(subject="dots") + "\n" + body + "\n")
    assert m.message.get_content().replace("\r\n", "\n") == body + "\n"


def test_bare_lf_and_bare_cr_become_crlf_and_a_final_crlf_is_added():
    raw = HEAD.format(subject="line endings").encode() + b"\none\ntwo\r\nthree\rfour\n\nend"  # no final newline
    m = deliver(raw)
    assert m.data == crlf(HEAD.format(subject="line endings") + "\none\ntwo\nthree\nfour\n\nend\n")
    assert b"\n" not in m.data.replace(b"\r\n", b"") and b"\r" not in m.data.replace(b"\r\n", b"")


def test_utf8_subject_and_body_use_smtputf8_and_8bitmime():
    text = HEAD.format(subject="Grüße aus Köln ✓") + "Content-Type: text/plain; charset=utf-8\n\nZoë’s café — 予約\n"
    m = deliver(text)
    assert "SMTPUTF8" in m.mail_options and "BODY=8BITMIME" in m.mail_options
    assert m.data == crlf(text)
    assert m.message["Subject"] == "Grüße aus Köln ✓"
    assert m.message.get_content().replace("\r\n", "\n") == "Zoë’s café — 予約\n"


def test_8bit_body_with_ascii_headers_does_not_ask_for_smtputf8():
    text = HEAD.format(subject="encoded elsewhere") + "Content-Type: text/plain; charset=utf-8\n\nnaïve\n"
    m = deliver(text)
    assert "BODY=8BITMIME" in m.mail_options and "SMTPUTF8" not in m.mail_options


def test_utf8_address_needs_smtputf8():
    m = deliver(to="zoë@bücher.example", smtputf8=True)
    assert m.rcpt_tos == ["zoë@bücher.example"] and "SMTPUTF8" in m.mail_options
    with SmtpServer(smtputf8=False) as srv:
        r = send_test_mail(srv.url(), "zoë@bücher.example")
        assert r.returncode == 1, r
        assert r.stdout.startswith("failed (permanent): the server does not support SMTPUTF8"), r.stdout
        assert "MAIL" not in srv.command_names()


def test_an_invalid_recipient_is_refused_before_connecting():
    with SmtpServer() as srv:
        r = send_test_mail(srv.url(), "a@b.example>\r\nRCPT TO:<evil@example.com")
        assert r.returncode == 1 and r.stdout == "failed (permanent): invalid recipient address\n", r
        assert srv.commands == []


# ----------------------------------------------------------------------------
# failures


@pytest.mark.parametrize("command,reply,kind", [
    ("RCPT", "451 4.3.0 Mailbox temporarily unavailable", "temporary"),
    ("RCPT", "550 5.1.1 <alice@example.org>: Recipient address rejected: User unknown", "permanent"),
    ("MAIL", "421 4.7.0 Too many connections, try later", "temporary"),
    ("DATA", "452 4.3.1 Insufficient system storage", "temporary"),
    ("DATA", "554 5.7.1 Message rejected as spam", "permanent"),
], ids=["451-rcpt", "550-rcpt", "421-mail", "452-data", "554-data"])
def test_4xx_is_temporary_and_5xx_permanent_with_the_reply(command, reply, kind):
    with SmtpServer() as srv:
        srv.script(command, reply)
        r = send_test_mail(srv.url(), TO)
        assert r.returncode == 1, r
        assert r.stdout == f"failed ({kind}): {reply}\n"
        assert srv.messages == []
        if command != "DATA":
            assert "DATA" not in srv.command_names()


def test_a_silent_server_times_out():
    with SilentServer() as srv:
        t0 = time.monotonic()
        r = send_test_mail(srv.url(), TO, timeout_ms=400)
        elapsed = time.monotonic() - t0
    assert r.returncode == 1, r
    assert r.stdout == "failed (temporary): timeout waiting for the greeting\n"
    assert 0.3 < elapsed < 10


def test_a_server_stalling_after_the_message_times_out():
    with SmtpServer() as srv:
        srv.script("DATA", 3.0)  # holds the reply to the message for 3 s
        r = send_test_mail(srv.url(), TO, timeout_ms=500)
        assert r.returncode == 1, r
        assert r.stdout == "failed (temporary): timeout waiting for the message transfer\n"


def test_an_unreachable_port_is_temporary():
    r = send_test_mail(f"smtp://127.0.0.1:{free_port()}", TO, timeout_ms=2000)
    assert r.returncode == 1, r
    assert r.stdout == "failed (temporary): connect failed: connection refused\n"


# ----------------------------------------------------------------------------
# configuration


def test_bad_mail_configuration_refuses_to_start():
    r = run_slotd(["send-test-mail", TO], env={"SLOTD_SMTP_URL": "smtp://bob:hunter2@host:notaport",
                                               "SLOTD_MAIL_FROM": "a@example.com"})
    assert r.returncode == 2
    assert "SLOTD_SMTP_URL" in r.stderr and "hunter2" not in r.stderr + r.stdout
    r = run_slotd(["send-test-mail", TO], env={"SLOTD_SMTP_URL": "smtp://host"})
    assert r.returncode == 2 and "SLOTD_MAIL_FROM: required" in r.stderr
    for var, val in [("SLOTD_MAIL_FROM", "not an address"), ("SLOTD_MAIL_RETRY_SCHEDULE", "60,x"),
                     ("SLOTD_SMTP_TIMEOUT_MS", "0"), ("SLOTD_SMTP_CA_FILE", "/nonexistent.pem")]:
        r = run_slotd(["serve"], env={var: val})
        assert r.returncode == 2 and f"invalid configuration: {var}" in r.stderr, (var, r.stderr)


def test_send_test_mail_without_smtp_url_and_usage():
    r = run_slotd(["send-test-mail", TO])
    assert r.returncode == 1 and "SLOTD_SMTP_URL is not set" in r.stderr
    assert run_slotd(["send-test-mail"]).returncode == 2
    assert run_slotd(["send-test-mail", TO, "extra"]).returncode == 2
    assert "send-test-mail" in run_slotd(["--help"]).stdout
