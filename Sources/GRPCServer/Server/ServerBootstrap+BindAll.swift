import NIOCore
import NIOPosix

extension ServerBootstrap {
    /// Binds every address, or none: on the first failure the listeners already bound are closed and the error is
    /// thrown. Shared by the gRPC server and the plain-HTTP metrics listener.
    func bindAll(_ addresses: [GRPCServer.ListenAddress]) async throws -> [any Channel] {
        var bound: [any Channel] = []
        do {
            for address in addresses {
                bound.append(try await bind(host: address.host, port: address.port).get())
            }
        } catch {
            for channel in bound { try? await channel.close() }
            throw error
        }
        return bound
    }
}
