import AsyncHTTPClient
import Contract
import Foundation
import NIOCore
import Platform
import Synchronization
import TestSupport

/// The four real service executables, started against a database of their own and the test Redis.
final class LocalStack: @unchecked Sendable {
    static let services = ["gateway", "chat", "ingest", "billing"]
    static let jwtSecret = "end-to-end-customer-jwt-secret-0123456789"
    let database: TestDatabase
    private(set) var processes: [String: ServiceProcess] = [:]
    let ports: [String: Int]
    /// A Redis logical database of this stack's own (16 to 31; the in-process harnesses use 1 to 15),
    /// so two stacks running at once never consume each other's jobs and events.
    let redisDatabase: Int = LocalStack.nextRedisDatabase.withLock { $0 = $0 % 16 + 1; return 15 + $0 }
    private static let nextRedisDatabase = Mutex(0)
    /// More environment per service (stand-ins for Supabase Auth and Lemon Squeezy, say).
    var extraEnvironment: [String: [String: String]] = [:]

    init(database: TestDatabase) {
        self.database = database
        var ports: [String: Int] = [:]
        for service in Self.services { ports[service] = freePort() }
        self.ports = ports
    }

    func environment(for service: String) -> [String: String] {
        var environment = [
            "CONTEXO_ENV": "development",
            "CONTEXO_HTTP_HOST": "127.0.0.1",
            "CONTEXO_HTTP_PORT": String(ports[service]!),
            "CONTEXO_REDIS_URL": database.stack.redisURL(for: ServiceName(rawValue: service)!, database: redisDatabase),
            "CONTEXO_INTERNAL_TOKEN_SECRET": TestStack.internalSecret,
            "CONTEXO_GIT_COMMIT": "e2e0commit",
            "CONTEXO_LOG_LEVEL": "info",
        ].merging(TestEventKeys.environment(for: ServiceName(rawValue: service)!)) { $1 }
        switch service {
        case "gateway":
            environment["CONTEXO_CHAT_URL"] = "http://127.0.0.1:\(ports["chat"]!)"
            environment["CONTEXO_INGEST_URL"] = "http://127.0.0.1:\(ports["ingest"]!)"
            environment["CONTEXO_BILLING_URL"] = "http://127.0.0.1:\(ports["billing"]!)"
            environment["CONTEXO_JWT_SECRET"] = Self.jwtSecret
            environment["CONTEXO_TENANT_TICKET_KEYS"] = TenantTicketKey.text([TestStack.ticketKey])
        default:
            let role = database.roleURL("contexo_\(service)")
            environment["CONTEXO_DATABASE_URL"] =
                "postgres://\(role.username):\(role.password!)@\(role.host):\(role.port)/\(role.database)"
            if service == "ingest" {
                environment["CONTEXO_CHAT_URL"] = "http://127.0.0.1:\(ports["chat"]!)"
            }
            if service == "chat" {
                environment["CONTEXO_INGEST_URL"] = "http://127.0.0.1:\(ports["ingest"]!)"
                environment["CONTEXO_VISITOR_TOKEN_SECRET"] = String(repeating: "v", count: 32)
                environment["CONTEXO_IP_HASH_PEPPER"] = String(repeating: "p", count: 32)
            }
        }
        return environment.merging(extraEnvironment[service] ?? [:]) { $1 }
    }

    func start(_ service: String) throws {
        processes[service] = try ServiceProcess(
            binary: "contexo-\(service)", port: ports[service]!, environment: environment(for: service))
    }

    func startAll() throws {
        for service in Self.services { try start(service) }
    }

    func url(_ service: String, _ path: String) -> String { "http://127.0.0.1:\(ports[service]!)\(path)" }

    /// The status of `GET path`, or nil when nothing answers.
    func status(_ service: String, _ path: String, headers: [(String, String)] = []) async -> Int? {
        var request = HTTPClientRequest(url: url(service, path))
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) else { return nil }
        return Int(response.status.code)
    }

    func body(_ service: String, _ path: String, headers: [(String, String)] = []) async throws -> String {
        var request = HTTPClientRequest(url: url(service, path))
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    /// `POST path` with a JSON body; the status and the body.
    func post(_ service: String, _ path: String, json: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url(service, path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// Any request; the status and the body.
    func call(_ service: String, _ method: String, _ path: String, token: String? = nil, json: String? = nil,
              headers: [(String, String)] = []) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url(service, path))
        request.method = .init(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 32 << 20)))
    }

    /// Waits until `/readyz` answers 200; false on timeout.
    func waitReady(_ service: String, timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await status(service, "/readyz") == 200 { return true }
            if processes[service]?.isRunning == false { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func process(_ service: String) -> ServiceProcess { processes[service]! }

    func stopAll() {
        for process in processes.values { process.stop() }
    }
}
