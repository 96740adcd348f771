import AsyncHTTPClient
import Contract
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform

/// The plan and quota context the gateway attaches to a customer's requests (S3.2), read from
/// Billing (`GET /v1/billing/entitlements` with an internal token naming the customer) and cached.
///
/// A cached context lives at most `timeToLive`, and is dropped at once when Billing announces a
/// change (`billing.entitlements.changed`, followed by ``StreamTail``), so an upgrade shows up on
/// the next request. If Billing cannot be reached the request goes on without a context: the
/// services enforce quotas from their own copies anyway; the context is information, not authority.
/// After a failed lookup Billing is left alone for a few seconds, so an outage costs one timeout,
/// not one per request.
final class PlanContextCache: Sendable {
    private struct Entry {
        var context: PlanContext
        var expires: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[UUID: Entry]>([:])
    /// After a failed lookup, Billing is not asked again until then: a Billing outage must not add
    /// a connect timeout to every request.
    private let retryAt = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    private let pause: Duration = .seconds(5)
    private let httpClient: HTTPClient
    private let issuer: InternalTokenIssuer
    private let billing: URL
    private let timeToLive: Duration
    private let lookupTimeout: Duration
    private let logger: Logger
    /// Upper bound on cached customers; beyond it the cache starts over (cheap, and never stale).
    private let capacity = 100_000

    init(httpClient: HTTPClient, issuer: InternalTokenIssuer, billing: URL, timeToLive: Duration = .seconds(60),
         lookupTimeout: Duration = .seconds(2), logger: Logger) {
        self.lookupTimeout = lookupTimeout
        self.httpClient = httpClient
        self.issuer = issuer
        self.billing = billing
        self.timeToLive = timeToLive
        self.logger = logger
    }

    func context(for customer: UUID, requestID: String) async -> PlanContext? {
        let now = ContinuousClock.now
        if let entry = entries.withLockedValue({ $0[customer] }), entry.expires > now { return entry.context }
        if let retry = retryAt.withLockedValue({ $0 }), retry > now { return nil }
        guard let context = await fetch(customer, requestID: requestID) else {
            retryAt.withLockedValue { $0 = ContinuousClock.now + pause }
            return nil
        }
        entries.withLockedValue {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[customer] = Entry(context: context, expires: now + timeToLive)
        }
        return context
    }

    func invalidate(_ customer: UUID) {
        _ = entries.withLockedValue { $0.removeValue(forKey: customer) }
    }

    func invalidateAll() {
        entries.withLockedValue { $0.removeAll() }
    }

    var count: Int { entries.withLockedValue { $0.count } }

    private func fetch(_ customer: UUID, requestID: String) async -> PlanContext? {
        var target = billing.absoluteString
        while target.hasSuffix("/") { target.removeLast() }
        var request = HTTPClientRequest(url: target + "/v1/billing/entitlements")
        do {
            let token = try await issuer.token(for: .billing, customerID: customer, requestID: requestID, plan: nil)
            request.headers.add(name: InternalTokenVerifier.header, value: token)
            request.headers.add(name: "X-Request-Id", value: requestID)
            let response = try await httpClient.execute(request, timeout: .init(lookupTimeout))
            let body = try await response.body.collect(upTo: 64 * 1024)
            guard response.status == .ok else {
                logger.warning("billing refused the plan lookup", metadata: ["status": "\(response.status.code)"])
                return nil
            }
            return try JSONDecoder().decode(PlanContext.self, from: Data(buffer: body))
        } catch {
            logger.warning("plan lookup failed; forwarding without plan context", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
