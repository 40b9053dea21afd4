"""Webhooks over https (#22): Relais connects to the address it checked (no second DNS lookup) while TLS still
checks the certificate against the URL's host name (SNI) and Host names it; an untrusted certificate, a redirect
or a slow receiver is a failure, never followed or waited for."""

from __future__ import annotations

import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.domain import webhooks


def _certificate(tmp_path, name: str = "localhost") -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class _Seen:
    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        self.answer = (200, {})
        self.delay = 0.0


@pytest.fixture
def tls_server(tmp_path):
    cert, key = _certificate(tmp_path)
    seen = _Seen()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.requests.append((self.path, dict(self.headers.items())))
            time.sleep(seen.delay)
            status, headers = seen.answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert, seen
    server.shutdown()
    server.server_close()


def _post(url: str, settings: webhooks.Settings) -> webhooks.Answer:
    address = webhooks.check_url(url, settings)
    return webhooks.post(url, address, b"{}", {"Content-Type": "application/json"}, settings)


def test_the_checked_address_is_used_with_the_host_s_name_for_tls_and_host(tls_server):
    port, cert, seen = tls_server
    settings = webhooks.Settings(allow_private=True, ca_certs=cert)
    answer = _post(f"https://localhost:{port}/recevoir?x=1", settings)
    assert answer.status == 200 and answer.body == "ok" and answer.error is None
    [(path, headers)] = seen.requests
    assert path == "/recevoir?x=1" and headers["Host"] == f"localhost:{port}"


def test_an_untrusted_certificate_or_another_name_is_refused(tls_server):
    port, cert, seen = tls_server
    assert _post(f"https://localhost:{port}/", webhooks.Settings(allow_private=True)).error == "tls"
    # The address is right, the name is not the certificate's: refused too.
    answer = webhooks.post(f"https://relais-test.invalid:{port}/", "127.0.0.1", b"{}", {},
                           webhooks.Settings(allow_private=True, ca_certs=cert))
    assert answer.error == "tls" and seen.requests == []


def test_a_redirect_is_not_followed_and_a_slow_receiver_is_not_waited_for(tls_server):
    port, cert, seen = tls_server
    settings = webhooks.Settings(allow_private=True, ca_certs=cert, read_timeout=0.5)
    seen.answer = (307, {"Location": "http://169.254.169.254/latest/meta-data/"})
    answer = _post(f"https://localhost:{port}/", settings)
    assert answer.status == 307 and not answer.ok and len(seen.requests) == 1
    seen.answer, seen.delay = (200, {}), 1.5
    started = time.monotonic()
    assert _post(f"https://localhost:{port}/", settings).error == "timeout"
    assert time.monotonic() - started < 1.4
