import Billing
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing
import TestSupport

/// `POST /v1/billing/checkout` through Billing's real Lemon Squeezy client and a fake provider.
@Suite(.timeLimit(.minutes(5))) struct CheckoutTests {
    @Test func aCheckoutCarriesTheCustomerAndAFreshNonceAndStoresOnlyItsHash() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                let (status, nonce) = try await harness.checkout(client, customer: customer, variant: LemonSqueezyFixtures.starterMonthly)
                #expect(status == .created)
                let sent = try #require(harness.fake.received.last)
                #expect(sent.custom["user_id"] == customer.uuidString.lowercased())
                #expect(sent.variantID == "455667" && sent.storeID == FakeLemonSqueezy.storeID, "relationship ids are strings")
                #expect(sent.testMode == true)
                let value = try #require(nonce)
                #expect(value.count == 43, "256 bits, base64url")
                let (_, second) = try await harness.checkout(client, customer: customer, variant: LemonSqueezyFixtures.starterMonthly)
                #expect(second != nonce, "every checkout gets its own nonce")
                let stored = try await harness.moneyState().nonces.joined()
                let hash = SHA256.hash(data: Data(value.utf8)).map { String(format: "%02x", $0) }.joined()
                #expect(stored.contains(hash))
                #expect(!stored.contains(value), "only the hash is stored")
            }
        }
    }

    @Test func badInputIsAClearProblemAndReachesNoProvider() async throws {
        try await BillingHarness.with { harness in
            try await harness.run { client in
                var headers = try await gatewayHeaders(for: .billing, customer: UUID())
                headers[.contentType] = "application/json"
                for (body, status, field) in [
                    (#"{"variant_id": 999}"#, HTTPResponse.Status.unprocessableContent, "variant_id"),
                    (#"{}"#, .unprocessableContent, "variant_id"),
                    (#"{"variant_id": "many"}"#, .unprocessableContent, "variant_id"),
                    (#"{"variant_id": "#, .badRequest, nil),
                ] as [(String, HTTPResponse.Status, String?)] {
                    try await client.execute(uri: "/v1/billing/checkout", method: .post, headers: headers,
                                             body: ByteBuffer(string: body)) { response in
                        #expect(response.status == status, "\(body)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                        if let field { #expect(String(buffer: response.body).contains(field)) }
                    }
                }
                headers[.contentType] = "text/plain"
                try await client.execute(uri: "/v1/billing/checkout", method: .post, headers: headers,
                                         body: ByteBuffer(string: #"{"variant_id": 455667}"#)) { response in
                    #expect(response.status == .unsupportedMediaType)
                }
                #expect(harness.fake.received.isEmpty)
                #expect(try await harness.moneyState().nonces.isEmpty)
            }
        }
    }

    @Test func providerFailuresBecomeProblemsAndLeaveNothingHalfWritten() async throws {
        // A hanging provider is cut off after 1 s here.
        try await BillingHarness.with(providerTimeout: .seconds(1)) { harness in
            try await harness.run { client in
                var headers = try await gatewayHeaders(for: .billing, customer: UUID())
                headers[.contentType] = "application/json"
                let cases: [(FakeLemonSqueezy.Mode, HTTPResponse.Status, String?)] = [
                    (.fail(status: 401), .badGateway, nil),
                    (.fail(status: 500), .badGateway, nil),
                    (.fail(status: 429), .serviceUnavailable, "42"),
                    (.hang, .serviceUnavailable, "10"),
                ]
                for (mode, expected, retryAfter) in cases {
                    harness.fake.mode = mode
                    try await client.execute(uri: "/v1/billing/checkout", method: .post, headers: headers,
                                             body: ByteBuffer(string: #"{"variant_id": 500001}"#)) { response in
                        #expect(response.status == expected, "\(mode)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                        if let retryAfter { #expect(response.headers[.retryAfter] == retryAfter) }
                    }
                }
                #expect(try await harness.moneyState().nonces.isEmpty, "no nonce without a checkout")
            }
        }
    }

    /// Found in review: the open-checkout count used to be read outside any lock, before the
    /// provider call, so a burst could open more than the limit.
    @Test func aBurstOfCheckoutsOpensNoMoreThanTheLimit() async throws {
        try await BillingHarness.with { harness in
            let customer = UUID()
            try await harness.run { client in
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<30 {
                        group.addTask { try await harness.checkout(client, customer: customer, variant: LemonSqueezyFixtures.starterMonthly).0 }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .created }.count == 20, "\(statuses)")
                #expect(statuses.filter { $0 == .tooManyRequests }.count == 10, "\(statuses)")
                let open = try await harness.moneyState().nonces.first?.split(separator: ",").count ?? 0
                #expect(open == 20)
                #expect(harness.fake.received.count == 20, "the provider was asked only for the checkouts that count")
            }
        }
    }

    @Test func withoutAnAPIKeyCheckoutIsUnavailable() async throws {
        try await BillingHarness.with { harness in
            var configuration = try harness.configuration(lemonPort: 9)
            configuration.lemonSqueezy.apiKey = nil
            let app = try await Billing.buildApplication(configuration: configuration, logger: harness.logger)
            try await app.test(.router) { client in
                var headers = try await gatewayHeaders(for: .billing, customer: UUID())
                headers[.contentType] = "application/json"
                try await client.execute(uri: "/v1/billing/checkout", method: .post, headers: headers,
                                         body: ByteBuffer(string: #"{"variant_id": 455667}"#)) { response in
                    #expect(response.status == .serviceUnavailable)
                }
            }
        }
    }
}
