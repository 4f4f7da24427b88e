"""A watcher whose client stops reading: the server keeps serving writers and other watchers, holds a bounded
amount for the stalled stream, and delivers every event once the client reads again. A client that keeps sending
requests without reading the responses is held back by flow control and loses none of them."""
import socket

import h2.events

from h2_raw import RawH2, frame
from kv_client import KVClient
from watch_client import WatchStream

WATCH = "/etcdserverpb.Watch/Watch"


def decode_responses(protos, data, kind="WatchResponse"):
    responses = []
    while len(data) >= 5:
        length = int.from_bytes(data[1:5], "big")
        if len(data) < 5 + length:
            break
        responses.append(getattr(protos.rpc_pb2, kind).FromString(data[5:5 + length]))
        data = data[5 + length:]
    return responses, data


def send_until_held(client, stream_id, request, limit):
    """Sends `request(i)` for i = 0, 1, … while the stream's window allows, reading — DATA is kept, never
    acknowledged — when it is shut, until no WINDOW_UPDATE comes for two reads in a row or `limit` are sent.
    Returns how many were sent, the response bytes received and their flow-controlled length."""
    received, unacknowledged = bytearray(), 0
    sent, quiet_reads = 0, 0
    client.sock.settimeout(1)
    while quiet_reads < 2 and sent < limit:
        room = min(client.conn.local_flow_control_window(stream_id), 16384)
        batch = bytearray()
        while sent < limit and len(batch) + 64 <= room:
            batch += frame(request(sent))
            sent += 1
        if batch:
            client.conn.send_data(stream_id, bytes(batch))
            client.flush()
            quiet_reads = 0
            continue
        try:
            data = client.sock.recv(65536)
        except socket.timeout:
            quiet_reads += 1
            continue
        for event in client.conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                received += event.data
                unacknowledged += event.flow_controlled_length
        client.flush()
    return sent, bytes(received), unacknowledged


def read_responses(protos, client, stream_id, received, unacknowledged, count, kind, until_end=False):
    """Acknowledges what was received and reads on, acknowledging, until `count` responses (and, with
    `until_end`, the trailers) have arrived, or the call ended; returns the responses and the trailers, if any."""
    client.conn.acknowledge_received_data(unacknowledged, stream_id)
    client.flush()
    responses, rest = decode_responses(protos, received, kind)
    trailers = None
    client.sock.settimeout(30)
    while trailers is None and (len(responses) < count or until_end):
        data = client.sock.recv(65536)
        assert data, "the server closed the connection"
        for event in client.conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                rest += event.data
                client.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, h2.events.TrailersReceived):
                trailers = dict(event.headers)
        client.flush()
        more, rest = decode_responses(protos, rest, kind)
        responses += more
    return responses, trailers


def test_stalled_watcher_loses_nothing_and_delays_no_one(protos, vigil):
    pb = protos.rpc_pb2
    stalled = RawH2(vigil.address)
    stream_id = stalled.request(WATCH)
    stalled.send(stream_id, frame(pb.WatchRequest(
        create_request=pb.WatchCreateRequest(key=b"hot")).SerializeToString()))
    # Read only the created response, then stop reading (no WINDOW_UPDATEs: the 64 KiB window fills).
    stalled.pump_until(lambda: len(stalled.responses[stream_id]["data"]) > 5)

    healthy = WatchStream(protos, vigil.address)
    healthy.create(b"hot")
    healthy.wait_count(1)

    kv = KVClient(protos, vigil.address)
    value = b"v" * 1024
    count = 3000
    for i in range(count):
        status, body = kv.call("Put", _request=pb.PutRequest(key=b"hot", value=value + b"%d" % i))
        assert status == "ok", body
    # The healthy watcher gets everything while the other stream is stalled.
    healthy.wait_for(lambda r: sum(len(x.events) for x in r) >= count, timeout=60, what="all events on the healthy stream")
    last_revision = healthy.events()[-1][0]

    # Now read the stalled stream to the end: every event arrives, in order, once.
    buffer = stalled.responses[stream_id]["data"]
    seen = []

    def drained():
        nonlocal buffer
        buffer = stalled.responses[stream_id]["data"]
        responses, _ = decode_responses(protos, buffer)
        seen[:] = [e.kv.mod_revision for r in responses for e in r.events]
        return len(seen) >= count

    stalled.pump_until(drained, limit=100000)
    first = last_revision - count + 1
    assert seen == list(range(first, last_revision + 1))
    healthy.close()
    kv.close()
    stalled.close()


def test_requests_wait_while_their_responses_are_not_read(protos, vigil):
    """A client that keeps sending watch creates on a stream whose responses it does not read: once the stream's
    responses pass the queue's high watermark, Vigil stops taking its requests (the stream's window is not
    acknowledged) and HTTP/2 flow control stops the client — as etcd's receive loop stops reading while its send
    queue is full — instead of creating watchers and queueing their created responses without bound. Once the
    client reads, every request is served, in order."""
    pb = protos.rpc_pb2
    client = RawH2(vigil.address)
    stream_id = client.request(WATCH)
    sent, received, unacknowledged = send_until_held(
        client, stream_id,
        lambda i: pb.WatchRequest(create_request=pb.WatchCreateRequest(key=b"k%d" % i)).SerializeToString(),
        limit=200_000)
    # 1 MiB of created responses is ~25,000; with the windows in flight, far below this.
    assert sent < 100_000, f"the server kept taking requests that the client's unread responses piled behind: {sent}"
    responses, _ = read_responses(protos, client, stream_id, received, unacknowledged, sent, "WatchResponse")
    assert [r.watch_id for r in responses] == list(range(sent))
    assert all(r.created and not r.canceled for r in responses)
    client.close()


def test_held_keep_alives_are_all_answered_before_the_call_ends(protos, vigil):
    """Keep-alives sent without reading the answers, then the end of the client's side: the held requests are
    answered, every one, before the end is taken (which ends the call)."""
    import grpc
    pb = protos.rpc_pb2
    with grpc.insecure_channel(vigil.address) as channel:
        grant = channel.unary_unary("/etcdserverpb.Lease/LeaseGrant",
                                    request_serializer=pb.LeaseGrantRequest.SerializeToString,
                                    response_deserializer=pb.LeaseGrantResponse.FromString)
        lease = grant(pb.LeaseGrantRequest(TTL=600), timeout=10).ID
    client = RawH2(vigil.address)
    stream_id = client.request("/etcdserverpb.Lease/LeaseKeepAlive")
    request = pb.LeaseKeepAliveRequest(ID=lease).SerializeToString()
    sent, received, unacknowledged = send_until_held(client, stream_id, lambda i: request, limit=200_000)
    assert sent < 100_000, f"the server kept taking keep-alives nobody read the answers of: {sent}"
    client.conn.end_stream(stream_id)
    client.flush()
    responses, trailers = read_responses(protos, client, stream_id, received, unacknowledged, sent,
                                         "LeaseKeepAliveResponse", until_end=True)
    assert len(responses) == sent, f"{sent} keep-alives sent, {len(responses)} answered before the call ended"
    assert all(r.ID == lease and r.TTL == 600 for r in responses)
    assert trailers[b"grpc-status"] == b"0", trailers
    client.close()
