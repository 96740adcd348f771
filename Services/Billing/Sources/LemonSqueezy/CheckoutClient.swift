import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Platform

/// Creates checkouts with Lemon Squeezy's Checkouts API (`POST /v1/checkouts`, JSON:API).
/// Failures become problems the customer can act on: the provider refusing (its 4xx/5xx) is a 502,
/// the provider unreachable, slow or rate-limiting us is a 503 with `Retry-After`.
public struct LemonSqueezyCheckoutClient: Sendable {
    public struct Settings: Sendable {
        public var apiURL: URL
        public var apiKey: String
        public var storeID: String
        public var testMode: Bool
        public var timeout: Duration

        public init(apiURL: URL, apiKey: String, storeID: String, testMode: Bool, timeout: Duration = .seconds(10)) {
            self.apiURL = apiURL
            self.apiKey = apiKey
            self.storeID = storeID
            self.testMode = testMode
            self.timeout = timeout
        }
    }

    /// What to put in the checkout.
    public struct Request: Sendable {
        public var variantID: Int64
        public var customData: [String: String]
        public var email: String?
        public var redirectURL: String?
        public var expiresAt: Date
    }

    /// The created checkout.
    public struct Checkout: Sendable, Equatable {
        public var id: String
        public var url: String
    }

    let settings: Settings
    let httpClient: HTTPClient
    let logger: Logger

    public init(settings: Settings, httpClient: HTTPClient, logger: Logger) {
        self.settings = settings
        self.httpClient = httpClient
        self.logger = logger
    }

    public func createCheckout(_ checkout: Request) async throws(Problem) -> Checkout {
        var request = apiRequest(.POST, "/v1/checkouts")
        request.body = .bytes(ByteBuffer(bytes: body(for: checkout)))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: .init(settings.timeout))
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            logger.warning("Lemon Squeezy unreachable", metadata: ["error": "\(error)"])
            throw Self.unavailable("The payment provider did not answer in time. Try again in a moment.", retryAfter: 10)
        }
        let status = response.status.code
        guard (200..<300).contains(status) else {
            let detail = Self.errorDetail(Data(buffer: bytes))
            logger.warning("Lemon Squeezy refused a checkout", metadata: ["status": "\(status)", "detail": "\(detail)"])
            if status == 429 {
                let retry = response.headers.first(name: "Retry-After").flatMap(Int.init) ?? 30
                throw Self.unavailable("The payment provider is rate-limiting checkouts. Try again shortly.", retryAfter: retry)
            }
            throw Problem(status: .badGateway, slug: "payment-provider", title: "Payment Provider Error",
                          detail: "The payment provider refused to create the checkout (HTTP \(status)).")
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any],
              let data = json["data"] as? [String: Any], let attributes = data["attributes"] as? [String: Any],
              let url = attributes["url"] as? String, url.hasPrefix("https://") || url.hasPrefix("http://") else {
            logger.warning("Lemon Squeezy answered a checkout without a URL")
            throw Problem(status: .badGateway, slug: "payment-provider", title: "Payment Provider Error",
                          detail: "The payment provider's answer had no checkout URL.")
        }
        return Checkout(id: data["id"] as? String ?? "", url: url)
    }

    /// A JSON:API request to `path` with the API key, as every call of Lemon Squeezy's API needs.
    func apiRequest(_ method: HTTPMethod, _ path: String) -> HTTPClientRequest {
        var base = settings.apiURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/vnd.api+json")
        request.headers.add(name: "Content-Type", value: "application/vnd.api+json")
        request.headers.add(name: "Authorization", value: "Bearer \(settings.apiKey)")
        return request
    }

    /// The JSON:API body (relationship ids are strings; custom data values are strings).
    func body(for checkout: Request) -> Data {
        var checkoutData: [String: Any] = ["custom": checkout.customData]
        if let email = checkout.email { checkoutData["email"] = email }
        var productOptions: [String: Any] = ["enabled_variants": [checkout.variantID]]
        if let redirect = checkout.redirectURL { productOptions["redirect_url"] = redirect }
        let formatter = ISO8601DateFormatter()
        let document: [String: Any] = [
            "data": [
                "type": "checkouts",
                "attributes": [
                    "product_options": productOptions,
                    "checkout_options": ["embed": false],
                    "checkout_data": checkoutData,
                    "expires_at": formatter.string(from: checkout.expiresAt),
                    "preview": false,
                    "test_mode": settings.testMode,
                ] as [String: Any],
                "relationships": [
                    "store": ["data": ["type": "stores", "id": settings.storeID]],
                    "variant": ["data": ["type": "variants", "id": String(checkout.variantID)]],
                ],
            ] as [String: Any],
        ]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data()
    }

    static func errorDetail(_ body: Data) -> String {
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let errors = json["errors"] as? [[String: Any]] else { return "" }
        return errors.compactMap { $0["detail"] as? String ?? $0["title"] as? String }.joined(separator: "; ")
    }

    static func unavailable(_ detail: String, retryAfter: Int) -> Problem {
        Problem(status: .serviceUnavailable, slug: "payment-provider-unavailable", title: "Payment Provider Unavailable",
                detail: detail, headers: ["Retry-After": String(retryAfter)])
    }
}
