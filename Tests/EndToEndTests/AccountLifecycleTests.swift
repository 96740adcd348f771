import AsyncHTTPClient
import Foundation
import Platform
import Testing
import TestSupport

/// Issue 15's "done when", on the real executables with the same Supabase Auth and Lemon Squeezy
/// stand-ins `scripts/dev` runs: a new customer signs up, sees the free plan in `GET /v1/account`,
/// pays a Starter checkout and sees the plan change, exports an archive holding their document's
/// text and their visitors' conversation, deletes the account, and their token then gets 401.
@Suite(.serialized, .timeLimit(.minutes(5))) struct AccountLifecycleTests {
    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    @Test func signUpUpgradeExportAndDeleteThroughTheWholeStack() async throws {
        try await withTestDatabase { database in
            let stack = LocalStack(database: database)
            let auth = try await FakeSupabaseAuth(jwtSecret: LocalStack.jwtSecret)
            let payments = try await LemonSqueezyStandIn(webhookURL: stack.url("gateway", "/webhooks/lemonsqueezy"))
            let authURL = auth.authURL.absoluteString
            stack.extraEnvironment = [
                "gateway": ["CONTEXO_SUPABASE_AUTH_URL": authURL, "CONTEXO_SUPABASE_ANON_KEY": FakeSupabaseAuth.anonKey,
                            "CONTEXO_JWT_ISSUER": authURL],
                "billing": ["CONTEXO_SUPABASE_AUTH_URL": authURL, "CONTEXO_SUPABASE_SECRET_KEY": FakeSupabaseAuth.secretKey,
                            "CONTEXO_LEMONSQUEEZY_API_URL": payments.apiURL.absoluteString,
                            "CONTEXO_LEMONSQUEEZY_API_KEY": LemonSqueezyStandIn.apiKey,
                            "CONTEXO_LEMONSQUEEZY_STORE_ID": LemonSqueezyStandIn.storeID,
                            "CONTEXO_LEMONSQUEEZY_WEBHOOK_SECRET": LemonSqueezyStandIn.webhookSecret],
            ]
            defer { stack.stopAll() }
            try stack.startAll()
            for service in LocalStack.services {
                let ready = await stack.waitReady(service)
                #expect(ready, "\(service) never became ready:\n\(stack.process(service).output().suffix(2000))")
            }

            // Sign up at the Auth stand-in, with what /app/config.json says.
            let config = Self.json(try await stack.body("gateway", "/app/config.json"))
            #expect((config["auth"] as? [String: Any])?["url"] as? String == authURL)
            let customer = try await auth.signUp(email: "founder@example.com")
            let token = customer.accessToken

            // The free plan, in one call.
            var (status, body) = try await stack.call("gateway", "GET", "/v1/account", token: token)
            #expect(status == 200, "\(body)")
            var account = Self.json(body)
            #expect((account["plan"] as? [String: Any])?["id"] as? String == "free")
            #expect((account["customer"] as? [String: Any])?["email"] as? String == "founder@example.com")

            // Upgrade: a real checkout, paid on the stand-in's page; its webhooks reach Billing through the gateway.
            (status, body) = try await stack.call("gateway", "POST", "/v1/billing/checkout", token: token, json: #"{"variant_id":455667}"#)
            #expect(status == 201, "\(body)")
            let checkoutURL = try #require(Self.json(body)["checkout_url"] as? String)
            let paidAt = ContinuousClock.now
            #expect(try await payments.pay(checkoutURL: checkoutURL) == 200)
            var plan = "", widgetLimit = 0
            while plan != "starter" || widgetLimit != 3, ContinuousClock.now - paidAt < .seconds(10) {
                account = Self.json(try await stack.call("gateway", "GET", "/v1/account", token: token).1)
                plan = (account["plan"] as? [String: Any])?["id"] as? String ?? ""
                // Chat enforces the limit from its copy, which follows Billing's event a moment later.
                widgetLimit = ((account["usage"] as? [String: Any])?["widgets"] as? [String: Any])?["limit"] as? Int ?? 0
                if plan != "starter" || widgetLimit != 3 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(plan == "starter" && widgetLimit == 3)
            #expect(ContinuousClock.now - paidAt < .seconds(3), "the new plan shows, and is enforced, within a few seconds")

            // Events by hand, as `scripts/dev billing` sends them: a cancellation, then a resumption.
            for (event, expected) in [("subscription_cancelled", "cancelled"), ("subscription_resumed", "active")] {
                let delivered = try await payments.trigger(event, customer: customer.id)
                #expect(delivered == 200, "\(event)")
                let shown = (Self.json(try await stack.call("gateway", "GET", "/v1/account", token: token).1)["plan"] as? [String: Any])?["status"]
                #expect(shown as? String == expected, "\(event)")
            }

            // A widget, a document, and a visitor's conversation.
            (status, body) = try await stack.call("gateway", "POST", "/v1/widgets", token: token,
                                                  json: #"{"name":"Help","allowed_domains":["https://shop.example.com"]}"#)
            #expect(status == 201, "\(body)")
            let widget = try #require(Self.json(body)["id"] as? String)
            let text = "Returns are accepted within 30 days of delivery for a full refund."
            (status, body) = try await stack.call("gateway", "POST", "/v1/documents", token: token,
                                                  json: #"{"widget_id":"\#(widget)","title":"Returns","text":"\#(text)"}"#)
            #expect(status == 202, "\(body)")
            let document = try #require(Self.json(body)["id"] as? String)
            var documentStatus = ""
            for _ in 0..<200 where documentStatus != "ready" {
                documentStatus = Self.json(try await stack.call("gateway", "GET", "/v1/documents/\(document)", token: token).1)["status"] as? String ?? ""
                if documentStatus != "ready" { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(documentStatus == "ready", "\(stack.process("ingest").output().suffix(3000))")
            let origin = [("Origin", "https://shop.example.com")]
            (status, body) = try await stack.call("gateway", "POST", "/widget/v1/widgets/\(widget)/sessions", json: "{}", headers: origin)
            #expect(status == 201, "\(body)")
            let session = try #require(Self.json(body)["token"] as? String)
            (status, body) = try await stack.call("gateway", "POST", "/widget/v1/widgets/\(widget)/messages",
                                                  json: #"{"message":"How long do I have to return something?"}"#,
                                                  headers: origin + [("X-Contexo-Session", session)])
            #expect(status == 200, "\(body)")

            // The export holds the document's text and the conversation, and ends complete.
            (status, body) = try await stack.call("gateway", "POST", "/v1/account/export", token: token)
            #expect(status == 202, "\(body)")
            let download = try #require(Self.json(body)["download_url"] as? String)
            (status, body) = try await stack.call("gateway", "GET", download, token: token)
            #expect(status == 200)
            let lines = body.split(separator: "\n").map { Self.json(String($0)) }
            let rows = lines.compactMap { $0["row"] as? [String: Any] }
            #expect(rows.contains { ($0["content"] as? String)?.contains("30 days of delivery") == true && $0["ordinal"] != nil })
            #expect(rows.contains { $0["content"] as? String == "How long do I have to return something?" })
            #expect(rows.contains { $0["role"] as? String == "assistant" })
            #expect(lines.last?["record"] as? String == "end" && lines.last?["complete"] as? Bool == true)

            // Delete the account: the subscription is cancelled at the provider, the identity is gone,
            // the token no longer works anywhere, and no row names the customer once the events land.
            (status, body) = try await stack.call("gateway", "DELETE", "/v1/account", token: token, json: #"{"confirm":"delete my account"}"#)
            #expect(status == 200, "\(body)")
            #expect(Self.json(body)["subscriptions_cancelled"] as? Int == 1 && Self.json(body)["identity"] as? String == "deleted")
            #expect(try await stack.call("gateway", "GET", "/v1/widgets", token: token).0 == 401)
            #expect(try await auth.call("GET", "/user", bearer: token).status == 403)
            let subscriptions = try await payments.state()["subscriptions"] as? [String: [String: Any]] ?? [:]
            #expect(subscriptions.values.map { $0["status"] as? String } == ["cancelled"])
            var left: [String: Int] = [:]
            for _ in 0..<100 {
                left = try await database.ownerRows(customer.id).filter { $0.value != 0 }
                if left.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(left.isEmpty, "rows left behind: \(left)")
        }
    }
}
