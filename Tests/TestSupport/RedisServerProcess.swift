import Contract
import Crypto
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
    /// The users' passwords when the server runs with config/redis-acl.conf, by user name.
    public let passwords: [String: String]?
    private let aclFile: URL?

    /// As `default` (with its password when the server has users).
    public var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port, password: passwords?["default"]) }

    /// As `service`'s own ACL user (requires `withUsers`).
    public func endpoint(for service: ServiceName) -> RedisEndpoint {
        endpoint.user(service.rawValue, password: passwords![service.rawValue]!)
    }

    /// - Parameter persistent: append-only file with `fsync` on every write, so a killed server
    ///   comes back with every stream entry (the configuration production Redis must have).
    /// - Parameter withUsers: run with the users of config/redis-acl.conf (random passwords), as
    ///   scripts/dev and compose do.
    public init(persistent: Bool = false, withUsers: Bool = false) throws {
        self.persistent = persistent
        let stack = try TestStack.current()
        guard let binary = stack.redisServer else { throw TestStack.NotConfigured(missing: ["CONTEXO_TEST_REDIS_SERVER"]) }
        self.binary = binary
        port = freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if withUsers {
            let users = ["default", "gateway", "chat", "ingest", "billing"]
            let passwords = Dictionary(uniqueKeysWithValues: users.map { ($0, UUID().uuidString.lowercased()) })
            let template = try String(contentsOf: stack.repository.appendingPathComponent("config/redis-acl.conf"), encoding: .utf8)
            let file = directory.appendingPathComponent("users.acl")
            try Self.render(template, passwords: passwords).write(to: file, atomically: true, encoding: .utf8)
            self.passwords = passwords
            aclFile = file
        } else {
            passwords = nil
            aclFile = nil
        }
    }

    /// config/redis-acl.conf with each `{{user}}` replaced by the SHA-256 of its password, as
    /// scripts/lib/stack.sh renders it.
    public static func render(_ template: String, passwords: [String: String]) -> String {
        var text = template.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.joined(separator: "\n") + "\n"
        for (user, password) in passwords {
            let hash = SHA256.hash(data: Data(password.utf8)).map { String(format: "%02x", $0) }.joined()
            text = text.replacingOccurrences(of: "{{\(user)}}", with: hash)
        }
        return text
    }

    /// Starts the server and waits until it accepts connections.
    public func start() async throws {
        process = try ChildProcess(binary, [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", persistent ? "yes" : "no", "--appendfsync", "always",
            "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path,
        ] + (aclFile.map { ["--aclfile", $0.path] } ?? []))
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
