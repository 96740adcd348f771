import Foundation
import NIOConcurrencyHelpers

/// Tokens that verified recently, so a dashboard session's repeated requests skip the JSON
/// decoding and HMAC (or ECDSA/RSA) of a full verification and, above all, the hop through the
/// verifier actor that every request would otherwise queue on. An entry lives until the token
/// expires, and at most `maximumAge` (a key removed from the JWKS stops being honoured by then).
/// Only successes are kept: a bad token is verified (and refused) every time.
final class VerifiedTokenCache: Sendable {
    private struct Entry {
        var customer: VerifiedCustomer
        var validUntil: Date
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let maximumAge: TimeInterval
    private let capacity: Int

    init(maximumAge: TimeInterval = 60, capacity: Int = 10_000) {
        self.maximumAge = maximumAge
        self.capacity = capacity
    }

    func customer(for token: String, now: Date = Date()) -> VerifiedCustomer? {
        entries.withLockedValue { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.validUntil > now else {
                entries[token] = nil
                return nil
            }
            return entry.customer
        }
    }

    func remember(_ customer: VerifiedCustomer, for token: String, now: Date = Date()) {
        let validUntil = min(customer.expiresAt, now.addingTimeInterval(maximumAge))
        guard validUntil > now else { return }
        entries.withLockedValue { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.validUntil > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = Entry(customer: customer, validUntil: validUntil)
        }
    }
}
