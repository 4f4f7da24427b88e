"""A watcher whose client stops reading: the server keeps serving writers and other watchers, holds a bounded
amount for the stalled stream, and delivers every event once the client reads again."""
import h2.events

from h2_raw import RawH2, frame
from kv_client import KVClient
from watch_client import WatchStream

WATCH = "/etcdserverpb.Watch/Watch"


def decode_responses(protos, data):
    responses = []
    while len(data) >= 5:
        length = int.from_bytes(data[1:5], "big")
        if len(data) < 5 + length:
            break
        responses.append(protos.rpc_pb2.WatchResponse.FromString(data[5:5 + length]))
        data = data[5 + length:]
    return responses, data


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
    import socket

    pb = protos.rpc_pb2
    client = RawH2(vigil.address)
    stream_id = client.request(WATCH)

    def create(i):
        return frame(pb.WatchRequest(create_request=pb.WatchCreateRequest(key=b"k%d" % i)).SerializeToString())

    received = bytearray()
    unacknowledged = 0
    sent, limit = 0, 200_000
    quiet_reads = 0
    client.sock.settimeout(1)
    # Send while the stream's window allows; when it is shut, read — DATA is kept, never acknowledged — until no
    # WINDOW_UPDATE comes for two reads in a row.
    while quiet_reads < 2 and sent < limit:
        room = min(client.conn.local_flow_control_window(stream_id), 16384)
        batch = bytearray()
        while sent < limit and len(batch) + 32 <= room:
            batch += create(sent)
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
    # 1 MiB of created responses is ~25,000; with the windows in flight, far below this.
    assert sent < 100_000, f"the server kept taking requests that the client's unread responses piled behind: {sent}"

    # The client reads again: every create is served, in order.
    client.conn.acknowledge_received_data(unacknowledged, stream_id)
    client.flush()
    responses, rest = decode_responses(protos, bytes(received))
    client.sock.settimeout(30)
    while len(responses) < sent:
        data = client.sock.recv(65536)
        assert data, "the server closed the connection"
        for event in client.conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                rest += event.data
                client.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
        client.flush()
        more, rest = decode_responses(protos, rest)
        responses += more
    assert [r.watch_id for r in responses] == list(range(sent))
    assert all(r.created and not r.canceled for r in responses)
    client.close()
