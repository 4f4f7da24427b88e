"""Requests no stock gRPC client sends, on raw HTTP/2: framing edge cases and protocol errors."""
import socket
import struct

import grpc

from conftest import wait_until
from grpc_raw import SERVING, unary
from h2_raw import RawH2, frame, status_of

HEALTH = "/grpc.health.v1.Health/Check"
ECHO = "/vigil.diagnostic.Diagnostic/Echo"
OPEN_STREAMS = "/vigil.diagnostic.Diagnostic/OpenStreams"


def header(response, name):
    value = response["headers"].get(name.encode(), response["headers"].get(name))
    return value.decode() if isinstance(value, bytes) else value


def test_non_grpc_content_type_is_http_415(vigil):
    client = RawH2(vigil.address)
    response = client.call(HEALTH, [frame(b"")], content_type="application/json")
    assert header(response, ":status") == "415"
    client.close()


def test_zero_length_message_is_a_valid_request(vigil):
    client = RawH2(vigil.address)
    response = client.call(HEALTH, [frame(b"")])
    assert header(response, ":status") == "200"
    assert response["data"] == frame(SERVING)
    assert status_of(response) == (0, "")
    client.close()


def test_message_split_over_many_data_frames(vigil):
    client = RawH2(vigil.address)
    body = frame(b"\x0a\x00")  # service "" spelled out explicitly
    response = client.call(HEALTH, [body[i:i + 1] for i in range(len(body))])
    assert response["data"] == frame(SERVING)
    assert status_of(response) == (0, "")
    client.close()


def test_several_messages_in_one_data_frame(vigil):
    client = RawH2(vigil.address)
    messages = [b"one", b"", b"three" * 100, b"4"]
    response = client.call(ECHO, [b"".join(frame(m) for m in messages)])
    assert response["data"] == b"".join(frame(m) for m in messages)
    assert status_of(response) == (0, "")
    client.close()


def test_compressed_flag_without_encoding_is_internal(vigil):
    client = RawH2(vigil.address)
    response = client.call(HEALTH, [frame(b"", compressed=True)])
    code, message = status_of(response)
    assert code == 13
    assert "compressed flag" in message
    client.close()


def test_compressed_flag_with_unsupported_encoding_is_unimplemented(vigil):
    client = RawH2(vigil.address)
    response = client.call(HEALTH, [frame(b"", compressed=True)], extra=[("grpc-encoding", "gzip")])
    assert status_of(response)[0] == 12
    client.close()


def test_request_ending_inside_a_message_is_internal(vigil):
    client = RawH2(vigil.address)
    response = client.call(HEALTH, [frame(b"abc")[:6]])
    assert status_of(response)[0] == 13
    client.close()


def test_unary_call_with_two_messages_answers_the_first_like_grpc_go(vigil):
    client = RawH2(vigil.address)
    response = client.call(HEALTH, [frame(b"") + frame(b"\x0a\x03abc")])
    assert response["data"] == frame(SERVING)
    assert status_of(response) == (0, "")
    client.close()


def test_unary_call_without_a_message_is_internal(vigil):
    client = RawH2(vigil.address)
    stream_id = client.request(HEALTH, end_stream=True)
    client.pump_until(client.finished(stream_id))
    assert status_of(client.responses[stream_id])[0] == 13
    client.close()


def test_errors_are_trailers_only_with_percent_encoded_message(vigil):
    client = RawH2(vigil.address)
    response = client.call("/no.such.Service/Méthod%", [frame(b"")])
    # Trailers-only: status in the one HEADERS frame, no DATA.
    assert header(response, ":status") == "200"
    assert header(response, "grpc-status") == "12"
    assert response["data"] == b""
    raw = response["trailers"].get(b"grpc-message", response["trailers"].get("grpc-message"))
    raw = raw.decode() if isinstance(raw, bytes) else raw
    assert raw == "unknown service no.such.Service"
    response = client.call("/grpc.health.v1.Health/Ch%C3%A9ck\u00e9", [frame(b"")])
    raw = response["trailers"].get(b"grpc-message", response["trailers"].get("grpc-message"))
    raw = raw.decode() if isinstance(raw, bytes) else raw
    assert "%25C3%25A9" in raw and "%C3%A9" in raw
    client.close()


def test_malformed_grpc_timeout_is_rejected(vigil):
    client = RawH2(vigil.address)
    response = client.call(HEALTH, [frame(b"")], extra=[("grpc-timeout", "soon")])
    assert status_of(response)[0] == 13
    client.close()


def test_client_reset_frees_the_stream_and_keeps_the_connection(vigil):
    client = RawH2(vigil.address)
    with grpc.insecure_channel(vigil.address) as probe:
        baseline = int(unary(probe, OPEN_STREAMS)(b"", timeout=10))
        stream_id = client.request(ECHO)
        client.send(stream_id, frame(b"hi"))
        client.pump_until(lambda: client.responses[stream_id]["data"] == frame(b"hi"))
        assert int(unary(probe, OPEN_STREAMS)(b"", timeout=10)) == baseline + 1
        client.reset(stream_id)
        wait_until(lambda: int(unary(probe, OPEN_STREAMS)(b"", timeout=10)) == baseline,
                   what="the reset stream to be released")
    response = client.call(HEALTH, [frame(b"")])
    assert response["data"] == frame(SERVING)
    client.close()


