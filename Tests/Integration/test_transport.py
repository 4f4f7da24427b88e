"""The gRPC layer, driven by the stock grpcio client: health, error statuses, deadlines, cancellation, concurrency
and graceful shutdown."""
import concurrent.futures
import os
import signal
import socket
import time

import grpc
import pytest

from conftest import VigilProcess, wait_until
from grpc_raw import SERVING, health_request, stream_stream, unary
from kv_client import KVClient

HEALTH = "/grpc.health.v1.Health/Check"
SLEEP = "/vigil.diagnostic.Diagnostic/Sleep"
ECHO = "/vigil.diagnostic.Diagnostic/Echo"
OPEN_STREAMS = "/vigil.diagnostic.Diagnostic/OpenStreams"
SLEEPING = "/vigil.diagnostic.Diagnostic/SleepingCalls"


def open_streams(channel):
    return int(unary(channel, OPEN_STREAMS)(b"", timeout=10))


def test_health_check_serving_with_generated_stubs(vigil, protos):
    pb = protos.health_pb2
    with grpc.insecure_channel(vigil.address) as channel:
        check = channel.unary_unary(HEALTH, request_serializer=pb.HealthCheckRequest.SerializeToString,
                                    response_deserializer=pb.HealthCheckResponse.FromString)
        response = check(pb.HealthCheckRequest(service=""), timeout=10)
        assert response.status == pb.HealthCheckResponse.SERVING


def test_health_check_unknown_service_is_not_found(vigil):
    with grpc.insecure_channel(vigil.address) as channel:
        with pytest.raises(grpc.RpcError) as error:
            unary(channel, HEALTH)(health_request("no.such.Service"), timeout=10)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        assert error.value.details() == "unknown service"


def health_watch(address, protos):
    """Health/Watch for three services: each stream's first status, read before the client cancels it."""
    pb = protos.health_pb2
    statuses = []
    with grpc.insecure_channel(address) as channel:
        watch = channel.unary_stream("/grpc.health.v1.Health/Watch",
                                     request_serializer=pb.HealthCheckRequest.SerializeToString,
                                     response_deserializer=pb.HealthCheckResponse.FromString)
        for service in ("", "etcdserverpb.KV", "no.such.Service"):
            stream = watch(pb.HealthCheckRequest(service=service), timeout=30)
            statuses.append(next(stream).status)
            stream.cancel()
    return statuses


def test_health_watch_sends_the_status_and_stays_open_as_etcd(vigil, etcd, protos):
    pb = protos.health_pb2
    statuses = health_watch(vigil.address, protos)
    assert statuses == health_watch(etcd.address, protos)
    assert statuses == [pb.HealthCheckResponse.SERVING, pb.HealthCheckResponse.SERVICE_UNKNOWN,
                        pb.HealthCheckResponse.SERVICE_UNKNOWN]


def test_unknown_method_and_service_are_unimplemented(vigil):
    with grpc.insecure_channel(vigil.address) as channel:
        with pytest.raises(grpc.RpcError) as error:
            unary(channel, "/grpc.health.v1.Health/Nope")(b"", timeout=10)
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert error.value.details() == "unknown method Nope for service grpc.health.v1.Health"
        with pytest.raises(grpc.RpcError) as error:
            unary(channel, "/etcdserverpb.Nothing/Range")(b"", timeout=10)
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert error.value.details() == "unknown service etcdserverpb.Nothing"
        # The connection is still good.
        assert unary(channel, HEALTH)(b"", timeout=10) == SERVING


def test_oversized_message_is_resource_exhausted_and_connection_survives(vigil):
    options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(vigil.address, options=options) as channel:
        stream = stream_stream(channel, ECHO)(iter([b"x" * 10]), timeout=30)
        first = next(stream)
        assert first == b"x" * 10
        with pytest.raises(grpc.RpcError) as error:
            unary(channel, SLEEP)(b"0" * (3 * 1024 * 1024), timeout=30)
        assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "larger than max" in error.value.details()
        # A message just under the limit (2 MiB default) is accepted on the same connection.
        big = b"0" * (2 * 1024 * 1024 - 16)
        assert unary(channel, SLEEP)(big, timeout=30) == big
        assert unary(channel, HEALTH)(b"", timeout=10) == SERVING


