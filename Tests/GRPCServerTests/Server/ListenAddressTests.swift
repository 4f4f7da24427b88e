import GRPCServer
import Testing

@Suite("client URL parsing")
struct ListenAddressTests {
    @Test(
        "etcd-style client URLs",
        arguments: [
            ("http://127.0.0.1:2379", "127.0.0.1", 2379), ("http://0.0.0.0:0", "0.0.0.0", 0),
            ("http://[::1]:23790", "::1", 23790), ("http://localhost:2379/", "localhost", 2379),
            ("HTTP://example:1", "example", 1),
        ])
    func valid(url: String, host: String, port: Int) throws {
        #expect(try GRPCServer.ListenAddress(clientURL: url) == GRPCServer.ListenAddress(host: host, port: port))
    }

    @Test(
        "refused URLs",
        arguments: ["127.0.0.1:2379", "https://127.0.0.1:2379", "unix://x:1", "http://:2379", "http://h", "http://h:99999", "http://h:1/path", "http://[::1"])
    func invalid(url: String) {
        #expect(throws: GRPCServer.ListenAddress.URLError.self) { try GRPCServer.ListenAddress(clientURL: url) }
    }

    @Test("a comma-separated list gives every address")
    func list() throws {
        let list = try GRPCServer.ListenAddress.parseList("http://127.0.0.1:1,http://127.0.0.1:2")
        #expect(list.map(\.port) == [1, 2])
    }
}