def test_garbage_closes_only_that_connection(vigil):
    with grpc.insecure_channel(vigil.address) as channel:
        assert unary(channel, HEALTH)(b"", timeout=10) == SERVING
        bad = socket.create_connection(("127.0.0.1", vigil.port), timeout=10)
        # Neither the HTTP/2 preface nor an HTTP/1 request line (those get HTTP/1 answers: test_http_endpoints).
        bad.sendall(b"\x16\x03\x01\x00\xa5" + b"\x00" * 100)
        received = b""
        while True:
            chunk = bad.recv(65536)
            if not chunk:
                break
            received += chunk
        bad.close()
        # A valid HTTP/2 connection on the same server is unaffected.
        assert unary(channel, HEALTH)(b"", timeout=10) == SERVING


def test_malformed_frame_after_preface_gets_goaway(vigil):
    sock = socket.create_connection(("127.0.0.1", vigil.port), timeout=10)
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    # A DATA frame on stream 0 is a connection error: the server answers with GOAWAY (type 7) and closes.
    sock.sendall(b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x")
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    sock.close()
    types = []
    i = 0
    while i + 9 <= len(received):
        length = int.from_bytes(received[i:i + 3], "big")
        types.append(received[i + 3])
        i += 9 + length
    assert 7 in types


def _frames(data):
    """(type, flags, payload) of every whole frame in `data`."""
    frames, i = [], 0
    while i + 9 <= len(data):
        length = int.from_bytes(data[i:i + 3], "big")
        if i + 9 + length > len(data):
            break
        frames.append((data[i + 3], data[i + 4], data[i + 9:i + 9 + length]))
        i += 9 + length
    return frames


def _ping(payload, ack=False):
    return struct.pack(">I", 8)[1:] + bytes([6, 1 if ack else 0]) + b"\x00\x00\x00\x00" + payload


def test_ping_is_acknowledged_with_its_payload(vigil):
    # Held for other output to travel with (at most a few milliseconds), then sent on its own.
    sock = socket.create_connection(("127.0.0.1", vigil.port), timeout=10)
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + _ping(b"vigil-42"))
    received = b""
    while not any(t == 6 and f & 1 for t, f, _ in _frames(received)):
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the PING was acknowledged"
        received += chunk
    sock.close()
    assert [p for t, f, p in _frames(received) if t == 6 and f & 1] == [b"vigil-42"]


def test_ping_flood_closes_only_that_connection(vigil):
    with grpc.insecure_channel(vigil.address) as channel:
        assert unary(channel, HEALTH)(b"", timeout=10) == SERVING
        sock = socket.create_connection(("127.0.0.1", vigil.port), timeout=10)
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        closed = False
        try:
            for _ in range(100):
                sock.sendall(b"".join(_ping(struct.pack(">Q", n)) for n in range(1000)))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        while not closed:
            try:
                closed = not sock.recv(65536)
            except ConnectionResetError:
                closed = True
        sock.close()
        assert unary(channel, HEALTH)(b"", timeout=10) == SERVING


def test_an_authority_that_is_a_url_is_accepted(vigil):
    """etcd's Go client puts the endpoint URL in :authority when it dials one member (etcdctl endpoint status,
    defrag); grpc-go accepts it, so Vigil does."""
    client = RawH2(vigil.address)
    response = client.call(HEALTH, [frame(b"")], authority=f"http://{vigil.address}")
    assert status_of(response) == (0, "") and response["data"] == frame(SERVING)
    client.close()


def test_malformed_header_blocks_reset_only_their_stream(vigil):
    """RFC 9113 §8.2–8.3: a malformed request head, or trailers with a pseudo-header, get RST_STREAM(PROTOCOL_ERROR);
    the connection and its other calls go on."""
    client = RawH2(vigil.address, validate=False)
    base = [(":method", "POST"), (":scheme", "http"), (":path", ECHO), (":authority", "vigil"),
            ("content-type", "application/grpc")]
    malformed = [
        base + [("Upper-Case", "1")],
        base + [("connection", "close")],
        base + [("te", "gzip")],
        base + [("x-bad", "a\x00b")],
        base + [(":path", "/again")],
        base[1:],  # no :method
        [("content-type", "application/grpc")] + base[:4],  # a regular field before the pseudo-headers
    ]
    # A call that runs throughout, on the same connection.
    running = client.request(ECHO)
    client.send(running, frame(b"before"))
    client.pump_until(lambda: client.responses[running]["data"] == frame(b"before"))
    for headers in malformed:
        stream_id = client.request_with_headers(headers)
        client.pump_until(lambda: client.responses[stream_id]["reset"] is not None)
        assert client.responses[stream_id]["reset"] == 1, headers  # PROTOCOL_ERROR
        assert client.responses[stream_id]["headers"] is None
    # Trailers from the client may not carry pseudo-headers.
    stream_id = client.request(ECHO)
    client.send(stream_id, frame(b"x"))
    client.send_trailers(stream_id, [(":path", "/late")])
    client.pump_until(lambda: client.responses[stream_id]["reset"] is not None)
    assert client.responses[stream_id]["reset"] == 1
    # The running call and new ones are unaffected.
    client.send(running, frame(b"after"), end_stream=True)
    client.pump_until(client.finished(running))
    assert client.responses[running]["data"] == frame(b"before") + frame(b"after")
    assert status_of(client.call(HEALTH, [frame(b"")])) == (0, "")
    client.close()