def test_max_request_bytes_flag_sets_the_limit():
    server = VigilProcess(extra_args=["--max-request-bytes", "1000"])
    try:
        with grpc.insecure_channel(server.address) as channel:
            # limit = max-request-bytes + 512 KiB, as etcd's gRPC server sets it
            ok = b"0" * (1000 + 512 * 1024)
            assert unary(channel, SLEEP)(ok, timeout=30) == ok
            with pytest.raises(grpc.RpcError) as error:
                unary(channel, SLEEP)(ok + b"0", timeout=30)
            assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        assert server.terminate() == 0


def test_deadline_exceeded(vigil):
    with grpc.insecure_channel(vigil.address) as channel:
        with pytest.raises(grpc.RpcError) as error:
            unary(channel, SLEEP)(b"5000", timeout=0.3)
        assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert unary(channel, SLEEP)(b"10", timeout=10) == b"10"


def test_cancel_mid_stream_frees_the_handler(vigil):
    with grpc.insecure_channel(vigil.address) as channel:
        baseline = open_streams(channel)
        requests = iter_until_closed()
        call = stream_stream(channel, ECHO)(requests)
        requests.put(b"hello")
        assert next(call) == b"hello"
        assert open_streams(channel) == baseline + 1
        call.cancel()
        requests.close()
        wait_until(lambda: open_streams(channel) == baseline, what="the cancelled stream to be released")
        assert unary(channel, HEALTH)(b"", timeout=10) == SERVING


def test_disconnect_frees_every_stream(vigil):
    with grpc.insecure_channel(vigil.address) as probe:
        baseline = open_streams(probe)
        channel = grpc.insecure_channel(vigil.address)
        queues = []
        calls = []
        for i in range(20):
            q = iter_until_closed()
            calls.append(stream_stream(channel, ECHO)(q))
            queues.append(q)
            q.put(b"%d" % i)
        for i, call in enumerate(calls):
            assert next(call) == b"%d" % i
        assert open_streams(probe) == baseline + 20
        channel.close()
        for q in queues:
            q.close()
        wait_until(lambda: open_streams(probe) == baseline, what="streams of the closed connection to be released")


def test_two_hundred_concurrent_streams_on_one_connection(vigil):
    with grpc.insecure_channel(vigil.address) as channel:
        queues = [iter_until_closed() for _ in range(200)]
        calls = [stream_stream(channel, ECHO)(q) for q in queues]
        for i, q in enumerate(queues):
            q.put(b"stream-%d" % i)
        for i, call in enumerate(calls):
            assert next(call) == b"stream-%d" % i
        # second round while all 200 stay open
        for i, q in enumerate(queues):
            q.put(b"again-%d" % i)
        for i, call in enumerate(calls):
            assert next(call) == b"again-%d" % i
        for q in queues:
            q.close()
        for call in calls:
            assert list(call) == []
            assert call.code() == grpc.StatusCode.OK


def test_fifty_connections(vigil):
    channels = [grpc.insecure_channel(vigil.address) for _ in range(50)]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(lambda c: unary(c, HEALTH)(b"", timeout=30), channels))
        assert results == [SERVING] * 50
    finally:
        for channel in channels:
            channel.close()


def test_many_messages_on_one_stream_arrive_in_order(vigil):
    with grpc.insecure_channel(vigil.address) as channel:
        messages = [b"m%05d" % i + b"." * (i % 300) for i in range(2000)]
        replies = list(stream_stream(channel, ECHO)(iter(messages), timeout=60))
        assert replies == messages


def test_large_reply_respects_flow_control(vigil):
    # 1.5 MiB echoed back: more than the default 64 KiB stream window, so the server must wait for WINDOW_UPDATEs.
    options = [("grpc.http2.lookahead_bytes", 65535)]
    with grpc.insecure_channel(vigil.address, options=options) as channel:
        payload = bytes(range(256)) * 6144
        assert list(stream_stream(channel, ECHO)(iter([payload, payload]), timeout=60)) == [payload, payload]


def test_graceful_shutdown_finishes_unary_and_ends_streams_unavailable():
    server = VigilProcess()
    channel = grpc.insecure_channel(server.address)
    try:
        q = iter_until_closed()
        stream = stream_stream(channel, ECHO)(q)
        q.put(b"ping")
        assert next(stream) == b"ping"
        pending = unary(channel, SLEEP).future(b"700", timeout=30)
        # The Sleep call must be running before the signal: wait until the server holds it.
        with grpc.insecure_channel(server.address) as probe:
            wait_until(lambda: unary(probe, SLEEPING)(b"", timeout=10) == b"1", what="the sleep call to start")
        server.process.send_signal(signal.SIGTERM)
        with pytest.raises(grpc.RpcError) as error:
            next(stream)
        assert error.value.code() == grpc.StatusCode.UNAVAILABLE
        assert pending.result() == b"700"
        assert server.process.wait(timeout=30) == 0
    finally:
        channel.close()
        if server.process.poll() is None:
            server.terminate(signal.SIGKILL)


