import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// A local stand-in for Lemon Squeezy's Checkouts API that speaks its documented wire format
/// (JSON:API, `POST /v1/checkouts`, bearer key) and records what it was sent. Its answer can be
/// switched to the provider's failure modes: 401, 422, 429, 500, a hang.
final class FakeLemonSqueezy: Sendable {
    enum Mode: Sendable {
        case succeed
        case fail(status: Int)
        case hang
    }

    struct ReceivedCheckout: Sendable {
        let variantID: String
        let storeID: String
        let custom: [String: String]
        let testMode: Bool?
        let expiresAt: String?
    }

    static let apiKey = "test-lemon-api-key"
    static let storeID = "162893"

    private let state = NIOLockedValueBox<(mode: Mode, received: [ReceivedCheckout])>((.succeed, []))
    private let cancellationLog = NIOLockedValueBox<[String]>([])
    /// Runs inside a cancellation, before the answer: what the real provider's webhook does when it
    /// arrives while the caller is still busy.
    let onCancel = NIOLockedValueBox<(@Sendable (String) async -> Void)?>(nil)

    /// The subscription ids `DELETE /v1/subscriptions/{id}` was called with, in order.
    var cancelled: [String] { cancellationLog.withLockedValue { $0 } }

    var mode: Mode {
        get { state.withLockedValue { $0.mode } }
        set { state.withLockedValue { $0.mode = newValue } }
    }

    var received: [ReceivedCheckout] { state.withLockedValue { $0.received } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/checkouts") { request, context -> Response in
            try await self.checkout(request, context: context)
        }
        router.delete("/v1/subscriptions/{id}") { request, context -> Response in
            let response = self.cancel(request, context: context)
            if response.status == .ok, let hook = self.onCancel.withLockedValue({ $0 }) {
                await hook(context.parameters.get("id") ?? "")
            }
            return response
        }
        return router
    }

    private func checkout(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard request.headers[.authorization] == "Bearer \(Self.apiKey)" else {
            return Self.jsonAPI(status: .unauthorized, ["errors": [["status": "401", "title": "Unauthenticated."]]])
        }
        guard request.headers[.accept] == "application/vnd.api+json",
              request.headers[.contentType] == "application/vnd.api+json" else {
            return Self.jsonAPI(status: .unsupportedMediaType, ["errors": [["status": "415", "title": "Unsupported Media Type"]]])
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let document = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let data = document["data"] as? [String: Any], data["type"] as? String == "checkouts",
              let attributes = data["attributes"] as? [String: Any],
              let relationships = data["relationships"] as? [String: Any],
              let store = ((relationships["store"] as? [String: Any])?["data"] as? [String: Any])?["id"] as? String,
              let variant = ((relationships["variant"] as? [String: Any])?["data"] as? [String: Any])?["id"] as? String
        else {
            return Self.jsonAPI(status: .unprocessableContent, ["errors": [["status": "422", "detail": "malformed checkout"]]])
        }
        let custom = ((attributes["checkout_data"] as? [String: Any])?["custom"] as? [String: String]) ?? [:]
        switch mode {
        case .hang:
            try await Task.sleep(for: .seconds(3))
        case .fail(let status):
            return Self.jsonAPI(status: .init(code: status), ["errors": [["status": "\(status)", "detail": "provider failure"]]],
                                headers: status == 429 ? ["Retry-After": "42"] : [:])
        case .succeed:
            break
        }
        state.withLockedValue {
            $0.received.append(.init(variantID: variant, storeID: store, custom: custom,
                                     testMode: attributes["test_mode"] as? Bool, expiresAt: attributes["expires_at"] as? String))
        }
        let id = UUID().uuidString.lowercased()
        return Self.jsonAPI(status: .created, [
            "jsonapi": ["version": "1.0"],
            "links": ["self": "https://api.lemonsqueezy.com/v1/checkouts/\(id)"],
            "data": ["type": "checkouts", "id": id, "attributes": [
                "store_id": Int(store) ?? 0, "variant_id": Int(variant) ?? 0, "custom_price": NSNull(),
                "checkout_data": ["custom": custom], "test_mode": true,
                "url": "https://contexo-test.lemonsqueezy.com/checkout/custom/\(id)?signature=abc",
            ] as [String: Any]] as [String: Any],
        ])
    }

    /// Cancels at the period's end, as the API does: 200 with the subscription now `cancelled`.
    private func cancel(_ request: Request, context: BasicRequestContext) -> Response {
        guard request.headers[.authorization] == "Bearer \(Self.apiKey)" else {
            return Self.jsonAPI(status: .unauthorized, ["errors": [["status": "401", "title": "Unauthenticated."]]])
        }
        let id = context.parameters.get("id") ?? ""
        if case .fail(let status) = mode {
            return Self.jsonAPI(status: .init(code: status), ["errors": [["status": "\(status)", "detail": "provider failure"]]])
        }
        cancellationLog.withLockedValue { $0.append(id) }
        return Self.jsonAPI(status: .ok, [
            "jsonapi": ["version": "1.0"],
            "data": ["type": "subscriptions", "id": id, "attributes": [
                "status": "cancelled", "status_formatted": "Cancelled", "cancelled": true,
                "ends_at": "2030-01-01T00:00:00.000000Z",
            ] as [String: Any]] as [String: Any],
        ])
    }

    private static func jsonAPI(status: HTTPResponse.Status, _ object: [String: Any], headers: [String: String] = [:]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/vnd.api+json"
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
