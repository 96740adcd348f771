import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import Platform

/// Customers whose accounts were deleted: their tokens, including ones issued before the deletion
/// and still unexpired, are refused from then on (S1.2).
///
/// Each revocation is kept twice: in this process (checked on every request, so a cached token
/// stops working at once) and in Redis under `contexo:revoked:<HMAC of the id>` for
/// ``lifetime`` (longer than any access token lives), which other gateway replicas and a restarted
/// gateway consult when they first verify a token. The key is a keyed pseudonym, not the id: no
/// Redis key names a deleted customer. If Redis cannot answer, the local list still holds.
final class AccountRevocations: Sendable {
    /// Longer than Supabase's longest access-token lifetime (a week) plus the verifier's leeway.
    static let lifetime: Duration = .seconds(8 * 24 * 3600)
    static let keyPrefix = "contexo:revoked:"

    private let redis: RedisClient?
    private let key: SymmetricKey
    private let logger: Logger
    private let local = NIOLockedValueBox<[UUID: ContinuousClock.Instant]>([:])

    init(redis: RedisClient?, secret: String, logger: Logger) {
        self.redis = redis
        self.key = SymmetricKey(data: Data(("contexo.revocation:" + secret).utf8))
        self.logger = logger
    }

    /// The Redis key standing for `customer`.
    func redisKey(for customer: UUID) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(customer.uuidString.lowercased().utf8), using: key)
        return Self.keyPrefix + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether this process knows the account was deleted (no I/O).
    func isRevokedLocally(_ customer: UUID) -> Bool {
        local.withLockedValue { entries in
            guard let until = entries[customer] else { return false }
            if until > .now { return true }
            entries[customer] = nil
            return false
        }
    }

    /// Whether the account was deleted, asking Redis when this process has not heard of it.
    func isRevoked(_ customer: UUID) async -> Bool {
        if isRevokedLocally(customer) { return true }
        guard let redis else { return false }
        do {
            if case .bulk = try await redis.send("GET", redisKey(for: customer)) {
                remember(customer)
                return true
            }
            return false
        } catch {
            logger.warning("revocation lookup failed; relying on this gateway's own list", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Refuses `customer`'s tokens from now on, here and (best effort) for every gateway.
    func revoke(_ customer: UUID) async {
        remember(customer)
        guard let redis else { return }
        do {
            _ = try await redis.send("SET", redisKey(for: customer), "1", "EX", "\(Self.lifetime.components.seconds)")
        } catch {
            logger.error("could not record a revocation in Redis; other gateways learn it from account.deleted",
                         metadata: ["error": "\(error)"])
        }
    }

    private func remember(_ customer: UUID) {
        local.withLockedValue { entries in
            if entries.count >= 100_000 { entries = entries.filter { $0.value > .now } }
            entries[customer] = .now + Self.lifetime
        }
    }
}
