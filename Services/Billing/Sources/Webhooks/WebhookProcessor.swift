import Contract
import Crypto
import Foundation
import Logging
import NIOCore
import Platform
import PostgresNIO

/// Applies one verified Lemon Squeezy delivery in one Postgres transaction.
///
/// - The receipt (keyed by the body's SHA-256) is inserted first: a retried or concurrent copy of
///   the same delivery waits on that key and then finds it taken — one effect, however many copies.
/// - A subscription or credit-pack order that is not yet bound to a customer can only be bound by
///   consuming the checkout nonce from `custom_data`, in one statement that checks it is unexpired,
///   unconsumed (or consumed by this very object), minted for this variant and purpose, and owned by
///   the customer `custom_data` names (the tenant setting makes RLS check that last part).
/// - An object already bound answers only to its customer: `custom_data` naming someone else is
///   rejected.
/// - Subscription updates older than the stored one (`attributes.updated_at`) change nothing.
struct WebhookProcessor: Sendable {
    let postgres: PostgresClient
    let catalog: PlanCatalog
    let logger: Logger

    private var ledger: EntitlementLedger { EntitlementLedger(catalog: catalog) }
    private var outbox: OutboxWriter { OutboxWriter(service: .billing) }

    func process(_ payload: WebhookPayload, body: Data) async throws -> WebhookOutcome {
        let digest = ByteBuffer(bytes: SHA256.hash(data: body))
        return try await postgres.withTransaction(logger: logger) { connection in
            let fresh = try await connection.query("""
                SELECT billing.claim_webhook_receipt(\(digest), \(payload.eventName), \(payload.objectType), \(payload.objectID))
                """, logger: logger).collect().first?.decode(Bool.self) ?? false
            guard fresh else { return .duplicate }
            let (outcome, owner) = try await dispatch(payload, on: connection)
            if outcome == .applied, owner != nil {
                // Inside the customer's tenant, entered by the binding checks above.
                var detail: [String: JSONValue] = ["object_type": .string(payload.objectType), "object_id": .string(payload.objectID)]
                if let status = payload.string("status") { detail["status"] = .string(status) }
                if let variant = payload.integer("variant_id") { detail["variant_id"] = .number(Double(variant)) }
                let event = String(payload.eventName.unicodeScalars.filter { ("a"..."z").contains($0) || $0 == "_" }.prefix(60))
                try await AccountData.audit.record("billing.\(event.isEmpty ? "event" : event)", subject: nil, detail: detail, actor: .provider,
                                                   requestID: nil, on: connection, logger: logger)
            }
            try await connection.query("""
                SELECT billing.settle_webhook_receipt(\(digest), \(outcome.label), \(outcome.detail), \(owner))
                """, logger: logger)
            return outcome
        }
    }

    private func dispatch(_ payload: WebhookPayload, on connection: PostgresConnection) async throws -> (WebhookOutcome, UUID?) {
        switch payload.objectType {
        case "subscriptions" where payload.eventName.hasPrefix("subscription_"):
            return try await subscriptionChanged(payload, on: connection)
        case "orders" where payload.eventName == "order_created":
            return try await orderCreated(payload, on: connection)
        case "orders" where payload.eventName == "order_refunded":
            return try await orderRefunded(payload, on: connection)
        case "subscription-invoices":
            return try await invoiceEvent(payload, on: connection)
        default:
            return (.ignored("event \(payload.eventName) on \(payload.objectType) is not used by Contexo"), nil)
        }
    }

    // MARK: Binding objects to customers

    private enum Binding {
        case bound(UUID)
        case refused(String)
        /// The customer's account is closed or being closed: nothing to write, nothing suspicious.
        case closing
    }

