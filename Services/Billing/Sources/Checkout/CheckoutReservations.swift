import Foundation
import Logging
import Platform
import PostgresNIO

/// The checkouts a customer has open: a nonce's hash is reserved before Lemon Squeezy is asked
/// (under the customer's lock, so concurrent requests cannot all pass the count together), and
/// released again if the provider fails. No reservation while the account is being deleted.
struct CheckoutReservations: Sendable {
    let postgres: PostgresClient
    let logger: Logger
    /// Open (unused, unexpired) checkouts a customer may have at once.
    var maximumOpen = 20

    /// Reserves `nonce` unless `maximumOpen` checkouts are open; returns how many were open before.
    func reserve(customer: UUID, nonce: CheckoutNonce, variant: Int64, purpose: CheckoutPurpose, expiresAt: Date) async throws -> Int {
        let maximum = maximumOpen
        return try await postgres.withTenantTransaction(customer, logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('contexo.billing.checkouts'), hashtext(\(customer)::text))",
                                       logger: logger)
            if try await AccountDeletion.isPending(on: connection, logger: logger) {
                throw Problem(status: .conflict, slug: "account-closing", title: "Account Closing",
                              detail: "This account is being deleted; no new purchase can start.")
            }
            let open = try await connection.query(
                "SELECT count(*)::int FROM billing.checkout_nonces WHERE consumed_at IS NULL AND expires_at > now()",
                logger: logger
            ).collect().first?.decode(Int.self) ?? 0
            if open < maximum {
                try await connection.query("""
                    INSERT INTO billing.checkout_nonces (nonce_hash, owner_id, variant_id, purpose, expires_at)
                    VALUES (\(nonce.hash), \(customer), \(variant), \(purpose.rawValue), \(expiresAt))
                    """, logger: logger)
                try await AccountData.audit.record("checkout.started", subject: nil,
                                                   detail: ["variant_id": .number(Double(variant)), "purpose": .string(purpose.rawValue)],
                                                   on: connection, logger: logger)
            }
            return open
        }
    }

    /// Gives a reservation back (the provider did not create the checkout).
    func release(customer: UUID, nonce: CheckoutNonce) async throws {
        _ = try await postgres.withTenantTransaction(customer, logger: logger) { connection in
            try await connection.query("DELETE FROM billing.checkout_nonces WHERE nonce_hash = \(nonce.hash)", logger: logger)
        }
    }
}
