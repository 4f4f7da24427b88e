internal import CEtcdProto

extension MessageSchema {
    /// Every message of etcd's six services (their requests, responses, and everything inside them) by full name,
    /// read once from the descriptors protobuf-c generated.
    public static let registry: [String: MessageSchema] = {
        var registry: [String: MessageSchema] = [:]
        forEachService { service in
            for index in 0..<Int(service.pointee.n_methods) {
                let method = service.pointee.methods[index]
                read(method.input, into: &registry)
                read(method.output, into: &registry)
            }
        }
        return registry
    }()

    /// Each method of etcd's services: `Service/Method` (`etcdserverpb.KV/Range`) → request and response names.
    public static let methods: [String: (request: String, response: String)] = {
        var methods: [String: (request: String, response: String)] = [:]
        forEachService { service in
            let serviceName = String(cString: service.pointee.name)
            for index in 0..<Int(service.pointee.n_methods) {
                let method = service.pointee.methods[index]
                methods["\(serviceName)/\(String(cString: method.name))"] = (
                    String(cString: method.input.pointee.name), String(cString: method.output.pointee.name)
                )
            }
        }
        return methods
    }()

    /// Calls `body` with each of etcd's six service descriptors (the pointers are valid only inside `body`).
    private static func forEachService(_ body: (UnsafePointer<ProtobufCServiceDescriptor>) -> Void) {
        withUnsafePointer(to: etcdserverpb__kv__descriptor, body)
        withUnsafePointer(to: etcdserverpb__watch__descriptor, body)
        withUnsafePointer(to: etcdserverpb__lease__descriptor, body)
        withUnsafePointer(to: etcdserverpb__cluster__descriptor, body)
        withUnsafePointer(to: etcdserverpb__maintenance__descriptor, body)
        withUnsafePointer(to: etcdserverpb__auth__descriptor, body)
    }

    /// Reads `descriptor` and the messages its fields hold into `registry` (each once; a placeholder entry stops a
    /// message that contains itself from being read forever).
    private static func read(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, into registry: inout [String: MessageSchema]) {
        let name = String(cString: descriptor.pointee.name)
        guard registry[name] == nil else { return }
        registry[name] = MessageSchema(name: name, fields: [])
        var fields: [FieldSchema] = []
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields[index]
            let fieldName = String(cString: field.name)
            let kind: FieldSchema.Kind
            switch field.type {
            case PROTOBUF_C_TYPE_INT32: kind = .int32
            case PROTOBUF_C_TYPE_SINT32: kind = .sint32
            case PROTOBUF_C_TYPE_SFIXED32: kind = .sfixed32
            case PROTOBUF_C_TYPE_UINT32: kind = .uint32
            case PROTOBUF_C_TYPE_FIXED32: kind = .fixed32
            case PROTOBUF_C_TYPE_INT64: kind = .int64
            case PROTOBUF_C_TYPE_SINT64: kind = .sint64
            case PROTOBUF_C_TYPE_SFIXED64: kind = .sfixed64
            case PROTOBUF_C_TYPE_UINT64: kind = .uint64
            case PROTOBUF_C_TYPE_FIXED64: kind = .fixed64
            case PROTOBUF_C_TYPE_FLOAT: kind = .float
            case PROTOBUF_C_TYPE_DOUBLE: kind = .double
            case PROTOBUF_C_TYPE_BOOL: kind = .bool
            case PROTOBUF_C_TYPE_STRING: kind = .string
            case PROTOBUF_C_TYPE_BYTES: kind = .bytes
            case PROTOBUF_C_TYPE_ENUM:
                let enumeration = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
                var names: [Int32: String] = [:]
                for value in 0..<Int(enumeration.pointee.n_values) {
                    let entry = enumeration.pointee.values[value]
                    names[entry.value] = String(cString: entry.name)
                }
                kind = .enumeration(name: String(cString: enumeration.pointee.name), values: names)
            default:  // PROTOBUF_C_TYPE_MESSAGE
                let nested = field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                read(nested, into: &registry)
                kind = .message(String(cString: nested.pointee.name))
            }
            fields.append(FieldSchema(
                name: fieldName, jsonName: FieldSchema.jsonName(of: fieldName), number: field.id,
                repeated: field.label == PROTOBUF_C_LABEL_REPEATED, kind: kind))
        }
        registry[name] = MessageSchema(name: name, fields: fields)
    }
}
