import EtcdProto
import Testing

@Suite("WatchResponse shared encoding")
struct WatchResponseFieldTests {
    /// The watch ID field bytes as `writeWatchIDField` emits them.
    private func idField(_ watchID: Int64) -> [UInt8] {
        var bytes: [UInt8] = []
        WatchResponse.writeWatchIDField(watchID) { bytes.append($0) }
        return bytes
    }

    @Test(
        "a shared header encoding plus the watch ID field is the full response's encoding",
        arguments: [0, 1, 127, 128, 300, -1, Int64.max, Int64.min])
    func headerPlusID(watchID: Int64) {
        let header = ResponseHeader(clusterID: 7, memberID: 9, revision: 1_234_567, raftTerm: 2)
        let shared = WatchResponse(header: header).protobufBytes()
        let full = WatchResponse(header: header, watchID: watchID).protobufBytes()
        #expect(shared + idField(watchID) == full)
        #expect(WatchResponse.watchIDFieldSize(watchID) == idField(watchID).count)
    }

    @Test("ID 0 writes nothing, as proto3 omits it; negative IDs take ten varint bytes")
    func sizes() {
        #expect(idField(0).isEmpty)
        #expect(WatchResponse.watchIDFieldSize(-1) == 11)
    }
}
