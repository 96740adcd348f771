import AsyncHTTPClient
import Foundation
import NIOCore
import Platform

extension LemonSqueezyCheckoutClient {
    /// What Lemon Squeezy said to a cancellation.
    public enum Cancellation: Sendable, Equatable {
        /// Cancelled at the end of the paid period (`status: "cancelled"`, access until `ends_at`).
        case cancelled(endsAt: Date?)
        /// The provider does not know the subscription (404): nothing left to cancel.
        case unknown
    }

    /// Cancels a subscription (`DELETE /v1/subscriptions/{id}`, no body). Lemon Squeezy cancels at
    /// the end of the period; it has no immediate termination. Callers check the stored status first:
    /// a second cancellation is undocumented.
    public func cancelSubscription(_ id: Int64) async throws(Problem) -> Cancellation {
        let request = apiRequest(.DELETE, "/v1/subscriptions/\(id)")
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: .init(settings.timeout))
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            logger.warning("Lemon Squeezy unreachable", metadata: ["error": "\(error)"])
            throw Self.unavailable("The payment provider did not answer in time; the subscription is not cancelled yet. Try again.",
                                   retryAfter: 10)
        }
        let status = response.status.code
        if status == 404 { return .unknown }
        guard (200..<300).contains(status) else {
            let detail = Self.errorDetail(Data(buffer: bytes))
            logger.warning("Lemon Squeezy refused a cancellation",
                           metadata: ["status": "\(status)", "detail": "\(detail)", "subscription": "\(id)"])
            if status == 429 || status >= 500 {
                let retry = response.headers.first(name: "Retry-After").flatMap(Int.init) ?? 30
                throw Self.unavailable("The payment provider could not cancel the subscription right now. Try again shortly.",
                                       retryAfter: retry)
            }
            throw Problem(status: .badGateway, slug: "payment-provider", title: "Payment Provider Error",
                          detail: "The payment provider refused to cancel subscription \(id) (HTTP \(status)).")
        }
        let attributes = ((try? JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any])?["data"]
            as? [String: Any])?["attributes"] as? [String: Any]
        let endsAt = (attributes?["ends_at"] as? String).flatMap(WebhookPayload.parseDate)
        return .cancelled(endsAt: endsAt)
    }
}
