import EtcdProto
import MVCC
import WatchHub

/// How the hub's events become `WatchResponse.events` bytes: a PUT carries the full new version, a DELETE only its
/// key and revision (etcd-semantics §9.4.2); prev_kv is added when asked for and known.
enum WatchEventEncoding {
    static let encoder: EventEncoder = { event, includePrevKV in
        let kind: Mvccpb.Event.EventType = event.kind == .put ? .put : .delete
        let prev = includePrevKV ? event.prevKV.map { Mvccpb.KeyValue($0) } : nil
        return EncodedEvent(Mvccpb.Event(type: kind, kv: Mvccpb.KeyValue(event.kv), prevKV: prev)).bytes
    }
}