    /// Finds the customer an object belongs to, binding it through the checkout nonce if it is new.
    private func bind(
        _ payload: WebhookPayload, objectType: String, objectID: Int64, variant: Int64?, purpose: CheckoutPurpose,
        on connection: PostgresConnection
    ) async throws -> Binding {
        let claimed = payload.customData["user_id"].flatMap(UUID.init(uuidString:))
        if let owner = try await boundOwner(objectType: objectType, objectID: objectID, on: connection) {
            if let claimed, claimed != owner {
                return .refused("custom_data names a customer other than the one this \(objectType) belongs to")
            }
            guard try await enterTenant(owner, bound: (objectType, objectID), on: connection) else { return .closing }
            return .bound(owner)
        }
        guard let owner = claimed else { return .refused("no customer in custom_data for an unbound \(objectType)") }
        guard let nonce = payload.customData["nonce"], !nonce.isEmpty else {
            return .refused("no checkout nonce in custom_data")
        }
        guard let variant else { return .refused("no variant to check the nonce against") }
        let entry = try await enterTenant(owner, nonce: nonce, variant: variant, purpose: purpose, on: connection)
        guard let entry else {
            return .refused("checkout nonce is unknown, expired, already used, or minted for another customer or variant")
        }
        guard entry else { return .closing }
        let consumedBy = "\(objectType):\(objectID)"
        // One statement: RLS (owner_id = tenant) makes a nonce minted for another customer invisible.
        let consumed = try await connection.query("""
            UPDATE billing.checkout_nonces SET consumed_at = coalesce(consumed_at, now()), consumed_by = \(consumedBy)
            WHERE nonce_hash = \(CheckoutNonce.hash(nonce)) AND variant_id = \(variant) AND purpose = \(purpose.rawValue)
              AND expires_at > now() AND (consumed_at IS NULL OR consumed_by = \(consumedBy))
            RETURNING 1
            """, logger: logger).collect()
        guard !consumed.isEmpty else {
            return .refused("checkout nonce is unknown, expired, already used, or minted for another customer or variant")
        }
        try await connection.query("SELECT billing.bind_provider_object(\(objectType), \(objectID))", logger: logger)
        return .bound(owner)
    }

    static let closing = "the customer's account is closed or being closed"

    /// Enters `owner`'s tenant (Postgres enters only the customer the object is bound to: a
    /// webhook comes with no gateway ticket) under the account lock that an account deletion also
    /// takes, so a delivery and an erasure never interleave: false when the account is being
    /// deleted, or was deleted while this delivery waited (its binding is gone), and nothing may be written.
    private func enterTenant(_ owner: UUID, bound: (String, Int64), on connection: PostgresConnection) async throws -> Bool {
        let (objectType, objectID) = bound
        let entered = try await connection.query(
            "SELECT billing.enter_provider_object_owner(\(objectType), \(objectID))", logger: logger
        ).collect().first?.decode(UUID?.self) ?? nil
        guard entered == owner else { return false }
        return try await lockedAndOpen(owner, bound: bound, on: connection)
    }

    /// Enters the customer a new object names, which Postgres allows only with that customer's
    /// checkout nonce (minted in their own request); nil when it refuses. Then as ``enterTenant(_:bound:on:)``.
    private func enterTenant(_ owner: UUID, nonce: String, variant: Int64, purpose: CheckoutPurpose,
                             on connection: PostgresConnection) async throws -> Bool? {
        let entered = try await connection.query("""
            SELECT billing.enter_checkout_customer(\(owner), \(CheckoutNonce.hash(nonce)), \(variant), \(purpose.rawValue))
            """, logger: logger).collect().first?.decode(Bool.self) ?? false
        guard entered else { return nil }
        return try await lockedAndOpen(owner, bound: nil, on: connection)
    }

    private func lockedAndOpen(_ owner: UUID, bound: (String, Int64)?, on connection: PostgresConnection) async throws -> Bool {
        try await AccountDeletion.lock(owner, on: connection, logger: logger)
        if let (objectType, objectID) = bound,
           try await boundOwner(objectType: objectType, objectID: objectID, on: connection) != owner {
            return false
        }
        return try await !AccountDeletion.isPending(on: connection, logger: logger)
    }

    private func boundOwner(objectType: String, objectID: Int64, on connection: PostgresConnection) async throws -> UUID? {
        try await connection.query("SELECT billing.provider_object_owner(\(objectType), \(objectID))", logger: logger)
            .collect().first?.decode(UUID?.self) ?? nil
    }

