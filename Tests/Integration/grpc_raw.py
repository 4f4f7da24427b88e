"""Helpers to call Vigil with the stock grpcio client, using identity serializers (raw bytes)."""
import grpc


def identity(b):
    return b


def unary(channel, path):
    return channel.unary_unary(path, request_serializer=identity, response_deserializer=identity)


def stream_stream(channel, path):
    return channel.stream_stream(path, request_serializer=identity, response_deserializer=identity)


def health_request(service=""):
    """grpc.health.v1.HealthCheckRequest, hand-encoded: field 1 (string)."""
    data = service.encode()
    if not data:
        return b""
    assert len(data) < 128
    return b"\x0a" + bytes([len(data)]) + data


SERVING = b"\x08\x01"
