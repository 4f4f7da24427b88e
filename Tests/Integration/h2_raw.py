"""A tiny HTTP/2 client on the `h2` library, for requests no gRPC client would send (wrong content-type, split or
packed DATA frames, the compressed flag, resets, garbage)."""
import socket
import struct

import h2.config
import h2.connection
import h2.events


def frame(message, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(message)) + message


class RawH2:
    def __init__(self, address, timeout=10, validate=True):
        """`validate=False` lets requests carry header fields that HTTP/2 forbids, as they are given."""
        host, port = address.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        config = h2.config.H2Configuration(client_side=True, validate_outbound_headers=validate,
                                           normalize_outbound_headers=validate)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.flush()
        self.responses = {}

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path, content_type="application/grpc", extra=(), end_stream=False, authority="vigil"):
        headers = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", authority),
                   ("content-type", content_type), ("te", "trailers"), *extra]
        return self.request_with_headers(headers, end_stream=end_stream)

    def request_with_headers(self, headers, end_stream=False):
        """Opens a stream with exactly these header fields, in this order."""
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, headers, end_stream=end_stream)
        self.flush()
        self.responses[stream_id] = {"headers": None, "data": b"", "trailers": None, "reset": None}
        return stream_id

    def send_trailers(self, stream_id, headers):
        self.conn.send_headers(stream_id, headers, end_stream=True)
        self.flush()

    def send(self, stream_id, data, end_stream=False):
        self.conn.send_data(stream_id, data, end_stream=end_stream)
        self.flush()

    def reset(self, stream_id, code=8):
        self.conn.reset_stream(stream_id, error_code=code)
        self.flush()

    def pump_until(self, done, limit=200):
        """Reads and handles events until `done()` is true."""
        for _ in range(limit):
            if done():
                return
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            for event in self.conn.receive_data(data):
                self.handle(event)
            self.flush()
        raise AssertionError("no answer")

    def handle(self, event):
        if isinstance(event, h2.events.ResponseReceived):
            self.responses[event.stream_id]["headers"] = dict(event.headers)
            if event.stream_ended:
                self.responses[event.stream_id]["trailers"] = dict(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self.responses[event.stream_id]["data"] += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            self.responses[event.stream_id]["trailers"] = dict(event.headers)
        elif isinstance(event, h2.events.StreamReset):
            if event.stream_id in self.responses:
                self.responses[event.stream_id]["reset"] = event.error_code
        elif isinstance(event, h2.events.StreamEnded):
            pass

    def finished(self, stream_id):
        return lambda: self.responses[stream_id]["trailers"] is not None

    def call(self, path, body_chunks, **kwargs):
        """Sends a request with the given DATA chunks (the last ends the stream) and returns the response."""
        stream_id = self.request(path, **kwargs)
        for i, chunk in enumerate(body_chunks):
            self.send(stream_id, chunk, end_stream=(i == len(body_chunks) - 1))
        self.pump_until(self.finished(stream_id))
        return self.responses[stream_id]

    def close(self):
        self.sock.close()


def status_of(response):
    trailers = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
                for k, v in response["trailers"].items()}
    return int(trailers["grpc-status"]), trailers.get("grpc-message", "")
