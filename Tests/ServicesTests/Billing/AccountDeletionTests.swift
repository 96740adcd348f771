@testable import Billing
@testable import Chat
import Contract
import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import Ingest
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform
import PostgresNIO
import Testing
import TestSupport

/// S12 / issue 15: `DELETE /v1/account` cancels the subscription through Lemon Squeezy's API,
/// deletes the identity through Supabase Auth's admin API (the fake that `scripts/dev` runs),
/// erases Billing's rows and announces `account.deleted`; with Chat's and Ingest's handlers applied,
/// no row naming the customer remains in any schema, and the other customer keeps everything.
@Suite(.timeLimit(.minutes(5))) struct AccountDeletionTests {
    typealias F = LemonSqueezyFixtures
    static let confirm = #"{"confirm": "delete my account"}"#

    /// Gives `customer` a live Starter subscription, bound through a real checkout.
    static func subscribe(_ harness: BillingHarness, _ client: some TestClientProtocol, customer: UUID, subscription: Int64) async throws {
        let (_, nonce) = try await harness.checkout(client, customer: customer, variant: F.starterMonthly)
        let created = F.subscription("subscription_created", id: subscription, variant: F.starterMonthly, status: "active",
                                     updatedAt: Date().addingTimeInterval(-60), owner: customer, nonce: nonce, orderID: subscription + 1)
        #expect(try await harness.deliver(client, created).1 == "applied")
    }

    static func delete(_ client: some TestClientProtocol, customer: UUID, body: String = confirm) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers = try await gatewayHeaders(for: .billing, customer: customer)
        headers[.contentType] = "application/json"
        let response = try await client.execute(uri: "/v1/account", method: .delete, headers: headers, body: ByteBuffer(string: body))
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
        return (response.status, json)
    }

    @Test func deletionCancelsTheSubscriptionDeletesTheIdentityAndLeavesNoRowAnywhere() async throws {
        try await BillingHarness.with { harness in
            let auth = try await FakeSupabaseAuth(jwtSecret: String(repeating: "j", count: 40))
            let leaving = try await auth.signUp(email: "leaving@example.com")
            let staying = try await auth.signUp(email: "staying@example.com")
            try await AccountErasureTests.seed(harness.database, owners: [leaving.id, staying.id])
            try await harness.run(identities: auth) { client in
                try await Self.subscribe(harness, client, customer: leaving.id, subscription: 2_000_001)
                try await Self.subscribe(harness, client, customer: staying.id, subscription: 2_000_002)
                let before = try await harness.database.ownerRows(leaving.id)
                #expect(before["billing.subscriptions"] == 1 && before["billing.provider_objects"] == 1 && before["chat.widgets"] == 1)
                let stayingBefore = try await harness.database.ownerRows(staying.id)

                // Lemon Squeezy's subscription_cancelled arrives while the deletion is still under way,
                // and again after it: neither may write anything back.
                let cancelled = F.subscription("subscription_cancelled", id: 2_000_001, variant: F.starterMonthly, status: "cancelled",
                                               updatedAt: Date(), owner: leaving.id, nonce: nil, endsAt: Date().addingTimeInterval(86400))
                let outcomes = NIOLockedValueBox<[String?]>([])
                harness.fake.onCancel.withLockedValue {
                    $0 = { _ in
                        let outcome = try? await harness.deliver(client, cancelled).1
                        outcomes.withLockedValue { $0.append(outcome) }
                    }
                }
                let (status, outcome) = try await Self.delete(client, customer: leaving.id)
                #expect(status == .ok, "\(outcome)")
                #expect(outcomes.withLockedValue { $0 } == ["ignored"], "a delivery during the deletion is ignored")
                let late = F.subscription("subscription_updated", id: 2_000_001, variant: F.starterMonthly, status: "cancelled",
                                          updatedAt: Date().addingTimeInterval(5), owner: leaving.id, nonce: nil)
                #expect(try await harness.deliver(client, late).1 == "rejected", "after it, the subscription belongs to nobody")
                #expect(outcome["identity"] as? String == "deleted")
                #expect(outcome["subscriptions_cancelled"] as? Int == 1)
                #expect(harness.fake.cancelled == ["2000001"], "only the leaving customer's subscription is cancelled, once")
                // The identity is gone: its token no longer works at Supabase, the other's does.
                #expect(try await auth.call("GET", "/user", bearer: leaving.accessToken).status == 403)
                #expect(try await auth.call("GET", "/user", bearer: staying.accessToken).status == 200)

                // Billing announced it, with the ticket Postgres minted for it; Chat and Ingest apply it
                // with that ticket, as their consumers do.
                let announced = try await harness.database.withConnection(harness.database.adminURL) { connection in
                    try await connection.query("""
                        SELECT envelope, tenant_ticket FROM billing.outbox WHERE envelope::jsonb ->> 'type' = 'account.deleted'
                        """, logger: harness.logger).collect().map { try $0.decode((String, String?).self) }
                }
                #expect(announced.count == 1)
                let envelope = try EventEnvelope.decode(from: Data(try #require(announced.first).0.utf8))
                let ticket = try #require(announced.first?.1.flatMap(TenantTicket.init))
                #expect(envelope.tenantID == leaving.id && ticket.tenant == leaving.id)
                for (role, handler) in [("contexo_chat", TenantErasure.chat), ("contexo_ingest", Ingest.accountErasure)] {
                    try await PostgresClientBox(url: harness.database.roleURL(role)).run { postgres in
                        try await TenantTicket.$current.withValue(ticket) {
                            try await postgres.withTransaction(logger: harness.logger) { connection in
                                try await handler(envelope, connection, harness.logger)
                            }
                        }
                    }
                }
                let after = try await harness.database.ownerRows(leaving.id)
                #expect(after.values.allSatisfy { $0 == 0 }, "rows left behind: \(after.filter { $0.value != 0 })")
                #expect(after.keys.contains("billing.account_deletions") && after.keys.contains("ingest.document_sources"))
                let kept = try await harness.database.ownerRows(staying.id)
                #expect(kept == stayingBefore, "the other customer keeps every row")
                #expect(try await harness.entitlement(client, customer: staying.id).plan == "starter")
            }
        }
    }

    @Test func withoutTheConfirmationNothingHappens() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                try await Self.subscribe(harness, client, customer: customer, subscription: 2_000_010)
                for body in ["{}", #"{"confirm": "yes"}"#, #"{"confirm": true}"#] {
                    let (status, problem) = try await Self.delete(client, customer: customer, body: body)
                    #expect(status == .unprocessableContent || status == .badRequest, "\(body): \(problem)")
                }
                #expect(harness.fake.cancelled.isEmpty)
                #expect(try await harness.entitlement(client, customer: customer).plan == "starter")
                #expect(try await harness.database.ownerRows(customer)["billing.account_deletions"] == 0)
            }
        }
    }

    @Test func aDeletionThatStopsHalfwayFinishesWhenAskedAgain() async throws {
        try await BillingHarness.with { harness in
            let auth = try await FakeSupabaseAuth(jwtSecret: String(repeating: "j", count: 40))
            let customer = try await auth.signUp(email: "halfway@example.com")
            try await harness.run(identities: auth) { client in
                try await Self.subscribe(harness, client, customer: customer.id, subscription: 2_000_020)
                // The subscription is cancelled, then the identity provider fails: nothing is erased yet.
                try await auth.injectFault(pathPrefix: "/admin/users", status: 500)
                let (first, problem) = try await Self.delete(client, customer: customer.id)
                #expect(first == .serviceUnavailable, "\(problem)")
                #expect(harness.fake.cancelled == ["2000020"])
                var rows = try await harness.database.ownerRows(customer.id)
                #expect(rows["billing.account_deletions"] == 1 && rows["billing.entitlements"] == 1)
                // While it is pending no new purchase can start.
                #expect(try await harness.checkout(client, customer: customer.id, variant: F.proMonthly).0 == .conflict)

                let (second, outcome) = try await Self.delete(client, customer: customer.id)
                #expect(second == .ok, "\(outcome)")
                #expect(outcome["subscriptions_cancelled"] as? Int == 0, "the cancelled subscription is not cancelled twice")
                #expect(outcome["identity"] as? String == "deleted")
                #expect(harness.fake.cancelled == ["2000020"])
                rows = try await harness.database.ownerRows(customer.id)
                #expect(rows.filter { $0.key.hasPrefix("billing.") }.values.allSatisfy { $0 == 0 }, "\(rows)")

                // A third request (a retry that crossed the answer) finds nothing left and says so.
                let (third, again) = try await Self.delete(client, customer: customer.id)
                #expect(third == .ok && again["identity"] as? String == "already_gone", "\(again)")
            }
        }
    }
}
