import AsyncHTTPClient
import Foundation
import NIOCore
import Platform

/// `scripts/fake-lemonsqueezy.py` (the stand-in `scripts/dev` runs) started for a test: the
/// Checkouts and Subscriptions APIs, hosted checkout pages, and webhooks signed with
/// `webhookSecret` and posted to `webhookURL`.
public final class LemonSqueezyStandIn: @unchecked Sendable {
    public static let apiKey = "test-lemon-api-key-e2e"
    public static let storeID = "162893"
    public static let webhookSecret = "contexo-e2e-webhook-secret"
    public let port: Int
    private let process: ChildProcess

    public var apiURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    public init(webhookURL: String) async throws {
        let stack = try TestStack.current()
        port = freePort()
        process = try ChildProcess("/usr/bin/env", [
            "python3", stack.repository.appendingPathComponent("scripts/fake-lemonsqueezy.py").path,
            "--port", String(port), "--api-key", Self.apiKey, "--store-id", Self.storeID,
            "--webhook-url", webhookURL, "--webhook-secret", Self.webhookSecret,
            "--catalog", stack.repository.appendingPathComponent("config/plans.json").path,
        ])
        for _ in 0..<100 {
            if let state = try? await HTTPClient.shared.execute(HTTPClientRequest(url: apiURL.absoluteString + "/__dev/state"),
                                                               timeout: .seconds(2)), state.status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = process.stop()
        throw FakeSupabaseAuth.Unavailable()
    }

    /// Presses "Pay (test mode)" on a checkout page; the webhooks are delivered before it answers.
    public func pay(checkoutURL: String) async throws -> Int {
        var request = HTTPClientRequest(url: checkoutURL + "/pay")
        request.method = .POST
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    /// Sends `event` for the customer's newest subscription or order, as `scripts/dev billing` does;
    /// the status the gateway answered the webhook with.
    public func trigger(_ event: String, customer: UUID) async throws -> Int {
        var request = HTTPClientRequest(url: apiURL.absoluteString + "/__dev/trigger")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"event":"\#(event)","customer":"\#(customer.uuidString.lowercased())"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["delivered"] as? Int ?? 0
    }

    /// The stand-in's record of subscriptions, orders and deliveries.
    public func state() async throws -> [String: Any] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: apiURL.absoluteString + "/__dev/state"),
                                                           timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    deinit { _ = process.stop() }
}
