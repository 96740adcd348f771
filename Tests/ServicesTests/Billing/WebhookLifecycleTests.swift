import Billing
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

/// Verified deliveries through a subscription's life and a credit pack's, with the entitlement
/// snapshot and the published events checked at each step.
@Suite(.timeLimit(.minutes(5))) struct WebhookLifecycleTests {
    typealias F = LemonSqueezyFixtures

    @Test func aPaidSubscriptionThenAnUpgradeThenARefund() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            let t0 = Date().addingTimeInterval(-3600)
            try await harness.run { client in
                #expect(try await harness.entitlement(client, customer: customer).plan == "free")
                let (_, nonce) = try await harness.checkout(client, customer: customer, variant: F.starterMonthly)

                // Lemon Squeezy sends the order and the subscription together; the order grants nothing.
                let order = F.order("order_created", id: 4_123_456, variant: F.starterMonthly, owner: customer, nonce: nonce, total: 2900)
                #expect(try await harness.deliver(client, order).1 == "ignored")
                let created = F.subscription("subscription_created", id: 1_126_309, variant: F.starterMonthly, status: "active",
                                             updatedAt: t0, owner: customer, nonce: nonce)
                #expect(try await harness.deliver(client, created).1 == "applied")
                var entitlement = try await harness.entitlement(client, customer: customer)
                #expect(entitlement.plan == "starter" && entitlement.status == "active" && entitlement.revision == 1)
                #expect(entitlement.limits.widgets == 3)
                #expect(entitlement.portalURL?.contains("sub=1126309") == true)

                // Upgrade: the same subscription moves to the Pro variant (no nonce needed: it is bound).
                let upgraded = F.subscription("subscription_updated", id: 1_126_309, variant: F.proMonthly, status: "active",
                                              updatedAt: t0.addingTimeInterval(600), owner: customer, nonce: nonce)
                #expect(try await harness.deliver(client, upgraded).1 == "applied")
                entitlement = try await harness.entitlement(client, customer: customer)
                #expect(entitlement.plan == "pro" && entitlement.revision == 2 && entitlement.limits.widgets == 10)

                // An older update arriving late does not roll the plan back.
                let late = F.subscription("subscription_updated", id: 1_126_309, variant: F.starterMonthly, status: "active",
                                          updatedAt: t0.addingTimeInterval(300), owner: customer, nonce: nonce)
                #expect(try await harness.deliver(client, late).1 == "stale")
                #expect(try await harness.entitlement(client, customer: customer).plan == "pro")

                // A full refund of the subscription's payment ends the paid plan.
                let refund = F.invoice("subscription_payment_refunded", id: 77_001, subscription: 1_126_309, status: "refunded")
                #expect(try await harness.deliver(client, refund).1 == "applied")
                entitlement = try await harness.entitlement(client, customer: customer)
                #expect(entitlement.plan == "free" && entitlement.revision == 3 && entitlement.limits.widgets == 1)

                let changes = try await harness.events("billing.entitlements.changed")
                #expect(changes.map { $0["plan"] as? String } == ["starter", "pro", "free"])
                #expect(changes.map { $0["revision"] as? Int } == [1, 2, 3])
                #expect((changes[1]["limits"] as? [String: Any])?["messages_per_month"] as? Int == 10_000)
            }
        }
    }

    @Test func aCancelledSubscriptionKeepsItsPlanUntilItEnds() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            let t0 = Date().addingTimeInterval(-3600)
            try await harness.run { client in
                let (_, nonce) = try await harness.checkout(client, customer: customer, variant: F.proMonthly)
                try await harness.deliver(client, F.subscription("subscription_created", id: 9001, variant: F.proMonthly,
                                                                 status: "active", updatedAt: t0, owner: customer, nonce: nonce))
                try await harness.deliver(client, F.subscription("subscription_cancelled", id: 9001, variant: F.proMonthly,
                                                                 status: "cancelled", updatedAt: t0.addingTimeInterval(60), owner: customer,
                                                                 nonce: nonce, endsAt: Date().addingTimeInterval(86400)))
                var entitlement = try await harness.entitlement(client, customer: customer)
                #expect(entitlement.plan == "pro" && entitlement.status == "cancelled", "grace period until ends_at")
                try await harness.deliver(client, F.subscription("subscription_expired", id: 9001, variant: F.proMonthly,
                                                                 status: "expired", updatedAt: t0.addingTimeInterval(120), owner: customer,
                                                                 nonce: nonce, endsAt: Date().addingTimeInterval(-1)))
                entitlement = try await harness.entitlement(client, customer: customer)
                #expect(entitlement.plan == "free")
            }
        }
    }

    @Test func creditPacksAreGrantedOnceAndRevokedByRefundsNeverTwice() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                let (_, nonce) = try await harness.checkout(client, customer: customer, variant: F.credits1000)
                let order = F.order("order_created", id: 555, variant: F.credits1000, owner: customer, nonce: nonce, total: 1900)
                #expect(try await harness.deliver(client, order).1 == "applied")
                #expect(try await harness.entitlement(client, customer: customer).credits.balance == 1000)
                #expect(try await harness.events("billing.credits.granted").map { $0["credits"] as? Int } == [1000])

                let half = F.order("order_refunded", id: 555, variant: F.credits1000, owner: customer, nonce: nonce,
                                   status: "partial_refund", total: 1900, refundedAmount: 950)
                #expect(try await harness.deliver(client, half).1 == "applied")
                #expect(try await harness.entitlement(client, customer: customer).credits.balance == 500)
                let full = F.order("order_refunded", id: 555, variant: F.credits1000, owner: customer, nonce: nonce,
                                   status: "refunded", total: 1900, refundedAmount: 1900)
                #expect(try await harness.deliver(client, full).1 == "applied")
                let again = F.order("order_refunded", id: 555, variant: F.credits1000, owner: customer, nonce: nonce,
                                    status: "refunded", total: 1900, refundedAmount: 1900)
                #expect(try await harness.deliver(client, again).1 == "stale", "a second refund event revokes nothing more")
                let credits = try await harness.entitlement(client, customer: customer).credits
                #expect(credits.granted == 1000 && credits.revoked == 1000 && credits.balance == 0)
                #expect(try await harness.events("billing.credits.revoked").map { $0["credits"] as? Int } == [500, 500])
            }
        }
    }

    @Test func unknownEventsAreAcknowledged() async throws {
        try await BillingHarness.with { harness in
            try await harness.run { client in
                let license = F.delivery("license_key_created", type: "license-keys", id: "42", attributes: ["key": "abc"], custom: [:])
                let licenseOutcome = try await harness.deliver(client, license).1
                #expect(licenseOutcome == "ignored")
                let future = F.delivery("something_new", type: "novelties", id: "1", attributes: [:], custom: [:])
                let futureOutcome = try await harness.deliver(client, future).1
                #expect(futureOutcome == "ignored")
            }
        }
    }

    @Test func withoutASecretWebhooksAreRefusedNotTrusted() async throws {
        try await BillingHarness.with { harness in
            try await harness.run(webhookSecret: nil) { client in
                let order = F.order("order_created", id: 1, variant: F.credits1000, owner: UUID(), nonce: "x")
                let status = try await harness.deliver(client, order).0
                #expect(status == .serviceUnavailable)
            }
        }
    }
}