class iter_until_closed:
    """A request iterator fed from the test: `put` queues a message, `close` half-closes the stream."""

    def __init__(self):
        import queue
        self.queue = queue.Queue()

    def put(self, item):
        self.queue.put(item)

    def close(self):
        self.queue.put(None)

    def __iter__(self):
        return self

    def __next__(self):
        item = self.queue.get()
        if item is None:
            raise StopIteration
        return item


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_running_out_of_file_descriptors_neither_spins_nor_stops_the_server(protos):
    """With its descriptors used up, the listener cannot accept: connections wait in the kernel's backlog. Vigil
    must not spin on the failing accept (NIO retries at once by itself), must keep serving the connections it has,
    and must accept again once descriptors are free — as etcd's Go listener does, which sleeps between failures."""
    vigil = VigilProcess(max_open_files=96)
    held = []
    try:
        pb = protos.rpc_pb2
        with grpc.insecure_channel(vigil.address) as channel:
            put = channel.unary_unary("/etcdserverpb.KV/Put", request_serializer=pb.PutRequest.SerializeToString,
                                      response_deserializer=pb.PutResponse.FromString)
            put(pb.PutRequest(key=b"before", value=b"1"), timeout=10)
            # Far more connections than descriptors: the kernel completes the handshakes, Vigil cannot accept them.
            for _ in range(160):
                held.append(socket.create_connection(("127.0.0.1", vigil.port), timeout=10))
            wait_until(lambda: "Too many open files" in vigil.read_log(), what="the failed accept to be logged")
            before = cpu_seconds(vigil.process.pid)
            window = time.monotonic()
            # The connection made before still works, while the listener waits.
            for i in range(20):
                put(pb.PutRequest(key=b"during", value=str(i).encode()), timeout=10)
            time.sleep(max(0.0, 2.0 - (time.monotonic() - window)))
            used = cpu_seconds(vigil.process.pid) - before
            # A spinning accept loop takes a whole core (~2 s of CPU in this window); waiting takes next to none.
            assert used < 0.5, f"the server used {used:.2f} CPU-seconds in 2 s while out of descriptors"
            for s in held:
                s.close()
            held.clear()

            def fresh_connection_works():
                try:
                    with grpc.insecure_channel(vigil.address) as fresh:
                        answer = fresh.unary_unary(
                            "/etcdserverpb.KV/Put", request_serializer=pb.PutRequest.SerializeToString,
                            response_deserializer=pb.PutResponse.FromString)(pb.PutRequest(key=b"after"), timeout=5)
                        return answer.header.revision > 0
                except grpc.RpcError:
                    return False
            wait_until(fresh_connection_works, what="a new connection to be served once descriptors are free")
        assert "accepting a connection failed; retrying" in vigil.read_log()
    finally:
        for s in held:
            s.close()
        vigil.terminate()


def test_keepalive_closes_a_silent_connection_and_keeps_a_live_one(protos):
    """`--grpc-keepalive-interval` / `--grpc-keepalive-timeout` as etcd's: a connection idle for the interval is
    pinged; one whose peer answers nothing (a client host that vanished) is closed after the timeout, taking its
    watchers with it; a stock client answers the pings and its watch goes on."""
    import struct
    from watch_client import WatchStream
    vigil = VigilProcess(extra_args=["--grpc-keepalive-interval", "1s", "--grpc-keepalive-timeout", "1s"])
    try:
        silent = socket.create_connection(("127.0.0.1", vigil.port), timeout=30)
        silent.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + struct.pack(">I", 0)[1:] + bytes([4, 0]) + bytes(4))
        live = WatchStream(protos, vigil.address)
        live.create(b"k")
        # The silent peer reads what comes (SETTINGS, the PING) but never answers: the server closes it.
        received = b""
        while chunk := silent.recv(65536):
            received += chunk
        assert b"\x00\x00\x08\x06\x00" in received, "no keepalive PING before the close"
        silent.close()
        # The stock client answered its pings meanwhile: its watch still delivers.
        KVClient(protos, vigil.address).call("Put", key=b"k", value=b"v")
        live.wait_count(2)
        assert live.error is None and [e[2:] for e in live.events()] == [(b"k", b"v")]
        assert "closing a connection whose peer did not answer a keepalive ping" in vigil.read_log()
        live.close()
    finally:
        vigil.terminate()
