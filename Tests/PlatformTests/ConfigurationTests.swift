import Testing
import TestSupport
@testable import Platform

@Suite(.timeLimit(.minutes(5))) struct ConfigurationTests {
    @Test func everyMissingVariableIsNamedOnce() {
        var reader = ConfigurationReader(environment: [:])
        _ = ServiceConfiguration.read(from: &reader, service: .gateway, defaultPort: 8081)
        _ = reader.databaseURL("CONTEXO_DATABASE_URL")
        let error = #expect(throws: ConfigurationError.self) { try reader.validate(service: "contexo-chat") }
        let names = error?.problems.map(\.variable) ?? []
        #expect(names == ["CONTEXO_INTERNAL_TOKEN_SECRET", "CONTEXO_REDIS_URL", "CONTEXO_EVENT_PUBLIC_KEYS", "CONTEXO_GIT_COMMIT",
                          "CONTEXO_DATABASE_URL"])
        #expect(error?.description.contains("contexo-chat: invalid configuration") == true)
    }

    @Test func secretsAreNeverEchoed() {
        let secret = "short-secret-value"
        var reader = ConfigurationReader(environment: [
            "CONTEXO_INTERNAL_TOKEN_SECRET": secret,
            "CONTEXO_REDIS_URL": "redis://:hunter2@/nohost",
            "CONTEXO_DATABASE_URL": "mysql://user:pass-word@host/db",
        ])
        _ = ServiceConfiguration.read(from: &reader, service: .gateway, defaultPort: 8081)
        _ = reader.databaseURL("CONTEXO_DATABASE_URL")
        let error = #expect(throws: ConfigurationError.self) { try reader.validate(service: "x") }
        let text = error?.description ?? ""
        #expect(text.contains("CONTEXO_INTERNAL_TOKEN_SECRET must be at least 32 bytes long"))
        #expect(text.contains("CONTEXO_REDIS_URL"))
        #expect(text.contains("CONTEXO_DATABASE_URL"))
        for leaked in [secret, "hunter2", "pass-word"] { #expect(!text.contains(leaked)) }
    }

    @Test func malformedNumbersAndChoicesAreReported() {
        var reader = ConfigurationReader(environment: [
            "CONTEXO_HTTP_PORT": "80800", "CONTEXO_ENV": "staging", "CONTEXO_LOG_LEVEL": "loud",
        ])
        _ = ServiceConfiguration.read(from: &reader, service: .gateway, defaultPort: 8081)
        let names = Set(reader.problems.map(\.variable))
        #expect(names.isSuperset(of: ["CONTEXO_HTTP_PORT", "CONTEXO_ENV", "CONTEXO_LOG_LEVEL"]))
    }

    @Test func validConfigurationReadsEveryField() throws {
        var reader = ConfigurationReader(environment: [
            "CONTEXO_ENV": "development", "CONTEXO_HTTP_HOST": "0.0.0.0", "CONTEXO_HTTP_PORT": "9000",
            "CONTEXO_LOG_LEVEL": "debug", "CONTEXO_INTERNAL_TOKEN_SECRET": String(repeating: "s", count: 32),
            "CONTEXO_REDIS_URL": "redis://:pw@cache:6380/2",
            "CONTEXO_EVENT_PUBLIC_KEYS": TestEventKeys.keyring.description,
        ])
        let configuration = ServiceConfiguration.read(from: &reader, service: .gateway, defaultPort: 8081)
        try reader.validate(service: "x")
        #expect(configuration.environment == .development)
        #expect(configuration.port == 9000)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.redis == RedisEndpoint(host: "cache", port: 6380, password: "pw", database: 2))
    }

    @Test func databaseURLParsesAndHidesItsPassword() throws {
        let url = try #require(DatabaseURL("postgres://contexo_chat:p%40ss@db.internal:6543/contexo?sslmode=require"))
        #expect(url.username == "contexo_chat")
        #expect(url.password == "p@ss")
        #expect(url.port == 6543)
        #expect(url.database == "contexo")
        #expect(url.requireTLS)
        #expect(!url.description.contains("p@ss"))
        #expect(DatabaseURL("postgres://host/db") == nil)
        #expect(DatabaseURL("postgres://user@host") == nil)
    }

    /// S9.2: production deploys are traceable, so a production service names its commit.
    @Test func productionNeedsTheCommitItWasBuiltFrom() {
        for (commit, expected) in [(nil, true), ("unknown", true), ("", true), ("3bda5a7e", false)] as [(String?, Bool)] {
            var environment = ["CONTEXO_ENV": "production"]
            environment["CONTEXO_GIT_COMMIT"] = commit
            var reader = ConfigurationReader(environment: environment)
            _ = ServiceConfiguration.read(from: &reader, service: .chat, defaultPort: 8081)
            #expect(reader.problems.contains { $0.variable == "CONTEXO_GIT_COMMIT" } == expected, "\(commit ?? "unset")")
        }
        var development = ConfigurationReader(environment: ["CONTEXO_ENV": "development"])
        _ = ServiceConfiguration.read(from: &development, service: .chat, defaultPort: 8081)
        #expect(!development.problems.contains { $0.variable == "CONTEXO_GIT_COMMIT" })
    }
}
