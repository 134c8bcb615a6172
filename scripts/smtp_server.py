#!/usr/bin/env python3
"""A small SMTP server that keeps what it receives: the README demo's mail catcher and the tests'
real server (aiosmtpd, with optional STARTTLS or implicit TLS and AUTH PLAIN/LOGIN).

Every message it accepts is written to --maildir as N.eml (the octets after DATA, dot-unstuffed,
exactly as received) and N.json (the envelope). --fail-first N refuses the first N messages with
--fail-reply (451 by default; a 5xx makes it a permanent refusal). When it is listening it writes its port to
--ready-file, if given. --tls makes a self-signed certificate for 127.0.0.1/localhost and writes
it to <maildir>/../cert.pem so a client can trust it.
"""

import argparse
import asyncio
import datetime
import ipaddress
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def make_certificate(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "cert.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


class Handler:
    def __init__(self, maildir, drop_second_mail, hold_first, fail_first=0, fail_reply=""):
        self.maildir = maildir
        self.hold_first = hold_first
        self.count = 0
        self.fail_first = fail_first
        self.fail_reply = fail_reply
        self.refused = 0
        self.drop_second_mail = drop_second_mail
        self.mails_per_session = {}

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        seen = self.mails_per_session.get(id(session), 0)
        self.mails_per_session[id(session)] = seen + 1
        if self.drop_second_mail and seen >= 1:
            # Drop the kept-open connection without a reply, as a crashed or restarted server would.
            server.transport.abort()
            return "421 4.3.0 dropped"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.fail_first:
            # Refuse after DATA, as a greylisting or over-quota server does; nothing is kept.
            self.refused += 1
            return self.fail_reply
        if self.hold_first:
            # Only the first message: the ones arriving meanwhile are answered at once.
            hold, self.hold_first = self.hold_first, 0
            await asyncio.sleep(hold)
        self.count += 1
        base = os.path.join(self.maildir, f"{self.count:06d}")
        with open(base + ".json.tmp", "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "authenticated": session.authenticated,
                    "tls": server.transport.get_extra_info("ssl_object") is not None,
                },
                f,
            )
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".json.tmp", base + ".json")
        return f"250 2.0.0 Ok: queued as TEST{self.count:06d}"


def main():
    # A test runner may start us with SIGTERM blocked; make sure it ends us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--ready-file", help="file to write the port to once listening")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--auth", help="user:password; AUTH PLAIN/LOGIN then required")
    parser.add_argument("--mechanism", choices=["PLAIN", "LOGIN"], help="offer only this AUTH mechanism")
    parser.add_argument("--drop-second-mail", action="store_true")
    parser.add_argument(
        "--hold-first", type=float, default=0, help="seconds to wait before answering the first message"
    )
    parser.add_argument(
        "--fail-first", type=int, default=0, help="refuse the first N messages (after DATA) with --fail-reply"
    )
    parser.add_argument(
        "--fail-reply",
        default="451 4.3.0 Try again later",
        help="the reply for --fail-first: 4xx (transient) or 5xx (permanent), e.g. '550 5.7.1 Rejected'",
    )
    args = parser.parse_args()

    os.makedirs(args.maildir, exist_ok=True)
    handler = Handler(args.maildir, args.drop_second_mail, args.hold_first, args.fail_first, args.fail_reply)
    context = None
    if args.tls != "none":
        context = make_certificate(os.path.dirname(os.path.abspath(args.maildir)))

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or args.auth is None:
            return AuthResult(success=False, handled=False)
        user, password = args.auth.split(":", 1)
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    def factory():
        return SMTP(
            handler,
            hostname="aiosmtpd.test",
            tls_context=context if args.tls == "starttls" else None,
            require_starttls=args.tls == "starttls",
            authenticator=authenticator if args.auth else None,
            auth_required=bool(args.auth),
            # An implicit-TLS connection is encrypted from the start, which aiosmtpd does not see.
            auth_require_tls=args.tls == "starttls",
            auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if args.mechanism and m != args.mechanism],
        )

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            factory, args.host, args.port, ssl=context if args.tls == "implicit" else None
        )
        port = server.sockets[0].getsockname()[1]
        if args.ready_file:
            with open(args.ready_file + ".tmp", "w") as f:
                f.write(str(port))
            os.rename(args.ready_file + ".tmp", args.ready_file)
        print(f"smtp_server: listening on {args.host}:{port}, writing messages to {args.maildir}", flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
