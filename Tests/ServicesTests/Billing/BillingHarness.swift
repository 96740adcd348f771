import Billing
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Platform
import PostgresNIO
import TestSupport

/// Billing under test: its real application against a test database, its real Lemon Squeezy
/// client against ``FakeLemonSqueezy`` on a local port, and helpers to sign deliveries and to
/// snapshot every table that money touches.
struct BillingHarness: Sendable {
    let database: TestDatabase
    let fake = FakeLemonSqueezy()
    let logger = Logger(label: "test.billing")
    /// How long Billing waits for the provider. Production's 10 s by default: a shorter one made
    /// checkouts time out (and release their nonce) when the whole suite loaded the two cores.
    var providerTimeout: Duration = .seconds(10)

    /// A harness on a database of its own, dropped when `body` is done.
    static func with<T: Sendable>(providerTimeout: Duration = .seconds(10), _ body: (BillingHarness) async throws -> T) async throws -> T {
        try await withTestDatabase { database in try await body(BillingHarness(database: database, providerTimeout: providerTimeout)) }
    }

    func configuration(lemonPort: Int, webhookSecret: String? = LemonSqueezyFixtures.secret,
                       redis: RedisEndpoint? = nil, identities: FakeSupabaseAuth? = nil) throws -> BillingConfiguration {
        var lemon = BillingConfiguration.LemonSqueezy(
            apiURL: URL(string: "http://127.0.0.1:\(lemonPort)")!, apiKey: FakeLemonSqueezy.apiKey,
            storeID: FakeLemonSqueezy.storeID, webhookSecret: webhookSecret, testMode: true)
        lemon.requestTimeout = providerTimeout
        var configuration = BillingConfiguration(
            service: serviceConfiguration(database.stack, for: .billing, redis: redis),
            database: DatabaseConfiguration(url: database.roleURL("contexo_billing"), maximumConnections: 8),
            catalog: try PlanCatalog.load(from: database.stack.repository.appendingPathComponent("config/plans.json").path),
            lemonSqueezy: lemon)
        configuration.identityAdmin = identities.map { .init(authURL: $0.authURL, secretKey: FakeSupabaseAuth.secretKey) }
        return configuration
    }

    /// Runs `body` with a client of the Billing application and the fake provider running.
    func run(webhookSecret: String? = LemonSqueezyFixtures.secret, identities: FakeSupabaseAuth? = nil,
             _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await withLiveServer(fake.router) { port in
            let app = try await Billing.buildApplication(
                configuration: try configuration(lemonPort: port, webhookSecret: webhookSecret, identities: identities), logger: logger)
            try await app.test(.router) { client in try await body(client) }
        }
    }

    // MARK: Requests

    /// Starts a checkout as `customer`; returns the status and the nonce the provider received.
    func checkout(_ client: some TestClientProtocol, customer: UUID, variant: Int64) async throws -> (HTTPResponse.Status, String?) {
        var headers = try await gatewayHeaders(for: .billing, customer: customer)
        headers[.contentType] = "application/json"
        let before = fake.received.count
        let status = try await client.execute(
            uri: "/v1/billing/checkout", method: .post, headers: headers,
            body: ByteBuffer(string: #"{"variant_id": \#(variant)}"#)) { $0.status }
        let nonce = fake.received.count > before ? fake.received.last?.custom["nonce"] : nil
        return (status, nonce)
    }

    /// Posts a delivery the way the gateway forwards it; returns the status and the outcome.
    @discardableResult
    func deliver(
        _ client: some TestClientProtocol, _ delivery: LemonSqueezyFixtures.Delivery,
        eventHeader: String? = nil, signature: String? = nil
    ) async throws -> (HTTPResponse.Status, String?) {
        var headers = try await gatewayHeaders(for: .billing, customer: nil)
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("X-Event-Name")!] = eventHeader ?? delivery.eventName
        headers[HTTPField.Name("X-Signature")!] = signature ?? delivery.signature
        return try await client.execute(
            uri: "/webhooks/lemonsqueezy", method: .post, headers: headers, body: ByteBuffer(data: delivery.body)
        ) { response in
            let outcome = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["outcome"] as? String
            return (response.status, outcome)
        }
    }

    func entitlement(_ client: some TestClientProtocol, customer: UUID) async throws -> Entitlement {
        let headers = try await gatewayHeaders(for: .billing, customer: customer)
        return try await client.execute(uri: "/v1/billing/entitlements", method: .get, headers: headers) { response in
            try JSONDecoder.iso8601.decode(Entitlement.self, from: response.body)
        }
    }

    // MARK: State

    /// Everything a webhook could change, read as the superuser (past RLS).
    struct MoneyState: Equatable, CustomStringConvertible {
        var entitlements: [String]
        var subscriptions: [String]
        var grants: [String]
        var nonces: [String]
        var bindings: [String]
        var events: [String]

        var description: String {
            "entitlements \(entitlements)\nsubscriptions \(subscriptions)\ngrants \(grants)\nnonces \(nonces)\nbindings \(bindings)\nevents \(events)"
        }
    }

    func moneyState() async throws -> MoneyState {
        try await database.withConnection(database.adminURL) { connection in
            func rows(_ sql: String) async throws -> [String] {
                try await connection.query(PostgresQuery(unsafeSQL: "SELECT (\(sql))::text FROM (SELECT 1) one"), logger: logger)
                    .collect().compactMap { try $0.decode(String?.self) }
            }
            return MoneyState(
                entitlements: try await rows("SELECT string_agg(owner_id || ' ' || plan || ' ' || status || ' r' || revision || ' c' || credits_granted || '-' || credits_revoked, ', ' ORDER BY owner_id) FROM billing.entitlements"),
                subscriptions: try await rows("SELECT string_agg(subscription_id || ' ' || owner_id || ' ' || variant_id || ' ' || status || ' ' || coalesce(refunded_at::text, '-'), ', ' ORDER BY subscription_id) FROM billing.subscriptions"),
                grants: try await rows("SELECT string_agg(order_id || ' ' || owner_id || ' ' || credits || '-' || revoked, ', ' ORDER BY order_id) FROM billing.credit_grants"),
                nonces: try await rows("SELECT string_agg(encode(nonce_hash, 'hex') || ' ' || coalesce(consumed_by, 'open'), ', ' ORDER BY nonce_hash) FROM billing.checkout_nonces"),
                bindings: try await rows("SELECT string_agg(object_type || ':' || object_id || ' ' || owner_id, ', ' ORDER BY object_type, object_id) FROM billing.provider_objects"),
                events: try await rows("SELECT string_agg(seq || ' ' || (envelope::jsonb ->> 'type'), ', ' ORDER BY seq) FROM billing.outbox"))
        }
    }

    /// The payloads of the outbox events of `type`, oldest first.
    func events(_ type: String) async throws -> [[String: Any]] {
        let envelopes = try await database.withConnection(database.adminURL) { connection in
            try await connection.query(
                "SELECT envelope FROM billing.outbox WHERE envelope::jsonb ->> 'type' = \(type) ORDER BY seq", logger: logger
            ).collect().map { try $0.decode(String.self) }
        }
        return try envelopes.map { envelope in
            let object = try JSONSerialization.jsonObject(with: Data(envelope.utf8)) as? [String: Any]
            return object?["payload"] as? [String: Any] ?? [:]
        }
    }

    func admin(_ sql: String) async throws {
        try await database.withConnection(database.adminURL) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}

