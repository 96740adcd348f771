import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOConcurrencyHelpers
import NIOCore
import Platform
import Testing
import TestSupport
@testable import Gateway

/// Issue 15 at the gateway: `GET /v1/account` puts the picture together from the three services
/// and says which part is missing; `DELETE /v1/account` makes every gateway refuse the customer's
/// tokens, including ones issued before; `/app/config.json` tells the dashboard where to sign in,
/// and tokens from the fake Supabase Auth that `scripts/dev` runs are accepted.
@Suite(.timeLimit(.minutes(5))) struct GatewayAccountTests {
    /// Billing, Chat and Ingest in one fake, answering the account's parts and a deletion.
    final class Upstream: Sendable {
        let deletions = NIOLockedValueBox(0)

        var router: Router<BasicRequestContext> {
            let router = Router()
            @Sendable func json(_ text: String) -> Response {
                Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            router.get("/v1/billing/entitlements") { _, _ in
                json(#"{"plan":"starter","status":"active","limits":{"widgets":3,"messages_per_month":2000,"knowledge_bytes":50000000},"period_end":"2027-01-01T00:00:00Z","credits":{"granted":1000,"revoked":0,"balance":1000},"revision":4}"#)
            }
            router.get("/v1/chat/usage") { _, _ in
                json(#"{"period":"2026-12","messages_used":12,"messages_allowance":2000,"messages_remaining":1988,"credits_remaining":1000,"credit_debt":0,"widgets_used":2,"widgets_limit":3,"history":[{"period":"2026-11","plan":40,"credits":0},{"period":"2026-12","plan":12,"credits":0}]}"#)
            }
            router.get("/internal/knowledge/usage") { _, _ in
                json(#"{"bytes_used":1234,"bytes_limit":50000000,"documents":{"ready":3,"failed":1}}"#)
            }
            router.get("/v1/widgets") { _, _ in json(#"{"widgets":[]}"#) }
            router.get("/internal/account/audit") { request, _ in
                // Each service's own entries (told apart by the token's audience), and one export
                // that read all three in the same request.
                let token = request.headers[HTTPField.Name(InternalTokenVerifier.header)!] ?? ""
                let claims = token.split(separator: ".").dropFirst().first.flatMap { Data(base64URL: $0) }
                    .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
                let service = claims?["aud"] as? String ?? "?"
                return json(#"{"entries":[{"at":"2026-12-03T10:00:02.000000Z","actor":"customer","action":"widget.updated","subject":"w","detail":{},"request_id":"r2-\#(service)"},{"at":"2026-12-02T08:00:00.000000Z","actor":"customer","action":"account.exported","subject":null,"detail":{},"request_id":"export-1"},{"at":"2026-12-01T09:00:00.000000Z","actor":"customer","action":"widget.created","subject":"w","detail":{},"request_id":"r1-\#(service)"}]}"#)
            }
            router.delete("/v1/account") { _, _ in
                self.deletions.withLockedValue { $0 += 1 }
                return json(#"{"status":"deleted","subscriptions_cancelled":0,"identity":"deleted"}"#)
            }
            return router
        }
    }

    static func token(customer: UUID, email: String? = nil, issuedAt: Date = Date()) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: GatewayTests.jwtSecret), digestAlgorithm: .sha256)
        return try await keys.sign(CustomerTokenClaims(
            sub: .init(value: customer.uuidString.lowercased()), aud: .init(value: "authenticated"),
            exp: .init(value: issuedAt.addingTimeInterval(600)), nbf: nil, iat: .init(value: issuedAt), iss: nil,
            role: "authenticated", email: email))
    }

    static func get(_ client: some TestClientProtocol, _ uri: String, token: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        let response = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(token)"])
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
    }

    static func deleteAccount(_ client: some TestClientProtocol, token: String) async throws -> HTTPResponse.Status {
        let response = try await client.execute(
            uri: "/v1/account", method: .delete,
            headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
            body: ByteBuffer(string: #"{"confirm":"delete my account"}"#))
        return response.status
    }

    @Test func theAccountIsOnePictureAndNamesAMissingPart() async throws {
        let customer = UUID()
        let token = try await Self.token(customer: customer, email: "jane@example.com")
        try await withLiveServer(Upstream().router) { port in
            try await GatewayTests().gateway(upstreamPort: port) { $0.internalLookupTimeout = .seconds(20) }.test(.router) { client in
                let (status, account) = try await Self.get(client, "/v1/account", token: token)
                #expect(status == .ok)
                let who = account["customer"] as? [String: Any]
                #expect(who?["id"] as? String == customer.uuidString.lowercased() && who?["email"] as? String == "jane@example.com")
                #expect((account["plan"] as? [String: Any])?["id"] as? String == "starter")
                let usage = account["usage"] as? [String: Any] ?? [:]
                #expect((usage["widgets"] as? [String: Any])?["used"] as? Int == 2)
                #expect((usage["widgets"] as? [String: Any])?["limit"] as? Int == 3)
                #expect((usage["messages"] as? [String: Any])?["used"] as? Int == 12)
                #expect((usage["knowledge_bytes"] as? [String: Any])?["used"] as? Int == 1234)
                #expect((account["documents"] as? [String: Any])?["ready"] as? Int == 3)
                #expect((account["message_history"] as? [Any])?.count == 2)
                #expect((account["missing"] as? [Any])?.isEmpty == true)
            }
            // Ingest down: the rest still answers, and the answer says what is missing.
            try await GatewayTests().gateway(upstreamPort: port) {
                $0.internalLookupTimeout = .seconds(20)
                $0.upstreams.ingest = URL(string: "http://127.0.0.1:9")!
            }.test(.router) { client in
                let (status, account) = try await Self.get(client, "/v1/account", token: token)
                #expect(status == .ok)
                let missing = account["missing"] as? [[String: Any]] ?? []
                #expect(missing.map { $0["part"] as? String } == ["knowledge"] && missing.first?["service"] as? String == "ingest")
                #expect(account["documents"] == nil && (account["usage"] as? [String: Any])?["knowledge_bytes"] == nil)
                #expect((account["plan"] as? [String: Any])?["id"] as? String == "starter")
            }
        }
        // Nothing answers: a clear 503, not an empty picture.
        try await GatewayTests().gateway(upstreamPort: 9).test(.router) { client in
            let status = try await Self.get(client, "/v1/account", token: token).0
            #expect(status == .serviceUnavailable)
        }
    }

    /// S10: the audit trail is every service's, merged newest first, each entry naming its service.
    @Test func theAuditTrailMergesEveryServicesEntriesNewestFirst() async throws {
        let token = try await Self.token(customer: UUID())
        try await withLiveServer(Upstream().router) { port in
            try await GatewayTests().gateway(upstreamPort: port) { $0.internalLookupTimeout = .seconds(20) }.test(.router) { client in
                let (status, trail) = try await Self.get(client, "/v1/account/audit", token: token)
                #expect(status == .ok)
                let entries = trail["entries"] as? [[String: Any]] ?? []
                #expect(entries.count == 7 && (trail["missing"] as? [Any])?.isEmpty == true, "\(entries)")
                #expect(entries.prefix(3).allSatisfy { $0["action"] as? String == "widget.updated" })
                #expect(Set(entries.prefix(3).compactMap { $0["service"] as? String }) == ["chat", "ingest", "billing"])
                #expect(entries.filter { $0["action"] as? String == "account.exported" }.count == 1, "one export, not one per service")
                let (_, newest) = try await Self.get(client, "/v1/account/audit?limit=2", token: token)
                #expect((newest["entries"] as? [Any])?.count == 2)
                for bad in ["0", "501", "x"] {
                    #expect(try await Self.get(client, "/v1/account/audit?limit=\(bad)", token: token).0 == .unprocessableContent)
                }
            }
        }
    }

    @Test func afterADeletionEveryGatewayRefusesTheCustomersTokens() async throws {
        let upstream = Upstream()
        let customer = UUID(), other = UUID()
        let earlier = try await Self.token(customer: customer, issuedAt: Date().addingTimeInterval(-120))
        let token = try await Self.token(customer: customer)
        let othersToken = try await Self.token(customer: other)
        let redis = RedisClient(endpoint: try TestStack.current().redis)
        defer { Task { await redis.shutdown() } }
        try await withLiveServer(upstream.router) { port in
            try await GatewayTests().gateway(upstreamPort: port).test(.router) { client in
                #expect(try await Self.get(client, "/v1/widgets", token: earlier).0 == .ok, "the token is cached as verified")
                #expect(try await Self.deleteAccount(client, token: token) == .ok)
                #expect(upstream.deletions.withLockedValue { $0 } == 1)
                for stale in [token, earlier] {
                    let (status, problem) = try await Self.get(client, "/v1/widgets", token: stale)
                    #expect(status == .unauthorized && (problem["detail"] as? String)?.contains("deleted") == true)
                }
                #expect(try await Self.get(client, "/v1/widgets", token: othersToken).0 == .ok)
            }
            // Another replica, or this one restarted, learns it from Redis; the key does not name the customer.
            let key = AccountRevocations(redis: nil, secret: TestStack.internalSecret, logger: .init(label: "test")).redisKey(for: customer)
            #expect(try await redis.send("GET", key).string == "1")
            #expect(try await redis.send("TTL", key).integer.map { $0 > 7 * 86400 } == true)
            let naming = try await redis.send("KEYS", "*\(customer.uuidString.lowercased())*").array ?? []
            #expect(naming.isEmpty, "no Redis key names the deleted customer")
            try await GatewayTests().gateway(upstreamPort: port).test(.router) { client in
                let refused = try await Self.get(client, "/v1/widgets", token: earlier).0
                let served = try await Self.get(client, "/v1/widgets", token: othersToken).0
                #expect(refused == .unauthorized && served == .ok)
            }
        }
    }

    @Test func aGatewayThatDidNotTakeTheDeletionLearnsItFromBillingsEvent() async throws {
        let customer = UUID()
        let token = try await Self.token(customer: customer)
        let redis = RedisClient(endpoint: try TestStack.current().redis)
        defer { Task { await redis.shutdown() } }
        try await withLiveServer(Upstream().router) { port in
            try await GatewayTests().gateway(upstreamPort: port).test(.router) { client in
                #expect(try await Self.get(client, "/v1/widgets", token: token).0 == .ok)
                let deleted = try EventEnvelope(AccountDeleted(requestedAt: Date()), tenantID: customer)
                var status = HTTPResponse.Status.ok
                for attempt in 0..<50 where status == .ok {
                    // Re-announce now and then: the gateway's tail may not have started reading yet.
                    if attempt % 10 == 0 {
                        try await redis.send(try TestEventKeys.signedAdd(deleted, to: EventStream.billing.key, by: .billing))
                    }
                    try await Task.sleep(for: .milliseconds(100))
                    status = try await Self.get(client, "/v1/widgets", token: token).0
                }
                #expect(status == .unauthorized, "the cached token stops working once account.deleted arrives")
            }
        }
    }

    @Test func tokensFromTheFakeSupabaseAuthSignInToTheGateway() async throws {
        let auth = try await FakeSupabaseAuth(jwtSecret: GatewayTests.jwtSecret)
        let user = try await auth.signUp(email: "newcomer@example.com")
        try await withLiveServer(Upstream().router) { port in
            try await GatewayTests().gateway(upstreamPort: port) {
                $0.internalLookupTimeout = .seconds(20)
                $0.customerTokens.issuer = auth.authURL.absoluteString
                $0.signIn = .init(authURL: auth.authURL, publicKey: FakeSupabaseAuth.anonKey)
            }.test(.router) { client in
                let (status, account) = try await Self.get(client, "/v1/account", token: user.accessToken)
                #expect(status == .ok)
                #expect((account["customer"] as? [String: Any])?["id"] as? String == user.id.uuidString.lowercased())
                #expect((account["customer"] as? [String: Any])?["email"] as? String == "newcomer@example.com")

                let config = try await client.execute(uri: "/app/config.json", method: .get) { response in
                    #expect(response.status == .ok)
                    return String(buffer: response.body)
                }
                #expect(config.contains(FakeSupabaseAuth.anonKey) && config.contains(#""environment":"development""#))
                #expect(config.contains("/auth/v1"))
                #expect(!config.contains(FakeSupabaseAuth.secretKey))
            }
        }
        // A refreshed token (the grant rotates the refresh token) is just as good.
        let signedIn = try await auth.call("POST", "/token?grant_type=password",
                                           json: #"{"email":"newcomer@example.com","password":"correct horse battery"}"#)
        #expect(signedIn.status == 200)
        let refresh = try #require(signedIn.body?["refresh_token"] as? String)
        let refreshed = try await auth.call("POST", "/token?grant_type=refresh_token", json: #"{"refresh_token":"\#(refresh)"}"#)
        #expect(refreshed.status == 200 && refreshed.body?["refresh_token"] as? String != refresh)
        let reused = try await auth.call("POST", "/token?grant_type=refresh_token", json: #"{"refresh_token":"x\#(refresh)"}"#)
        #expect(reused.status == 400)
    }

    @Test func theDashboardIsNeverHandedASecretKey() {
        #expect(GatewayConfiguration.isPublicKey("sb_publishable_abc123"))
        #expect(!GatewayConfiguration.isPublicKey("sb_secret_abc123"))
        func jwt(_ role: String) -> String {
            let payload = Data(#"{"iss":"supabase","role":"\#(role)"}"#.utf8).base64URLEncodedString()
            return "eyJhbGciOiJIUzI1NiJ9.\(payload).c2ln"
        }
        #expect(GatewayConfiguration.isPublicKey(jwt("anon")))
        #expect(!GatewayConfiguration.isPublicKey(jwt("service_role")))
        var reader = ConfigurationReader(environment: [
            "CONTEXO_SUPABASE_AUTH_URL": "https://abc.supabase.co/auth/v1", "CONTEXO_SUPABASE_ANON_KEY": jwt("service_role"),
        ])
        #expect(GatewayConfiguration.readSignIn(from: &reader, environment: .production) == nil)
        #expect(reader.problems.contains { $0.variable == "CONTEXO_SUPABASE_ANON_KEY" })
    }
}
