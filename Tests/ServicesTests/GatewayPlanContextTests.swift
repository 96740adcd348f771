import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import Platform
import Testing
import TestSupport
@testable import Gateway

/// S3.2: after verifying the customer's token the gateway attaches their plan and quota context,
/// read from Billing, cached, and dropped as soon as Billing announces a change.
@Suite(.timeLimit(.minutes(5))) struct GatewayPlanContextTests {
    /// A fake Billing (entitlements per customer, counting lookups) that is also the fake Chat
    /// (reporting the plan it received in the internal token).
    final class Upstream: Sendable {
        let plan = NIOLockedValueBox("starter")
        let lookups = NIOLockedValueBox(0)

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.get("/v1/billing/entitlements") { _, _ -> Response in
                self.lookups.withLockedValue { $0 += 1 }
                let plan = self.plan.withLockedValue { $0 }
                let body = #"{"plan":"\#(plan)","status":"active","limits":{"widgets":3,"messages_per_month":2000,"knowledge_bytes":50000000},"credits":{"granted":0,"revoked":0,"balance":0},"revision":1}"#
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            router.get("/v1/widgets") { request, _ -> String in
                let token = request.headers[HTTPField.Name(InternalTokenVerifier.header)!] ?? ""
                let caller = try await InternalTokenVerifier(secret: TestStack.internalSecret, service: .chat).verify(token)
                return caller.plan?.plan ?? "none"
            }
            return router
        }
    }

    func seenPlan(_ client: some TestClientProtocol, token: String) async throws -> String {
        try await client.execute(uri: "/v1/widgets", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
            #expect(response.status == .ok)
            return String(buffer: response.body)
        }
    }

    @Test func thePlanContextIsAttachedCachedAndRefreshedWhenBillingAnnouncesAChange() async throws {
        let upstream = Upstream()
        let customer = UUID()
        let token = try await GatewayTests.token(customer: customer)
        let redis = RedisClient(endpoint: try TestStack.current().redis)
        defer { Task { await redis.shutdown() } }
        try await withLiveServer(upstream.router) { port in
            // A generous lookup timeout: a cold, loaded CI machine can take seconds to answer the first call.
            try await GatewayTests().gateway(upstreamPort: port) { $0.internalLookupTimeout = .seconds(20) }.test(.router) { client in
                #expect(try await seenPlan(client, token: token) == "starter")
                #expect(try await seenPlan(client, token: token) == "starter")
                #expect(upstream.lookups.withLockedValue { $0 } == 1, "the second request is served from the cache")

                // Billing changes the plan and says so on its stream.
                upstream.plan.withLockedValue { $0 = "pro" }
                let change = try EventEnvelope(
                    EntitlementsChanged(plan: "pro", status: "active",
                                        limits: .init(widgets: 10, messagesPerMonth: 10_000, knowledgeBytes: 500_000_000),
                                        periodEnd: nil, revision: 2),
                    tenantID: customer)
                var seen = "starter"
                for attempt in 0..<50 where seen != "pro" {
                    // Re-announce now and then: the gateway's tail may not have started reading yet.
                    if attempt % 10 == 0 {
                        try await redis.send(try TestEventKeys.signedAdd(change, to: EventStream.billing.key, by: .billing))
                    }
                    try await Task.sleep(for: .milliseconds(100))
                    seen = try await seenPlan(client, token: token)
                }
                #expect(seen == "pro", "the change reached the gateway's cache")
            }
        }
    }

    @Test func withBillingDownRequestsGoOnWithoutAPlanContext() async throws {
        let upstream = Upstream()
        let token = try await GatewayTests.token(customer: UUID())
        try await withLiveServer(upstream.router) { port in
            let app = try await GatewayTests().gateway(upstreamPort: port) {
                $0.upstreams.billing = URL(string: "http://127.0.0.1:\(freePort())")!
            }
            try await app.test(.router) { client in
                let plan = try await seenPlan(client, token: token)
                #expect(plan == "none")
            }
        }
    }
}
