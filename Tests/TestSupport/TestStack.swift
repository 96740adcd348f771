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
            redisPort: redis, redisServer: environment["CONTEXO_TEST_REDIS_SERVER"],
            binDirectory: environment["CONTEXO_TEST_BIN_DIR"].map { URL(fileURLWithPath: $0) },
            repository: repository)
    }

    public var redis: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: redisPort) }

    public var redisURL: String { "redis://127.0.0.1:\(redisPort)" }

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
}
