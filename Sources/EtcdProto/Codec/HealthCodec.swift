internal import CEtcdProto

// protobuf-c conversions for grpc.health.v1.

extension HealthCheckRequest {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        let decoded: String? = bytes.withUnsafeBufferPointer { buffer in
            guard let message = grpc__health__v1__health_check_request__unpack(nil, buffer.count, buffer.baseAddress)
            else { return nil }
            defer { grpc__health__v1__health_check_request__free_unpacked(message, nil) }
            return String(protobufC: message.pointee.service)
        }
        guard let decoded else { throw ProtoDecodingError(messageName: "grpc.health.v1.HealthCheckRequest") }
        self.init(service: decoded)
    }

    public func protobufBytes() -> [UInt8] {
        var message = Grpc__Health__V1__HealthCheckRequest()
        grpc__health__v1__health_check_request__init(&message)
        return service.withCString { service in
            message.service = UnsafeMutablePointer(mutating: service)
            return packMessage(
                size: { grpc__health__v1__health_check_request__get_packed_size(&message) },
                pack: { grpc__health__v1__health_check_request__pack(&message, $0) }
            )
        }
    }
}

extension HealthCheckResponse {
    public init(protobufBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        let raw: Int32? = bytes.withUnsafeBufferPointer { buffer in
            guard let message = grpc__health__v1__health_check_response__unpack(nil, buffer.count, buffer.baseAddress)
            else { return nil }
            defer { grpc__health__v1__health_check_response__free_unpacked(message, nil) }
            return Int32(bitPattern: message.pointee.status.rawValue)
        }
        guard let raw else { throw ProtoDecodingError(messageName: "grpc.health.v1.HealthCheckResponse") }
        // proto3 enums are open: an unknown value reads as UNKNOWN.
        self.init(status: ServingStatus(rawValue: raw) ?? .unknown)
    }

    public func protobufBytes() -> [UInt8] {
        var message = Grpc__Health__V1__HealthCheckResponse()
        grpc__health__v1__health_check_response__init(&message)
        message.status = Grpc__Health__V1__HealthCheckResponse__ServingStatus(
            rawValue: .init(truncatingIfNeeded: status.rawValue))
        return packMessage(
            size: { grpc__health__v1__health_check_response__get_packed_size(&message) },
            pack: { grpc__health__v1__health_check_response__pack(&message, $0) }
        )
    }
}