    // MARK: Subscriptions

    private func subscriptionChanged(_ payload: WebhookPayload, on connection: PostgresConnection) async throws -> (WebhookOutcome, UUID?) {
        guard let subscriptionID = Int64(payload.objectID), let variant = payload.integer("variant_id"),
              let status = payload.string("status"), let updatedAt = payload.date("updated_at") else {
            return (.ignored("subscription without id, variant_id, status or updated_at"), nil)
        }
        guard case .plan = catalog.product(variant: variant) else {
            return (.ignored("variant \(variant) is not a plan in the catalog"), nil)
        }
        switch try await bind(payload, objectType: "subscription", objectID: subscriptionID, variant: variant,
                              purpose: .subscription, on: connection) {
        case .closing:
            return (.ignored(Self.closing), nil)
        case .refused(let reason):
            return (.rejected(reason), nil)
        case .bound(let owner):
            let portal = payload.object("urls").flatMap { urls -> String? in
                if case .string(let url)? = urls["customer_portal"] { return url }
                return nil
            }
            let written = try await connection.query("""
                INSERT INTO billing.subscriptions AS s (subscription_id, owner_id, variant_id, status, renews_at, ends_at,
                    portal_url, provider_updated_at)
                VALUES (\(subscriptionID), \(owner), \(variant), \(status), \(payload.date("renews_at")),
                    \(payload.date("ends_at")), \(portal), \(updatedAt))
                ON CONFLICT (subscription_id) DO UPDATE SET variant_id = excluded.variant_id, status = excluded.status,
                    renews_at = excluded.renews_at, ends_at = excluded.ends_at,
                    portal_url = coalesce(excluded.portal_url, s.portal_url),
                    provider_updated_at = excluded.provider_updated_at, updated_at = now()
                WHERE s.provider_updated_at <= excluded.provider_updated_at
                RETURNING 1
                """, logger: logger).collect()
            guard !written.isEmpty else { return (.stale, owner) }
            try await ledger.recompute(owner: owner, on: connection, logger: logger)
            return (.applied, owner)
        }
    }

    /// Subscription invoices carry no variant and maybe no custom data: they are joined through
    /// `subscription_id`. A full refund ends the paid plan; a later successful payment restores it.
    private func invoiceEvent(_ payload: WebhookPayload, on connection: PostgresConnection) async throws -> (WebhookOutcome, UUID?) {
        guard let subscriptionID = payload.integer("subscription_id") else {
            return (.ignored("invoice without subscription_id"), nil)
        }
        guard let owner = try await boundOwner(objectType: "subscription", objectID: subscriptionID, on: connection) else {
            return (.ignored("invoice for a subscription no customer is bound to"), nil)
        }
        if let claimed = payload.customData["user_id"].flatMap(UUID.init(uuidString:)), claimed != owner {
            return (.rejected("custom_data names a customer other than the subscription's"), nil)
        }
        guard try await enterTenant(owner, bound: ("subscription", subscriptionID), on: connection) else {
            return (.ignored(Self.closing), nil)
        }
        let at = payload.date("updated_at") ?? Date()
        switch payload.eventName {
        case "subscription_payment_refunded" where payload.string("status") == "refunded":
            try await connection.query("""
                UPDATE billing.subscriptions SET refunded_at = \(payload.date("refunded_at") ?? at), updated_at = now()
                WHERE subscription_id = \(subscriptionID) AND refunded_at IS NULL
                """, logger: logger)
        case "subscription_payment_success":
            // A payment made after a refund brings the plan back; an older one arriving late does not.
            try await connection.query("""
                UPDATE billing.subscriptions SET refunded_at = NULL, updated_at = now()
                WHERE subscription_id = \(subscriptionID) AND refunded_at < \(payload.date("created_at") ?? at)
                """, logger: logger)
        default:
            return (.ignored("\(payload.eventName) is recorded; the subscription's status arrives in subscription_updated"), owner)
        }
        try await ledger.recompute(owner: owner, on: connection, logger: logger)
        return (.applied, owner)
    }

    // MARK: Orders (credit packs)

