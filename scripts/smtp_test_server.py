#!/usr/bin/env python3
"""An SMTP server for Herald's tests, built on aiosmtpd.

It accepts mail on loopback and spools every accepted message for the tests to inspect:

  SPOOL/<seq>.eml          the raw DATA bytes of each accepted message (CRLF line endings, dot-unstuffed),
                           written to a temporary file and renamed, so a visible .eml is always complete
  SPOOL/envelopes.jsonl    one JSON line per accepted message, appended after its .eml is in place:
                           {"seq", "file", "mail_from", "rcpt_tos", "peer", "session", "tls", "auth"}
  SPOOL/connections.txt    the number of connections opened so far (rewritten atomically on each new one)
  SPOOL/refusals.jsonl     one JSON line per refused RCPT: {"rcpt", "reply", "session"}
  SPOOL/tempfail.json      per-address counts of 451 replies given, so a restart on the same spool remembers them
  SPOOL/deferred-<n>.eml   the DATA bytes of each message answered 451 after DATA (--tempfail-data-prefix), n from 1

Sequence numbers, connection numbers and tempfail counts carry on when the server is started again on
the same spool. Once listening it prints exactly one line, `READY <port>`, and runs until SIGTERM/SIGINT.

Recipient behaviour (local part, case-insensitive):
  starts with --reject-prefix   550 5.1.1 No such user here, always
  starts with --tempfail-prefix 451 4.3.0 Try again later for the first --tempfail-times times that
                                exact address is seen, then accepted
  starts with --tempfail-data-prefix   accepted at RCPT, but the message's DATA is answered 451 4.3.0 (and
                                kept as deferred-<n>.eml) the first --tempfail-times times, then accepted:
                                a retry whose first try went all the way, so both can be compared
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import warnings
import weakref

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# libdispatch worker does) passes that mask on; unblock them, or SIGTERM never arrives (and multiprocessing
# cannot stop its workers).
signal.pthread_sigmask(signal.SIG_SETMASK, [])

DEFAULT_DATA_SIZE_LIMIT = 10 * 1024 * 1024


def atomic_write(path, data):
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


class Spool:
    """The spool folder and the counters that survive a restart."""

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.sequence = 0
        for name in os.listdir(folder):
            stem, dot, extension = name.partition(".")
            if extension == "eml" and stem.isdigit():
                self.sequence = max(self.sequence, int(stem))
        self.connections = 0
        try:
            with open(self._path("connections.txt")) as handle:
                self.connections = int(handle.read().strip() or 0)
        except (OSError, ValueError):
            pass
        self.tempfails = {}
        self.deferred = sum(1 for name in os.listdir(folder) if name.startswith("deferred-") and name.endswith(".eml"))
        try:
            with open(self._path("tempfail.json")) as handle:
                self.tempfails = {str(k): int(v) for k, v in json.load(handle).items()}
        except (OSError, ValueError):
            pass
        # Unbuffered, O_APPEND: each line is one write(2), so a reader never sees half a line.
        self._envelopes = os.open(self._path("envelopes.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._refusals = os.open(self._path("refusals.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _path(self, name):
        return os.path.join(self.folder, name)

    def connection_opened(self):
        self.connections += 1
        atomic_write(self._path("connections.txt"), f"{self.connections}\n".encode())
        return self.connections

    def store(self, content, record):
        self.sequence += 1
        name = f"{self.sequence:08d}.eml"
        atomic_write(self._path(name), content)
        record = {"seq": self.sequence, "file": name, **record}
        os.write(self._envelopes, (json.dumps(record, ensure_ascii=False) + "\n").encode())
        return self.sequence

    def refused(self, rcpt, reply, session):
        line = json.dumps({"rcpt": rcpt, "reply": reply, "session": session}, ensure_ascii=False) + "\n"
        os.write(self._refusals, line.encode())

    def count_tempfail(self, address):
        self.tempfails[address] = self.tempfails.get(address, 0) + 1
        atomic_write(self._path("tempfail.json"), json.dumps(self.tempfails, sort_keys=True).encode())


class Handler:
    def __init__(self, options, spool):
        self.options = options
        self.spool = spool
        self.reject_prefix = options.reject_prefix.lower()
        self.tempfail_prefix = options.tempfail_prefix.lower()
        self.tempfail_data_prefix = (options.tempfail_data_prefix or "").lower()
        # Shutting down like a real MTA: no new transactions, and every message already being stored
        # gets its reply before the connection closes (otherwise a client could not know it arrived).
        self.shutting_down = False
        self.storing = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # With an EHLO hook aiosmtpd leaves recording the name to the hook.
        session.host_name = hostname
        if self.options.user is None:
            # No credentials configured: do not offer an AUTH nobody can pass.
            responses = [line for line in responses if not line[4:].upper().startswith("AUTH")]
        # aiosmtpd reads commands one line at a time from a buffered stream, so pipelined commands work;
        # it just does not say so.
        responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0].lower()
        if self.reject_prefix and local.startswith(self.reject_prefix):
            reply = "550 5.1.1 No such user here"
            self.spool.refused(address, reply, server.connection_number)
            return reply
        if self.tempfail_prefix and local.startswith(self.tempfail_prefix):
            key = address.lower()
            if self.spool.tempfails.get(key, 0) < self.options.tempfail_times:
                self.spool.count_tempfail(key)
                reply = "451 4.3.0 Try again later"
                self.spool.refused(address, reply, server.connection_number)
                return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.shutting_down:
            return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.shutting_down:
            return "421 4.3.2 Service shutting down"
        self.storing += 1
        try:
            deferred = self._deferred_data(envelope)
            if deferred:
                return deferred
            return self._store(server, session, envelope)
        finally:
            self.storing -= 1

    def _deferred_data(self, envelope):
        """451 after DATA for a --tempfail-data-prefix recipient, the first --tempfail-times times; the bytes are kept."""
        if not self.tempfail_data_prefix:
            return None
        for address in envelope.rcpt_tos:
            if not address.rsplit("@", 1)[0].lower().startswith(self.tempfail_data_prefix):
                continue
            key = "data:" + address.lower()
            if self.spool.tempfails.get(key, 0) >= self.options.tempfail_times:
                continue
            self.spool.count_tempfail(key)
            self.spool.deferred += 1
            atomic_write(self.spool._path(f"deferred-{self.spool.deferred}.eml"), envelope.original_content)
            return "451 4.3.0 Try again later"
        return None

    def _store(self, server, session, envelope):
        peer = session.peer
        if isinstance(peer, tuple):
            peer = f"{peer[0]}:{peer[1]}"
        sequence = self.spool.store(
            envelope.original_content,
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "peer": peer,
                "session": server.connection_number,
                "tls": server.uses_tls,
                "auth": bool(session.authenticated),
            },
        )
        return f"250 2.0.0 OK queued as {sequence}"


class TestSMTP(SMTP):
    """One connection. Numbers itself, and knows whether it runs over TLS (implicit or after STARTTLS)."""

    def __init__(self, *args, connection_number, implicit_tls, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection_number = connection_number
        self.implicit_tls = implicit_tls

    @property
    def uses_tls(self):
        return self.implicit_tls or self._tls_protocol is not None


def authenticator_for(user, password):
    expected = LoginPassword(user.encode(), password.encode())

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data == expected:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    return authenticate


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="aiosmtpd-based SMTP server for Herald's tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--spool", required=True, help="folder for <seq>.eml files and envelopes.jsonl")
    parser.add_argument("--hostname", default="localhost", help="name in the greeting and EHLO reply")
    parser.add_argument("--tempfail-prefix", default="tempfail")
    parser.add_argument("--tempfail-times", type=int, default=1)
    parser.add_argument("--tempfail-data-prefix", default="", help="answer DATA with 451 for these recipients (off when empty)")
    parser.add_argument("--reject-prefix", default="reject")
    parser.add_argument("--auth-required", action="store_true", help="MAIL/RCPT/DATA need AUTH first (530)")
    parser.add_argument("--user", help="the one accepted AUTH user (PLAIN and LOGIN)")
    parser.add_argument("--password")
    parser.add_argument("--allow-plain-auth", action="store_true", help="offer AUTH without TLS")
    parser.add_argument("--auth-exclude", action="append", default=[], metavar="MECHANISM",
                        help="do not offer this AUTH mechanism (PLAIN or LOGIN); repeatable")
    parser.add_argument("--starttls-cert")
    parser.add_argument("--starttls-key")
    parser.add_argument("--require-starttls", action="store_true", help="refuse MAIL etc. before STARTTLS (530)")
    parser.add_argument("--implicit-tls-cert")
    parser.add_argument("--implicit-tls-key")
    parser.add_argument("--data-size-limit", type=int, default=DEFAULT_DATA_SIZE_LIMIT, help="advertised as SIZE")
    parser.add_argument("--timeout", type=float, default=300, help="idle seconds before a connection is closed")
    parser.add_argument(
        "--no-exit-with-parent", dest="exit_with_parent", action="store_false", help="keep running when the parent process exits"
    )
    parser.add_argument("--verbose", action="store_true", help="log the SMTP conversation to stderr")
    options = parser.parse_args(argv)
    if (options.user is None) != (options.password is None):
        parser.error("--user and --password go together")
    if options.auth_required and options.user is None:
        parser.error("--auth-required needs --user and --password")
    if bool(options.starttls_cert) != bool(options.starttls_key):
        parser.error("--starttls-cert and --starttls-key go together")
    if bool(options.implicit_tls_cert) != bool(options.implicit_tls_key):
        parser.error("--implicit-tls-cert and --implicit-tls-key go together")
    if options.starttls_cert and options.implicit_tls_cert:
        parser.error("choose STARTTLS or implicit TLS, not both")
    if options.require_starttls and not options.starttls_cert:
        parser.error("--require-starttls needs --starttls-cert and --starttls-key")
    return options


async def serve(options):
    loop = asyncio.get_running_loop()
    spool = Spool(options.spool)
    handler = Handler(options, spool)
    starttls = tls_context(options.starttls_cert, options.starttls_key) if options.starttls_cert else None
    implicit = tls_context(options.implicit_tls_cert, options.implicit_tls_key) if options.implicit_tls_cert else None
    authenticator = authenticator_for(options.user, options.password) if options.user else None
    open_connections = weakref.WeakSet()

    def factory():
        protocol = TestSMTP(
            handler,
            connection_number=spool.connection_opened(),
            implicit_tls=implicit is not None,
            data_size_limit=options.data_size_limit or None,
            hostname=options.hostname,
            tls_context=starttls,
            require_starttls=options.require_starttls,
            timeout=options.timeout,
            auth_required=options.auth_required,
            # Inside implicit TLS the whole connection is encrypted; aiosmtpd only knows about STARTTLS.
            auth_require_tls=not (options.allow_plain_auth or implicit is not None),
            authenticator=authenticator,
            auth_exclude_mechanism=[m.upper() for m in options.auth_exclude],
            loop=loop,
        )
        open_connections.add(protocol)
        return protocol

    server = await loop.create_server(factory, host=options.host, port=options.port, ssl=implicit, reuse_address=True, backlog=128)
    port = server.sockets[0].getsockname()[1]

    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    async def watch_parent(parent):
        # A test run that dies without stopping us must not leave a server behind.
        while os.getppid() == parent:
            await asyncio.sleep(0.5)
        stop.set()

    if options.exit_with_parent:
        watchdog = loop.create_task(watch_parent(os.getppid()))  # noqa: F841 - kept alive until exit
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()

    await stop.wait()
    server.close()
    handler.shutting_down = True
    for _ in range(200):
        if handler.storing == 0:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # let replies already queued reach their transports
    for protocol in list(open_connections):
        transport = protocol.transport
        if transport is not None:
            transport.close()
    await asyncio.sleep(0)


def main(argv=None):
    options = parse_arguments(argv)
    logging.basicConfig(level=logging.DEBUG if options.verbose else logging.WARNING, stream=sys.stderr)
    if not options.verbose:
        # "auth_required without auth_require_tls" is what --allow-plain-auth asks for.
        warnings.simplefilter("ignore")
        logging.getLogger("mail.log").setLevel(logging.ERROR)
    try:
        asyncio.run(serve(options))
    except OSError as error:
        print(f"smtp_test_server: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
