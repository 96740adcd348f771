import Foundation
import Platform

/// Billing's configuration, read from the environment (see docs/configuration.md).
public struct BillingConfiguration: ContexoServiceConfiguration {
    public static let defaultPort = 8083
    public var service: ServiceConfiguration
    public var database: DatabaseConfiguration
    public var catalog: PlanCatalog
    public var lemonSqueezy: LemonSqueezy
    /// Supabase Auth's admin API, for deleting a closed account's identity; nil: identities stay.
    public var identityAdmin: IdentityAdminClient.Settings?

    /// The Lemon Squeezy integration. Without an API key checkouts answer 503; without a webhook
    /// secret webhooks answer 503 (never accepted unverified).
    public struct LemonSqueezy: Sendable {
        public var apiURL: URL
        public var apiKey: String?
        public var storeID: String?
        public var webhookSecret: String?
        public var testMode: Bool
        /// How long a checkout (and its nonce) stays valid.
        public var checkoutLifetime: Duration
        public var redirectURL: String?
        /// How long a call to the Lemon Squeezy API may take.
        public var requestTimeout: Duration = .seconds(10)

        public init(apiURL: URL = URL(string: "https://api.lemonsqueezy.com")!, apiKey: String? = nil, storeID: String? = nil,
                    webhookSecret: String? = nil, testMode: Bool = true, checkoutLifetime: Duration = .seconds(7200),
                    redirectURL: String? = nil) {
            self.apiURL = apiURL
            self.apiKey = apiKey
            self.storeID = storeID
            self.webhookSecret = webhookSecret
            self.testMode = testMode
            self.checkoutLifetime = checkoutLifetime
            self.redirectURL = redirectURL
        }
    }

    public init(service: ServiceConfiguration, database: DatabaseConfiguration, catalog: PlanCatalog,
                lemonSqueezy: LemonSqueezy = .init()) {
        self.service = service
        self.database = database
        self.catalog = catalog
        self.lemonSqueezy = lemonSqueezy
    }

    public static func read(from reader: inout ConfigurationReader) -> BillingConfiguration {
        let service = ServiceConfiguration.read(from: &reader, service: .billing, defaultPort: defaultPort)
        let database = DatabaseConfiguration.read(from: &reader, environment: service.environment)
        let catalogPath = reader.string("CONTEXO_PLAN_CATALOG_FILE", default: "config/plans.json")
        var catalog = try? PlanCatalog(
            free: .init(widgets: 1, messagesPerMonth: 100, knowledgeBytes: 5_000_000), plans: [], creditPacks: [])
        do {
            catalog = try PlanCatalog.load(from: catalogPath)
        } catch {
            reader.report("CONTEXO_PLAN_CATALOG_FILE", "must name a valid plan catalog (\(catalogPath): \(error))")
        }
        var lemon = LemonSqueezy()
        lemon.apiURL = reader.parsed("CONTEXO_LEMONSQUEEZY_API_URL", required: false, expected: "an http(s):// base URL") { raw in
            URL(string: raw).flatMap { ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }
        } ?? lemon.apiURL
        reader.requireTLS("CONTEXO_LEMONSQUEEZY_API_URL", lemon.apiURL, in: service.environment)
        lemon.apiKey = reader.value("CONTEXO_LEMONSQUEEZY_API_KEY")
        lemon.storeID = reader.parsed("CONTEXO_LEMONSQUEEZY_STORE_ID", required: false, expected: "a numeric store id") { raw in
            raw.allSatisfy(\.isNumber) && !raw.isEmpty ? raw : nil
        }
        if lemon.apiKey != nil, lemon.storeID == nil {
            reader.report("CONTEXO_LEMONSQUEEZY_STORE_ID", "is required when CONTEXO_LEMONSQUEEZY_API_KEY is set")
        }
        lemon.webhookSecret = reader.parsed("CONTEXO_LEMONSQUEEZY_WEBHOOK_SECRET", required: false, isSecret: true,
                                            expected: "the webhook's signing secret, 6 to 40 characters") { raw in
            (6...40).contains(raw.count) ? raw : nil
        }
        lemon.testMode = reader.parsed("CONTEXO_LEMONSQUEEZY_TEST_MODE", required: false, expected: "true or false") { raw in
            ["true": true, "1": true, "false": false, "0": false][raw.lowercased()]
        } ?? (service.environment == .development)
        let minutes = reader.integer("CONTEXO_CHECKOUT_LIFETIME_MINUTES", default: 120, in: 5...10_080)
        lemon.checkoutLifetime = .seconds(minutes * 60)
        lemon.redirectURL = reader.parsed("CONTEXO_CHECKOUT_REDIRECT_URL", required: false, expected: "an https:// URL") { raw in
            URL(string: raw)?.scheme == "https" ? raw : nil
        }
        var configuration = BillingConfiguration(service: service, database: database, catalog: catalog!, lemonSqueezy: lemon)
        let authURL = reader.parsed("CONTEXO_SUPABASE_AUTH_URL", required: false, expected: "Supabase Auth's base URL, https://<ref>.supabase.co/auth/v1") { raw in
            URL(string: raw).flatMap { ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }
        }
        reader.requireTLS("CONTEXO_SUPABASE_AUTH_URL", authURL, in: service.environment)
        let secretKey = reader.parsed("CONTEXO_SUPABASE_SECRET_KEY", required: false, isSecret: true,
                                      expected: "the project's secret (service_role) key") { raw in raw.count >= 20 ? raw : nil }
        switch (authURL, secretKey) {
        case let (url?, key?): configuration.identityAdmin = .init(authURL: url, secretKey: key)
        case (nil, nil): break
        default: reader.report("CONTEXO_SUPABASE_SECRET_KEY", "and CONTEXO_SUPABASE_AUTH_URL must be set together (Billing deletes closed accounts' identities)")
        }
        return configuration
    }
}