    private func orderCreated(_ payload: WebhookPayload, on connection: PostgresConnection) async throws -> (WebhookOutcome, UUID?) {
        guard let orderID = Int64(payload.objectID),
              let variant = payload.object("first_order_item").flatMap({ WebhookPayload.integer($0["variant_id"]) }) else {
            return (.ignored("order without id or first_order_item.variant_id"), nil)
        }
        guard case .creditPack(let pack)? = catalog.product(variant: variant) else {
            return (.ignored("order for variant \(variant): not a credit pack (plans are granted by subscription events)"), nil)
        }
        guard payload.string("status") == "paid" else {
            return (.ignored("order \(orderID) is \(payload.string("status") ?? "without status"), not paid"), nil)
        }
        switch try await bind(payload, objectType: "order", objectID: orderID, variant: variant, purpose: .credits, on: connection) {
        case .closing:
            return (.ignored(Self.closing), nil)
        case .refused(let reason):
            return (.rejected(reason), nil)
        case .bound(let owner):
            let grantID = UUID()
            let granted = try await connection.query("""
                INSERT INTO billing.credit_grants (grant_id, owner_id, order_id, variant_id, credits, order_total)
                VALUES (\(grantID), \(owner), \(orderID), \(variant), \(pack.credits), \(payload.integer("total") ?? 0))
                ON CONFLICT (order_id) DO NOTHING RETURNING 1
                """, logger: logger).collect()
            guard !granted.isEmpty else { return (.duplicate, owner) }
            try await outbox.enqueue(CreditsGranted(grantID: grantID, credits: pack.credits, orderID: String(orderID)),
                                     tenant: owner, on: connection, logger: logger)
            try await ledger.recompute(owner: owner, on: connection, logger: logger)
            return (.applied, owner)
        }
    }

    /// Full or partial refund of a credit pack: revokes the refunded share of its credits (never more
    /// than granted; a repeated or older refund event revokes nothing further).
    private func orderRefunded(_ payload: WebhookPayload, on connection: PostgresConnection) async throws -> (WebhookOutcome, UUID?) {
        guard let orderID = Int64(payload.objectID),
              let owner = try await boundOwner(objectType: "order", objectID: orderID, on: connection) else {
            return (.ignored("refund of an order no customer is bound to"), nil)
        }
        if let claimed = payload.customData["user_id"].flatMap(UUID.init(uuidString:)), claimed != owner {
            return (.rejected("custom_data names a customer other than the order's"), nil)
        }
        guard try await enterTenant(owner, bound: ("order", orderID), on: connection) else { return (.ignored(Self.closing), nil) }
        let rows = try await connection.query(
            "SELECT grant_id, credits, revoked, order_total FROM billing.credit_grants WHERE order_id = \(orderID) FOR UPDATE",
            logger: logger)
        var grant: (UUID, Int64, Int64, Int64)?
        for try await row in rows.decode((UUID, Int64, Int64, Int64).self) { grant = row }
        guard let (grantID, credits, alreadyRevoked, storedTotal) = grant else {
            return (.ignored("refund of an order that granted no credits"), owner)
        }
        let total = payload.integer("total") ?? storedTotal
        let refundedAmount = payload.integer("refunded_amount") ?? 0
        let fullyRefunded = payload.string("status") == "refunded" || (total > 0 && refundedAmount >= total)
        let shouldRevoke: Int64 = fullyRefunded ? credits
            : total > 0 ? min(credits, credits * max(0, refundedAmount) / total) : 0
        let delta = shouldRevoke - alreadyRevoked
        guard delta > 0 else { return (.stale, owner) }
        try await connection.query("""
            UPDATE billing.credit_grants SET revoked = \(shouldRevoke), revoked_at = now() WHERE grant_id = \(grantID)
            """, logger: logger)
        try await outbox.enqueue(
            CreditsRevoked(grantID: grantID, credits: delta, reason: fullyRefunded ? "order refunded" : "order partially refunded"),
            tenant: owner, on: connection, logger: logger)
        try await ledger.recompute(owner: owner, on: connection, logger: logger)
        return (.applied, owner)
    }
}
