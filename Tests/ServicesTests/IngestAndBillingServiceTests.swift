import Billing
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import Logging
import Platform
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(5))) struct IngestAndBillingServiceTests {
    @Test func documentsAreListedOnlyForTheVerifiedCustomer() async throws {
        try await withTestDatabase { database in
            let alice = UUID(), bob = UUID()
            try await database.withConnection(database.adminURL) { connection in
                try await connection.query("""
                    INSERT INTO ingest.documents (owner_id, widget_id, title, source_kind, byte_size)
                    VALUES (\(alice), gen_random_uuid(), 'Handbook', 'upload', 1200), (\(bob), gen_random_uuid(), 'Secret', 'text', 10)
                    """, logger: Logger(label: "test"))
            }
            let configuration = IngestConfiguration(
                service: serviceConfiguration(database.stack, for: .ingest),
                database: DatabaseConfiguration(url: database.roleURL("contexo_ingest"), maximumConnections: 2))
            let app = try await Ingest.buildApplication(configuration: configuration, logger: Logger(label: "test.ingest"))
            let headers = try await gatewayHeaders(for: .ingest, customer: alice)
            let chatToken = try await gatewayHeaders(for: .chat, customer: alice)
            try await app.test(.router) { client in
                try await client.execute(uri: "/v1/documents", method: .get, headers: chatToken) { response in
                    #expect(response.status == .unauthorized)
                }
                try await client.execute(uri: "/v1/documents", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                    let list = try JSONDecoder.iso8601.decode(DocumentList.self, from: response.body)
                    #expect(list.documents.map(\.title) == ["Handbook"])
                    #expect(list.documents.first?.byteSize == 1200)
                }
            }
        }
    }

    @Test func aCustomerWithoutASubscriptionHasTheFreePlan() async throws {
        try await withTestDatabase { database in
            let paying = UUID(), newcomer = UUID()
            try await database.withConnection(database.adminURL) { connection in
                try await connection.query(
                    "INSERT INTO billing.entitlements (owner_id, plan, credits_granted, revision) VALUES (\(paying), 'pro', 250, 3)",
                    logger: Logger(label: "test"))
            }
            let configuration = BillingConfiguration(
                service: serviceConfiguration(database.stack, for: .billing),
                database: DatabaseConfiguration(url: database.roleURL("contexo_billing"), maximumConnections: 2),
                catalog: try PlanCatalog.load(from: database.stack.repository.appendingPathComponent("config/plans.json").path))
            let catalog = configuration.catalog
            let app = try await Billing.buildApplication(configuration: configuration, logger: Logger(label: "test.billing"))
            try await app.test(.router) { client in
                let newcomerHeaders = try await gatewayHeaders(for: .billing, customer: newcomer)
                try await client.execute(uri: "/v1/billing/entitlements", method: .get, headers: newcomerHeaders) { response in
                    #expect(response.status == .ok)
                    let entitlement = try JSONDecoder.iso8601.decode(Entitlement.self, from: response.body)
                    #expect(entitlement == .free(catalog.free))
                }
                let payingHeaders = try await gatewayHeaders(for: .billing, customer: paying)
                try await client.execute(uri: "/v1/billing/entitlements", method: .get, headers: payingHeaders) { response in
                    let entitlement = try JSONDecoder.iso8601.decode(Entitlement.self, from: response.body)
                    #expect(entitlement.plan == "pro")
                    #expect(entitlement.credits.balance == 250)
                    #expect(entitlement.limits == catalog.plan(id: "pro")?.limits, "limits come from the catalog")
                }
            }
        }
    }
}
