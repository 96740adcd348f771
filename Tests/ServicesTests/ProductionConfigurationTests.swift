import Billing
import Chat
import Foundation
import Gateway
import Ingest
import Platform
import Testing

/// S2.1: in production, every address that carries customer or payment data to another party must
/// be https (a plain-http server on this machine's loopback excepted); development accepts http.
@Suite(.timeLimit(.minutes(5))) struct ProductionConfigurationTests {
    static func problems(_ environment: [String: String], read: (inout ConfigurationReader) -> Void) -> Set<String> {
        var reader = ConfigurationReader(environment: environment)
        read(&reader)
        return Set(reader.problems.filter { $0.reason.contains("https:// URL in production") }.map(\.variable))
    }

    static let plain: [String: String] = [
        "CONTEXO_LEMONSQUEEZY_API_URL": "http://api.lemonsqueezy.com/v1",
        "CONTEXO_JWKS_URL": "http://project.supabase.co/auth/v1/.well-known/jwks.json",
        "CONTEXO_DASHBOARD_ORIGINS": "https://app.contexo.ai,http://app.example.com",
        "CONTEXO_ANSWER_PROVIDER": "openai", "CONTEXO_ANSWER_API_URL": "http://llm.example.com/v1", "CONTEXO_ANSWER_MODEL": "m",
        "CONTEXO_EMBEDDINGS_PROVIDER": "openai", "CONTEXO_EMBEDDINGS_API_URL": "http://embed.example.com/v1",
        "CONTEXO_EMBEDDINGS_MODEL": "m",
    ]

    static func all(_ environment: [String: String]) -> Set<String> {
        var found = Set<String>()
        found.formUnion(problems(environment) { _ = BillingConfiguration.read(from: &$0) })
        found.formUnion(problems(environment) { _ = GatewayConfiguration.read(from: &$0) })
        found.formUnion(problems(environment) { _ = ChatConfiguration.read(from: &$0) })
        found.formUnion(problems(environment) { _ = IngestConfiguration.read(from: &$0) })
        return found
    }

    @Test func plainHTTPToAnotherPartyIsRefusedInProduction() {
        #expect(Self.all(Self.plain.merging(["CONTEXO_ENV": "production"]) { $1 }) == [
            "CONTEXO_LEMONSQUEEZY_API_URL", "CONTEXO_JWKS_URL", "CONTEXO_DASHBOARD_ORIGINS",
            "CONTEXO_ANSWER_API_URL", "CONTEXO_EMBEDDINGS_API_URL",
        ])
    }

    @Test func developmentAndLoopbackMayUsePlainHTTP() {
        #expect(Self.all(Self.plain.merging(["CONTEXO_ENV": "development"]) { $1 }).isEmpty)
        let loopback = Self.plain.mapValues { $0.replacingOccurrences(of: #"//[a-z.]+"#, with: "//127.0.0.1:9", options: .regularExpression) }
            .merging(["CONTEXO_ENV": "production"]) { $1 }
        #expect(Self.all(loopback).isEmpty, "a model server on this machine's loopback")
    }

    /// S2.1 for the database: TLS with the server's certificate verified, or an explicit statement
    /// that the database is on a private network.
    @Test func aProductionDatabaseIsReachedOverTLS() {
        func problems(_ url: String, _ extra: [String: String] = [:]) -> [String] {
            var reader = ConfigurationReader(environment: ["CONTEXO_DATABASE_URL": url].merging(extra) { $1 })
            _ = DatabaseConfiguration.read(from: &reader, environment: .production)
            return reader.problems.filter { $0.variable == "CONTEXO_DATABASE_URL" }.map(\.reason)
        }
        let plain = "postgres://contexo_chat:pw@db.example.com:5432/contexo"
        #expect(problems(plain).first?.contains("must use TLS in production") == true)
        #expect(problems(plain + "?sslmode=verify-full").isEmpty)
        #expect(problems(plain, ["CONTEXO_DATABASE_PLAINTEXT": "allow"]).isEmpty)
        #expect(problems(plain + "?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").first?.contains("sslrootcert") == true)
        var development = ConfigurationReader(environment: ["CONTEXO_DATABASE_URL": plain])
        _ = DatabaseConfiguration.read(from: &development, environment: .development)
        #expect(development.problems.isEmpty)
        let verified = DatabaseURL(plain + "?sslmode=verify-full&sslrootcert=/etc/ssl/provider-ca.pem")
        #expect(verified?.requireTLS == true && verified?.tlsConfiguration.certificateVerification == .fullVerification)
    }
}
