internal import CEtcdProto

// protobuf-c conversions for the Watch service and mvccpb.Event.

extension Mvccpb.Event {
    init(c: Mvccpb__Event) {
        self.init(
            type: EventType(rawValue: Int32(bitPattern: c.type.rawValue)) ?? .put,
            kv: c.kv.map { Mvccpb.KeyValue(c: $0.pointee) }, prevKV: c.prev_kv.map { Mvccpb.KeyValue(c: $0.pointee) })
    }

    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "mvccpb.Event", unpack: mvccpb__event__unpack, free: mvccpb__event__free_unpacked,
            convert: Mvccpb.Event.init(c:))
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return pack(arena.event(self), size: mvccpb__event__get_packed_size, pack: mvccpb__event__pack)
    }
}

extension CArena {
    func event(_ event: Mvccpb.Event) -> UnsafeMutablePointer<Mvccpb__Event> {
        message(mvccpb__event__init) { c in
            c.type = .init(rawValue: UInt32(bitPattern: event.type.rawValue))
            c.kv = event.kv.map { keyValue($0) }
            c.prev_kv = event.prevKV.map { keyValue($0) }
        }
    }
}

extension WatchRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.WatchRequest", unpack: etcdserverpb__watch_request__unpack,
            free: etcdserverpb__watch_request__free_unpacked, convert: WatchRequest.init(c:))
    }

    init(c: Etcdserverpb__WatchRequest) {
        switch c.request_union_case.rawValue {
        case 1:
            guard let create = c.create_request?.pointee else { self = .empty; return }
            var request = WatchCreateRequest(
                key: [UInt8](protobufC: create.key), rangeEnd: [UInt8](protobufC: create.range_end),
                startRevision: create.start_revision)
            request.progressNotify = create.progress_notify != 0
            request.prevKV = create.prev_kv != 0
            request.watchID = create.watch_id
            request.fragment = create.fragment != 0
            if create.n_filters > 0, let filters = create.filters {
                request.filters = (0..<create.n_filters).compactMap {
                    WatchCreateRequest.Filter(rawValue: Int32(bitPattern: filters[$0].rawValue))
                }
            }
            self = .create(request)
        case 2:
            self = .cancel(watchID: c.cancel_request?.pointee.watch_id ?? 0)
        case 3:
            self = .progress
        default:
            self = .empty
        }
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        let c = arena.message(etcdserverpb__watch_request__init) { (c: inout Etcdserverpb__WatchRequest) in
            switch self {
            case .create(let request):
                c.request_union_case = .init(rawValue: 1)
                c.create_request = arena.message(etcdserverpb__watch_create_request__init) {
                    (m: inout Etcdserverpb__WatchCreateRequest) in
                    m.key = arena.bytes(request.key)
                    m.range_end = arena.bytes(request.rangeEnd)
                    m.start_revision = request.startRevision
                    m.progress_notify = request.progressNotify.protobufC
                    m.prev_kv = request.prevKV.protobufC
                    m.watch_id = request.watchID
                    m.fragment = request.fragment.protobufC
                    if !request.filters.isEmpty {
                        let filters = arena.allocate(
                            Etcdserverpb__WatchCreateRequest__FilterType.self, count: request.filters.count)
                        for (i, filter) in request.filters.enumerated() {
                            filters[i] = .init(rawValue: UInt32(bitPattern: filter.rawValue))
                        }
                        m.n_filters = request.filters.count
                        m.filters = filters
                    }
                }
            case .cancel(let watchID):
                c.request_union_case = .init(rawValue: 2)
                c.cancel_request = arena.message(etcdserverpb__watch_cancel_request__init) {
                    (m: inout Etcdserverpb__WatchCancelRequest) in m.watch_id = watchID
                }
            case .progress:
                c.request_union_case = .init(rawValue: 3)
                c.progress_request = arena.message(etcdserverpb__watch_progress_request__init) { (_: inout Etcdserverpb__WatchProgressRequest) in }
            case .empty:
                break
            }
        }
        return pack(c, size: etcdserverpb__watch_request__get_packed_size, pack: etcdserverpb__watch_request__pack)
    }
}

extension WatchResponse {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try unpack(
            bytes, name: "etcdserverpb.WatchResponse", unpack: etcdserverpb__watch_response__unpack,
            free: etcdserverpb__watch_response__free_unpacked,
            convert: { c in
                WatchResponse(
                    header: c.header.map { ResponseHeader(c: $0.pointee) }, watchID: c.watch_id, created: c.created != 0,
                    canceled: c.canceled != 0, compactRevision: c.compact_revision,
                    cancelReason: String(protobufC: c.cancel_reason), fragment: c.fragment != 0,
                    events: repeated(c.n_events, c.events, Mvccpb.Event.init(c:)))
            })
    }

    public func protobufBytes() -> [UInt8] {
        let arena = CArena()
        return cancelReason.withCString { reason in
            let c = arena.message(etcdserverpb__watch_response__init) { (c: inout Etcdserverpb__WatchResponse) in
                c.header = arena.header(header)
                c.watch_id = watchID
                c.created = created.protobufC
                c.canceled = canceled.protobufC
                c.compact_revision = compactRevision
                c.cancel_reason = UnsafeMutablePointer(mutating: reason)
                c.fragment = fragment.protobufC
                c.n_events = events.count
                c.events = arena.pointerArray(events.map { arena.event($0) })
            }
            return pack(c, size: etcdserverpb__watch_response__get_packed_size, pack: etcdserverpb__watch_response__pack)
        }
    }
}
