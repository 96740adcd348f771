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
    private let cache: LookupCache<UUID, PlanContext>
    private let billing: ServiceClient
    private let logger: Logger

    init(httpClient: HTTPClient, issuer: InternalTokenIssuer, billing: URL, timeToLive: Duration = .seconds(60),
         lookupTimeout: Duration = .seconds(2), logger: Logger) {
        self.billing = ServiceClient(.billing, at: billing, http: httpClient, issuer: issuer, timeout: lookupTimeout)
        self.cache = LookupCache(whenLookupFails: .answerNothing(pause: .seconds(5))) { _ in timeToLive }
        self.logger = logger
    }

    func context(for customer: UUID, requestID: String) async -> PlanContext? {
        try? await cache.value(for: customer) { try await fetch(customer, requestID: requestID) }
    }

    func invalidate(_ customer: UUID) { cache.invalidate(customer) }

    func invalidateAll() { cache.invalidateAll() }

    var count: Int { cache.count }

    private func fetch(_ customer: UUID, requestID: String) async throws -> PlanContext {
        do throws(any Error) {
            let reply = try await billing.get("/v1/billing/entitlements", customer: customer, requestID: requestID, maximumBytes: 64 * 1024)
            guard reply.status == 200 else {
                logger.warning("billing refused the plan lookup", metadata: ["status": "\(reply.status)"])
                throw ServiceCallError(service: .billing, reason: "status \(reply.status)")
            }
            return try reply.decode(PlanContext.self)
        } catch {
            logger.warning("plan lookup failed; forwarding without plan context", metadata: ["error": "\(error)"])
            throw error
        }
    }
}
