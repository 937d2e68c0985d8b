"""The real server, through raw sockets: a request's head is bounded in size, each request is
read whole within a deadline, and a body framed two ways is refused."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_serve import Served

DEADLINE = 1.0  # PROTECTION_ORDERS_HTTP_REQUEST_SECONDS in these tests
MARGIN = 3.0  # a loaded machine; a connection never cut still fails


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    served = Served(tmp_path, "--only", "api", "--port", "0", http_request_seconds=str(DEADLINE))
    try:
        yield served.port()
    finally:
        served.process.kill()
        served.process.wait()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=DEADLINE + MARGIN)


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def status(received: bytes) -> int:
    return int(received.split(b" ", 2)[1]) if received else 0


def test_a_request_head_over_16_kib_is_431_and_the_connection_closed(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 20_000 + b"\r\n\r\n"
        )
        assert status(answer(sock)) == 431


def test_a_head_sent_a_byte_at_a_time_is_cut_after_the_deadline(port: int) -> None:
    with connect(port) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        received = b""
        try:
            while time.monotonic() - started < DEADLINE + MARGIN:
                sock.sendall(b"X")  # a header that never ends
                sock.settimeout(0.2)
                try:
                    received = sock.recv(65536)
                except TimeoutError:
                    continue
                break
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert time.monotonic() - started < DEADLINE + MARGIN
        assert status(received) == 408


def test_a_connection_that_says_nothing_is_closed_after_the_deadline(port: int) -> None:
    with connect(port) as sock:
        started = time.monotonic()
        received = answer(sock)
        assert time.monotonic() - started < DEADLINE + MARGIN
        assert status(received) == 408


def test_a_body_that_never_arrives_whole_is_cut_after_the_deadline(port: int) -> None:
    with connect(port) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        answer(sock)  # whatever was answered, the connection is closed
        assert time.monotonic() - started < DEADLINE + MARGIN


def test_content_length_with_transfer_encoding_is_400_and_the_connection_closed(
    port: int,
) -> None:
    with connect(port) as sock:
        sock.sendall(
            b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        )
        received = answer(sock)
        assert status(received) == 400
        assert b"ConflictingFraming" in received


def test_a_well_formed_client_keeps_its_connection_for_several_requests(port: int) -> None:
    with connect(port) as sock:
        for _ in range(3):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while b"}" not in received:  # the health answer is one JSON object
                received += sock.recv(65536)
            assert status(received) == 200
            time.sleep(DEADLINE / 2)  # slow between requests, within the keep-alive


def test_past_the_connection_limit_a_request_is_503(tmp_path: Path) -> None:
    served = Served(tmp_path, "--only", "api", "--port", "0", http_max_connections="2")
    try:
        port = served.port()
        with connect(port), connect(port), connect(port) as third:
            time.sleep(0.2)  # the server has counted all three
            third.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert status(answer(third)) == 503
        with connect(port) as alone:
            alone.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert status(answer(alone)) == 200
    finally:
        served.process.kill()
        served.process.wait()
