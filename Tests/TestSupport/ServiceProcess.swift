import Foundation
import Platform
import Synchronization

/// A real service executable started by a test, with its output captured to a file.
public final class ServiceProcess: @unchecked Sendable {
    public let name: String
    public let port: Int
    public let logFile: URL
    private let process: ChildProcess

    /// Starts `binary` from `CONTEXO_TEST_BIN_DIR` with exactly `environment`.
    public init(binary: String, port: Int, environment: [String: String]) throws {
        let stack = try TestStack.current()
        guard let bin = stack.binDirectory else { throw TestStack.NotConfigured(missing: ["CONTEXO_TEST_BIN_DIR"]) }
        name = binary
        self.port = port
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(binary)-\(UUID().uuidString).log")
        process = try ChildProcess(bin.appendingPathComponent(binary).path, environment: environment,
                                   standardOutput: .file(logFile.path), standardError: .standardOutput)
    }

    public var pid: Int32 { process.pid }
    public var isRunning: Bool { process.isRunning }

    public func signal(_ signal: Int32) { process.signal(signal) }

    /// Waits up to `timeout` for the process to exit; returns its status (128 + the signal if one
    /// killed it), or nil if it is still running.
    public func waitForExit(timeout: Duration) async -> Int32? {
        await process.wait(timeout: timeout)?.status
    }

    public func output() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// Kills the process if it is still running, and reaps it.
    public func stop() { process.stop() }

    deinit { stop() }
}

/// Ports this process handed out, so two tests never get the same one.
private let handedOut = Mutex<Set<Int>>([])

/// A free TCP port on 127.0.0.1 for a server a test starts. It is drawn from below the kernel's
/// ephemeral range (32768 and up here), where the client side of the tests' own connections
/// takes its ports: a port from bind(0) could be taken by an outgoing connection before the server
/// that was meant to listen on it starts (a Postgres fault test failed so on CI).
public func freePort() -> Int {
    for _ in 0..<500 {
        let candidate = Int.random(in: 20_000..<32_768)
        guard handedOut.withLock({ $0.insert(candidate).inserted }), canBind(candidate) else { continue }
        return candidate
    }
    return ephemeralPort()
}

/// Whether a listener could bind `port` on 127.0.0.1 right now.
private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    } == 0
}

/// A port the kernel picks (bind to 0, then released): the fallback.
private func ephemeralPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
