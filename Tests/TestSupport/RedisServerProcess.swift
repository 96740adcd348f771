import Foundation
import Platform

/// A Redis server of a test's own (from `CONTEXO_TEST_REDIS_SERVER`), on a free port, that the test
/// may stop and restart to prove the clients heal.
public final class RedisServerProcess: @unchecked Sendable {
    public let port: Int
    private let binary: String
    private let directory: URL
    private var process: ChildProcess?

    private let persistent: Bool

    public var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

    /// - Parameter persistent: append-only file with `fsync` on every write, so a killed server
    ///   comes back with every stream entry (the configuration production Redis must have).
    public init(persistent: Bool = false) throws {
        self.persistent = persistent
        let stack = try TestStack.current()
        guard let binary = stack.redisServer else { throw TestStack.NotConfigured(missing: ["CONTEXO_TEST_REDIS_SERVER"]) }
        self.binary = binary
        port = freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Starts the server and waits until it accepts connections.
    public func start() async throws {
        process = try ChildProcess(binary, [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", persistent ? "yes" : "no", "--appendfsync", "always",
            "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path,
        ])
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if canConnect() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CocoaError(.fileReadUnknown)
    }

    /// Kills the server (SIGKILL: a crash) and reaps it.
    public func stop() {
        process?.stop()
        process = nil
    }

    private func canConnect() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
