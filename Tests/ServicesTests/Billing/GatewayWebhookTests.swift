import Billing
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Platform
import Testing
import TestSupport
@testable import Gateway

/// Lemon Squeezy → gateway `/webhooks/lemonsqueezy` → Billing: the raw bytes arrive untouched (the
/// signature verifies over them), without any customer token.
@Suite(.timeLimit(.minutes(5))) struct GatewayWebhookTests {
    @Test func theGatewayForwardsTheRawBodySoTheSignatureStillVerifies() async throws {
        try await BillingHarness.with { harness in
            let billing = try await Billing.buildApplication(configuration: try harness.configuration(lemonPort: 9), logger: harness.logger)
            try await billing.test(.live) { billingClient in
                let upstream = URL(string: "http://127.0.0.1:\(billingClient.port!)")!
                let stack = try TestStack.current()
                let gateway = try await Gateway.buildApplication(
                    configuration: GatewayConfiguration(
                        service: ServiceConfiguration(environment: .development, port: 0, logLevel: .warning,
                                                      internalTokenSecret: TestStack.internalSecret, redis: stack.redis(for: .gateway),
                                              events: TestEventKeys.events(for: .gateway)),
                        upstreams: .init(chat: upstream, ingest: upstream, billing: upstream),
                        customerTokens: .init(hmacSecret: GatewayTests.jwtSecret), maximumJSONBodyBytes: 4096),
                    logger: Logger(label: "test.gateway"))
                try await gateway.test(.router) { client in
                    // Unusual but valid JSON: spacing, key order and escapes a re-serialiser would change.
                    let body = Data(#"{ "meta" : {"event_name":"license_key_created", "custom_data":{"note":"caf\u00e9 ☕"}},"data":{"id":"1","type":"license-keys","attributes":{}} }"#.utf8)
                    let delivery = LemonSqueezyFixtures.Delivery(body: body, eventName: "license_key_created")
                    var headers: HTTPFields = [.contentType: "application/json"]
                    headers[HTTPField.Name("X-Signature")!] = delivery.signature
                    headers[HTTPField.Name("X-Event-Name")!] = "license_key_created"
                    try await client.execute(uri: "/webhooks/lemonsqueezy", method: .post, headers: headers,
                                             body: ByteBuffer(data: body)) { response in
                        #expect(response.status == .ok, "\(String(buffer: response.body))")
                        #expect(String(buffer: response.body).contains("ignored"))
                        #expect(response.headers[.strictTransportSecurity] != nil, "Helmet headers on webhook answers too")
                    }
                    headers[HTTPField.Name("X-Signature")!] = String(repeating: "a", count: 64)
                    try await client.execute(uri: "/webhooks/lemonsqueezy", method: .post, headers: headers,
                                             body: ByteBuffer(data: body)) { response in
                        #expect(response.status == .forbidden)
                        #expect(response.headers[.contentType] == "application/problem+json")
                    }
                    // Far larger than any Lemon Squeezy body: refused at the edge.
                    headers[.contentLength] = String(2 << 20)
                    try await client.execute(uri: "/webhooks/lemonsqueezy", method: .post, headers: headers,
                                             body: ByteBuffer(repeating: 0x20, count: 2 << 20)) { response in
                        #expect(response.status == .contentTooLarge)
                    }
                }
            }
        }
    }
}
