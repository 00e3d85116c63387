"""last_byte_burst against small servers started here on 127.0.0.1: well-behaved, misbehaving, TLS, Flask.

No test asserts a timing bound on the burst itself (loaded CI machines vary); timeouts are checked only
with generous margins.
"""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask, jsonify
from werkzeug.serving import make_server

from plumbline.lab.arrivals import HEADER, ArrivalLog, install
from plumbline.probe.burst import BurstResult, PreparedRequest, last_byte_burst


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with a JSON description of it; the body is echoed verbatim under /raw."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/raw"):
            payload, kind = body, "application/octet-stream"
        else:
            payload = json.dumps({
                "method": self.command,
                "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": body.decode("latin-1"),
            }).encode()
            kind = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Echo-Path", self.path)
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's default listen backlog of 5 resets parts of a 25-connection burst


@contextmanager
def http_server(handler=EchoHandler, tls: ssl.SSLContext | None = None):
    server = Server(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        scheme = "https" if tls else "http"
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextmanager
def raw_server(on_connection):
    """A listening socket whose every accepted connection is handed to `on_connection(conn)` on its own thread."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    listener.settimeout(0.2)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            accepted.append(conn)
            threading.Thread(target=on_connection, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(10)
        for conn in accepted:
            conn.close()
        listener.close()


def read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def get(url: str, **headers: str) -> PreparedRequest:
    return PreparedRequest("GET", url, headers)


def test_responses_come_back_in_request_order_with_bodies_and_headers():
    with http_server() as base:
        requests = [get(f"{base}/item/{index}?q={index}", **{"X-Index": str(index)}) for index in range(25)]
        result = last_byte_burst(requests, timeout=10)
    assert isinstance(result, BurstResult)
    assert result.technique == "last-byte-sync"
    assert len(result.responses) == 25
    for index, response in enumerate(result.responses):
        assert response.error is None, response.error
        assert response.status == 200
        assert response.headers["x-echo-path"] == f"/item/{index}?q={index}"
        assert response.headers["content-type"] == "application/json"
        assert response.headers["set-cookie"] == "a=1, b=2"
        assert all(name == name.lower() for name in response.headers)
        echoed = json.loads(response.body)
        assert echoed["method"] == "GET"
        assert echoed["path"] == f"/item/{index}?q={index}"
        assert echoed["headers"]["x-index"] == str(index)
        assert echoed["headers"]["host"] == base.removeprefix("http://")
        assert response.elapsed_ms >= 0.0


def test_send_spread_is_measured():
    with http_server() as base:
        result = last_byte_burst([get(f"{base}/")] * 10, timeout=10)
    assert isinstance(result.send_spread_ms, float)
    assert result.send_spread_ms >= 0.0


def test_post_bodies_are_delivered_intact():
    bodies = [bytes(range(256)) * 4, b"", b"x", json.dumps({"amount": 100}).encode(), bytes(300_000)]
    with http_server() as base:
        requests = [PreparedRequest("POST", f"{base}/raw/{index}", {"Content-Type": "application/octet-stream"}, body)
                    for index, body in enumerate(bodies)]
        result = last_byte_burst(requests, timeout=10)
    for body, response in zip(bodies, result.responses):
        assert response.error is None, response.error
        assert response.status == 200
        assert response.body == body


def test_host_content_length_and_connection_are_added_and_given_headers_kept():
    captured: list[bytes] = []

    def capture(conn: socket.socket) -> None:
        data = read_head(conn)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0)
        while len(body) < length:
            body += conn.recv(65536)
        captured.append(data if not length else head + b"\r\n\r\n" + body)
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    with raw_server(capture) as base:
        port = base.rsplit(":", 1)[1]
        result = last_byte_burst([
            PreparedRequest("POST", f"{base}/a", {"Content-Type": "application/json"}, b'{"k": 1}'),
            PreparedRequest("POST", f"{base}/empty", {}),
            PreparedRequest("GET", f"{base}/b", {"Host": "example.test", "Connection": "close"}),
        ], timeout=10)
    assert [response.status for response in result.responses] == [204, 204, 204]
    by_path = {raw.split(b" ")[1]: raw.lower() for raw in captured}
    assert by_path[b"/a"].startswith(b"post /a http/1.1\r\n")
    assert f"host: 127.0.0.1:{port}\r\n".encode() in by_path[b"/a"]
    assert b"content-length: 8\r\n" in by_path[b"/a"]
    assert b"connection: keep-alive\r\n" in by_path[b"/a"]
    assert by_path[b"/a"].endswith(b'\r\n\r\n{"k": 1}')
    assert b"content-length: 0\r\n" in by_path[b"/empty"]
    assert b"host: example.test\r\n" in by_path[b"/b"]
    assert b"connection: close\r\n" in by_path[b"/b"] and b"keep-alive" not in by_path[b"/b"]
    assert b"content-length" not in by_path[b"/b"]


def test_a_server_that_closes_the_connection_gives_an_error_not_an_exception():
    def slam(conn: socket.socket) -> None:
        read_head(conn)
        conn.close()

    with raw_server(slam) as base:
        result = last_byte_burst([get(f"{base}/")] * 5, timeout=10)
    for response in result.responses:
        assert response.status is None
        assert response.error and ("closed" in response.error or "reset" in response.error), response.error


def test_a_response_cut_short_keeps_its_head_and_reports_the_error():
    def half(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        conn.close()

    with raw_server(half) as base:
        (response,) = last_byte_burst([get(f"{base}/")], timeout=10).responses
    assert response.status == 200
    assert response.body == b"only part"
    assert response.error == "connection closed by the server before the response was complete"


def test_a_response_delimited_by_close_is_read_to_the_end():
    def old_style(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        conn.close()

    with raw_server(old_style) as base:
        (response,) = last_byte_burst([get(f"{base}/")], timeout=10).responses
    assert response.error is None
    assert (response.status, response.body) == (200, b"until the end")


def test_garbage_instead_of_http_is_an_error():
    def garbage(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(b"\x00\x01 not http at all\r\n\r\n")
        conn.close()

    with raw_server(garbage) as base:
        (response,) = last_byte_burst([get(f"{base}/")], timeout=10).responses
    assert response.status is None
    assert response.error


def test_a_server_that_never_answers_times_out_within_the_timeout():
    def silent(conn: socket.socket) -> None:
        read_head(conn)
        time.sleep(30)

    with raw_server(silent) as base, http_server() as good:
        started = time.monotonic()
        result = last_byte_burst([get(f"{base}/"), get(f"{good}/ok"), get(f"{base}/")], timeout=0.5)
        took = time.monotonic() - started
    assert took < 10  # 0.5 s asked; a generous margin for slow machines
    silent_one, ok, silent_two = result.responses
    for response in (silent_one, silent_two):
        assert response.status is None
        assert response.error == "timed out after 0.5 s waiting for a response"
    assert ok.error is None and ok.status == 200


def test_a_refused_connection_is_an_error_and_the_others_still_run():
    unused = socket.socket()
    unused.bind(("127.0.0.1", 0))
    port = unused.getsockname()[1]
    unused.close()  # nothing listens there now
    with http_server() as base:
        result = last_byte_burst([get(f"{base}/first"), get(f"http://127.0.0.1:{port}/"), get(f"{base}/last")], timeout=10)
    first, refused, last = result.responses
    assert refused.status is None and refused.error == "connection refused"
    assert json.loads(first.body)["path"] == "/first"
    assert json.loads(last.body)["path"] == "/last"


def test_an_empty_burst():
    result = last_byte_burst([])
    assert result.responses == [] and result.send_spread_ms == 0.0


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "/relative", "127.0.0.1:80/x", "http:///nohost", "http://u:p@127.0.0.1/"])
def test_invalid_urls_raise_value_error(url):
    with pytest.raises(ValueError):
        last_byte_burst([get(url)])


def test_invalid_input_raises_before_anything_is_sent():
    with pytest.raises(ValueError):
        last_byte_burst([PreparedRequest("GET", "http://127.0.0.1:1/", {"Bad\nName": "x"})])
    with pytest.raises(ValueError):
        last_byte_burst([PreparedRequest("POST", "http://127.0.0.1:1/", {"Content-Length": "5"}, b"abc")])
    with pytest.raises(ValueError):
        last_byte_burst([get("http://127.0.0.1:1/")], timeout=0)


@pytest.fixture(scope="module")
def self_signed():
    """A server TLS context with a self-signed certificate for 127.0.0.1."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import ipaddress
    import tempfile
    from pathlib import Path

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
    return context


def test_https_without_verification(self_signed):
    with http_server(tls=self_signed) as base:
        requests = [PreparedRequest("POST", f"{base}/raw/{index}", {}, f"secret {index}".encode()) for index in range(5)]
        result = last_byte_burst(requests, timeout=10, verify=False)
    for index, response in enumerate(result.responses):
        assert response.error is None, response.error
        assert (response.status, response.body) == (200, f"secret {index}".encode())


def test_https_verifies_certificates_by_default(self_signed):
    with http_server(tls=self_signed) as base:
        (response,) = last_byte_burst([get(f"{base}/")], timeout=10).responses
    assert response.status is None
    assert response.error.startswith("TLS certificate not trusted")


def test_arrivals_are_recorded_per_burst_and_served():
    app = Flask("arrivals-test")

    @app.get("/work")
    def work():
        return jsonify(ok=True)

    install(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        result = last_byte_burst([get(f"{base}/work", **{HEADER: "burst-1"})] * 8 + [get(f"{base}/work")], timeout=10)
        assert [response.status for response in result.responses] == [200] * 9
        (served,) = last_byte_burst([get(f"{base}/_lab/arrivals/burst-1", **{HEADER: "burst-1"})], timeout=10).responses
        document = json.loads(served.body)
        assert document["burst"] == "burst-1"
        assert len(document["arrivals_ns"]) == 8  # the untagged request and the query itself are not counted
        assert document["arrivals_ns"] == sorted(document["arrivals_ns"])
        (unknown,) = last_byte_burst([get(f"{base}/_lab/arrivals/never")], timeout=10).responses
        assert json.loads(unknown.body) == {"burst": "never", "arrivals_ns": []}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_arrival_log_keeps_the_most_recent_bursts_only():
    log = ArrivalLog(max_bursts=3, max_arrivals=2)
    for index in range(5):
        log.record(f"b{index}", index)
    log.record("b4", 40)
    log.record("b4", 41)
    assert len(log) == 3
    assert log.get("b0") == [] and log.get("b1") == []
    assert log.get("b4") == [4, 40]


def test_without_libc_send_the_socket_send_is_used(monkeypatch):
    import plumbline.probe.burst as burst

    monkeypatch.setattr(burst, "_RAW_SEND", None)
    with http_server() as base:
        result = last_byte_burst([PreparedRequest("POST", f"{base}/raw", {}, b"via socket.send")] * 3, timeout=10)
    assert [(response.status, response.body) for response in result.responses] == [(200, b"via socket.send")] * 3
    assert result.send_spread_ms >= 0.0
