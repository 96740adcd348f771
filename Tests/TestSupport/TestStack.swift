import Contract
import Foundation
import Platform

/// The throw-away Postgres and Redis that `scripts/test` starts, described by `CONTEXO_TEST_*`
/// variables. Tests that need them fail with a clear message when run without that script.
public struct TestStack: Sendable {
    public let pgHost: String
    public let pgPort: Int
    public let adminPassword: String
    public let templateDatabase: String
    public let rolePassword: String
    public let redisPort: Int
    /// Passwords of the test Redis's users (`default`, and one per service; see
    /// config/redis-acl.conf), when it has users.
    public let redisPasswords: [String: String]
    public let redisServer: String?
    public let binDirectory: URL?
    public let repository: URL

    public struct NotConfigured: Error, CustomStringConvertible {
        public let missing: [String]
        public var description: String {
            "run the tests through scripts/test (it starts Postgres and Redis); missing: \(missing.joined(separator: ", "))"
        }
    }

    public static func current() throws -> TestStack {
        let environment = ProcessInfo.processInfo.environment
        var missing: [String] = []
        func value(_ name: String) -> String {
            guard let value = environment[name], !value.isEmpty else { missing.append(name); return "" }
            return value
        }
        let host = value("CONTEXO_TEST_PG_HOST")
        let port = Int(value("CONTEXO_TEST_PG_PORT")) ?? 0
        let admin = value("CONTEXO_TEST_PG_ADMIN_PASSWORD")
        let template = value("CONTEXO_TEST_PG_TEMPLATE")
        let role = value("CONTEXO_TEST_ROLE_PASSWORD")
        let redis = Int(value("CONTEXO_TEST_REDIS_PORT")) ?? 0
        guard missing.isEmpty else { throw NotConfigured(missing: missing) }
        let repository = environment["CONTEXO_TEST_REPO"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return TestStack(
            pgHost: host, pgPort: port, adminPassword: admin, templateDatabase: template, rolePassword: role,
            redisPort: redis,
            redisPasswords: Dictionary(uniqueKeysWithValues: ["default", "gateway", "chat", "ingest", "billing"].compactMap { user in
                environment["CONTEXO_TEST_REDIS_PASSWORD_\(user.uppercased())"].map { (user, $0) }
            }),
            redisServer: environment["CONTEXO_TEST_REDIS_SERVER"],
            binDirectory: environment["CONTEXO_TEST_BIN_DIR"].map { URL(fileURLWithPath: $0) },
            repository: repository)
    }

    /// The test Redis as `default`, which may do anything (tests' own reads and writes).
    public var redis: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: redisPort, password: redisPasswords["default"]) }

    /// The test Redis as `service`'s own ACL user, as that service runs in production.
    public func redis(for service: ServiceName) -> RedisEndpoint {
        guard let password = redisPasswords[service.rawValue] else { return redis }
        return redis.user(service.rawValue, password: password)
    }

    public var redisURL: String { Self.url(redis) }

    public func redisURL(for service: ServiceName) -> String { Self.url(redis(for: service)) }

    /// `service`'s Redis URL on logical database `database` (scripts/test's Redis has 32).
    public func redisURL(for service: ServiceName, database: Int) -> String {
        var endpoint = redis(for: service)
        endpoint.database = database
        return Self.url(endpoint)
    }

    private static func url(_ endpoint: RedisEndpoint) -> String {
        let login = endpoint.password.map { (endpoint.username ?? "") + ":" + $0 + "@" } ?? ""
        return "redis://\(login)\(endpoint.host):\(endpoint.port)/\(endpoint.database)"
    }

    /// The superuser URL for `database`.
    public func adminURL(database: String) -> DatabaseURL {
        DatabaseURL("postgres://postgres:\(adminPassword)@\(pgHost):\(pgPort)/\(database)")!
    }

    /// A service role's URL (`contexo_chat`, …) for `database`.
    public func roleURL(_ role: String, database: String) -> DatabaseURL {
        DatabaseURL("postgres://\(role):\(rolePassword)@\(pgHost):\(pgPort)/\(database)")!
    }

    /// The internal token secret tests use.
    public static let internalSecret = "test-internal-secret-0123456789abcdef"

    /// The tenant ticket key of the migrated template (`STACK_TENANT_TICKET_KEYS` in scripts/test).
    public static let ticketKey = try! TenantTicketKey(id: "test-tickets", secret: Data("contexo-test-tenant-ticket-key!!".utf8))

    /// A request ticket for `tenant`, as the gateway would mint it.
    public static func ticket(for tenant: UUID) -> TenantTicket { ticketKey.mint(for: tenant) }

    /// Runs `body` holding a gateway-minted ticket for `tenant` (what a request's task holds).
    public static func asTenant<Result>(
        _ tenant: UUID, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async rethrows -> Result {
        try await TenantTicket.$current.withValue(ticket(for: tenant), operation: body, isolation: isolation)
    }
}
