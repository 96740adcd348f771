import Billing
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

/// S6.2–S6.4: forged, altered, replayed and re-targeted deliveries change nothing.
/// Each test snapshots every money table and the outbox before the attack and compares after.
@Suite(.timeLimit(.minutes(5))) struct WebhookAttackTests {
    typealias F = LemonSqueezyFixtures

    @Test func forgedAndAlteredDeliveriesAreRejectedBeforeParsing() async throws {
        try await BillingHarness.with { harness in
            let victim = UUID()
            try await harness.run { client in
                let (_, nonce) = try await harness.checkout(client, customer: victim, variant: F.proMonthly)
                let before = try await harness.moneyState()
                let genuine = F.subscription("subscription_created", id: 31337, variant: F.proMonthly, status: "active",
                                             updatedAt: Date(), owner: victim, nonce: nonce)
                // Signed with the wrong secret.
                let forged = F.Delivery(body: genuine.body, eventName: genuine.eventName, secret: "not-the-secret")
                #expect(try await harness.deliver(client, forged).0 == .forbidden)
                // A valid signature over a different body.
                var altered = genuine
                altered.body = Data(String(decoding: genuine.body, as: UTF8.self)
                    .replacingOccurrences(of: "\"active\"", with: "\"on_trial\"").utf8)
                #expect(altered.body != genuine.body)
                #expect(try await harness.deliver(client, altered).0 == .forbidden)
                // No signature, an empty one, uppercase garbage, a truncated one.
                for signature in ["", "zz", String(genuine.signature.dropLast(2)), String(repeating: "0", count: 64)] {
                    #expect(try await harness.deliver(client, genuine, signature: signature).0 == .forbidden, "\(signature)")
                }
                // The unsigned header disagreeing with the signed event name.
                let order = F.order("order_created", id: 7, variant: F.credits1000, owner: victim, nonce: nonce)
                #expect(try await harness.deliver(client, order, eventHeader: "subscription_created").0 == .unprocessableContent)
                // Correctly signed but unreadable bodies: a clear 422, nothing stored.
                for body in ["not json", #"{"meta": {}}"#, #"{"meta": {"event_name": "order_created"}, "data": {"type": "orders"}}"#] {
                    let unreadable = F.Delivery(body: Data(body.utf8), eventName: "order_created")
                    let (status, _) = try await harness.deliver(client, unreadable)
                    #expect(status == .unprocessableContent, "\(body)")
                }
                #expect(try await harness.moneyState() == before)
                let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                #expect(metrics.contains(#"contexo_billing_webhooks_total{outcome="bad_signature"} 6"#))
            }
        }
    }

    @Test func aConsumedCheckoutCannotBeReplayedOrReused() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                let (_, nonce) = try await harness.checkout(client, customer: customer, variant: F.starterMonthly)
                let created = F.subscription("subscription_created", id: 100, variant: F.starterMonthly, status: "active",
                                             updatedAt: Date(), owner: customer, nonce: nonce)
                #expect(try await harness.deliver(client, created).1 == "applied")
                let after = try await harness.moneyState()
                // The exact delivery again (a replay, or Lemon Squeezy retrying).
                #expect(try await harness.deliver(client, created).1 == "duplicate")
                // A second subscription presenting the same, consumed, nonce.
                let reuse = F.subscription("subscription_created", id: 101, variant: F.starterMonthly, status: "active",
                                           updatedAt: Date(), owner: customer, nonce: nonce)
                #expect(try await harness.deliver(client, reuse).1 == "rejected")
                #expect(try await harness.moneyState() == after)
            }
        }
    }

    /// S6.3: the nonce is consumed atomically. Twenty different subscriptions racing with one
    /// nonce (not copies of one delivery, which the receipt table would stop first): one wins.
    @Test func concurrentSubscriptionsPresentingOneNonceBindExactlyOne() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                let (status, nonce) = try await harness.checkout(client, customer: customer, variant: F.starterMonthly)
                try #require(status == .created && nonce != nil)
                let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                    for id in 300..<320 {
                        let delivery = F.subscription("subscription_created", id: Int64(id), variant: F.starterMonthly,
                                                      status: "active", updatedAt: Date(), owner: customer, nonce: nonce)
                        group.addTask { try await harness.deliver(client, delivery).1 ?? "no outcome" }
                    }
                    return try await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 == "applied" }.count == 1, "\(outcomes)")
                #expect(outcomes.filter { $0 == "rejected" }.count == 19, "\(outcomes)")
            }
        }
    }

    @Test func customDataNamingAnotherCustomerUpgradesNobody() async throws {
        try await BillingHarness.with { harness in
            let payer = UUID(), attacker = UUID()
            try await harness.run { client in
                let (_, nonce) = try await harness.checkout(client, customer: payer, variant: F.proMonthly)
                let before = try await harness.moneyState()
                // The payer's nonce, re-targeted at the attacker's account.
                let retargeted = F.subscription("subscription_created", id: 200, variant: F.proMonthly, status: "active",
                                                updatedAt: Date(), owner: attacker, nonce: nonce)
                #expect(try await harness.deliver(client, retargeted).1 == "rejected")
                // No nonce at all.
                let bare = F.subscription("subscription_created", id: 201, variant: F.proMonthly, status: "active",
                                          updatedAt: Date(), owner: attacker, nonce: nil)
                #expect(try await harness.deliver(client, bare).1 == "rejected")
                #expect(try await harness.moneyState() == before)
                #expect(try await harness.entitlement(client, customer: attacker).plan == "free")

                // Once bound to the payer, the subscription cannot be claimed by the attacker either.
                let genuine = F.subscription("subscription_created", id: 202, variant: F.proMonthly, status: "active",
                                             updatedAt: Date().addingTimeInterval(-60), owner: payer, nonce: nonce)
                #expect(try await harness.deliver(client, genuine).1 == "applied")
                let bound = try await harness.moneyState()
                let stolen = F.subscription("subscription_updated", id: 202, variant: F.proMonthly, status: "active",
                                            updatedAt: Date(), owner: attacker, nonce: nonce)
                #expect(try await harness.deliver(client, stolen).1 == "rejected")
                #expect(try await harness.moneyState() == bound)
                #expect(try await harness.entitlement(client, customer: attacker).plan == "free")
            }
        }
    }

    @Test func expiredNoncesAndNoncesForAnotherVariantAreRefused() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                // Minted for Starter, presented with a Pro subscription.
                let (_, starterNonce) = try await harness.checkout(client, customer: customer, variant: F.starterMonthly)
                // Minted for credits, presented with a subscription of the same customer.
                let (_, creditsNonce) = try await harness.checkout(client, customer: customer, variant: F.credits1000)
                let before = try await harness.moneyState()
                let otherVariant = F.subscription("subscription_created", id: 300, variant: F.proMonthly, status: "active",
                                                  updatedAt: Date(), owner: customer, nonce: starterNonce)
                #expect(try await harness.deliver(client, otherVariant).1 == "rejected")
                let otherPurpose = F.subscription("subscription_created", id: 301, variant: F.starterMonthly, status: "active",
                                                  updatedAt: Date(), owner: customer, nonce: creditsNonce)
                #expect(try await harness.deliver(client, otherPurpose).1 == "rejected")
                #expect(try await harness.moneyState() == before)

                // The right variant, but the checkout expired.
                try await harness.admin("UPDATE billing.checkout_nonces SET expires_at = now() - interval '1 minute'")
                let expiredState = try await harness.moneyState()
                let expired = F.subscription("subscription_created", id: 302, variant: F.starterMonthly, status: "active",
                                             updatedAt: Date(), owner: customer, nonce: starterNonce)
                #expect(try await harness.deliver(client, expired).1 == "rejected")
                #expect(try await harness.moneyState() == expiredState)
                #expect(try await harness.entitlement(client, customer: customer).plan == "free")
            }
        }
    }

    @Test func theSameOrderDeliveredTwiceGrantsCreditsOnce() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                let (_, nonce) = try await harness.checkout(client, customer: customer, variant: F.credits1000)
                let order = F.order("order_created", id: 808, variant: F.credits1000, owner: customer, nonce: nonce)
                #expect(try await harness.deliver(client, order).1 == "applied")
                #expect(try await harness.deliver(client, order).1 == "duplicate")
                // The same order in a new delivery (a new webhook_id, so a different body).
                let redelivered = F.order("order_created", id: 808, variant: F.credits1000, owner: customer, nonce: nonce)
                #expect(redelivered.body != order.body)
                #expect(try await harness.deliver(client, redelivered).1 == "duplicate")
                #expect(try await harness.entitlement(client, customer: customer).credits.balance == 1000)
                #expect(try await harness.events("billing.credits.granted").count == 1)
            }
        }
    }

    @Test func fiftyConcurrentDeliveriesOfOneEventHaveOneEffect() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                let (_, nonce) = try await harness.checkout(client, customer: customer, variant: F.credits1000)
                let order = F.order("order_created", id: 909, variant: F.credits1000, owner: customer, nonce: nonce)
                let outcomes = try await withThrowingTaskGroup(of: String?.self) { group in
                    for _ in 0..<50 { group.addTask { try await harness.deliver(client, order).1 } }
                    var outcomes: [String?] = []
                    for try await outcome in group { outcomes.append(outcome) }
                    return outcomes
                }
                #expect(outcomes.filter { $0 == "applied" }.count == 1)
                #expect(outcomes.filter { $0 == "duplicate" }.count == 49)
                #expect(try await harness.entitlement(client, customer: customer).credits.balance == 1000)
                #expect(try await harness.events("billing.credits.granted").count == 1)
            }
        }
    }
}
