/// What Billing did with one verified webhook delivery; recorded in `billing.webhook_receipts`,
/// counted in metrics and returned in the 200 answer.
enum WebhookOutcome: Sendable, Equatable {
    /// The event changed state.
    case applied
    /// The same delivery (same body) was processed before: no second effect.
    case duplicate
    /// Authentic but older than what is stored (an out-of-order update): no effect.
    case stale
    /// Authentic and understood, but nothing to do (an unknown event, an order for a subscription).
    case ignored(String)
    /// Authentic but failing a binding check (nonce missing, expired, consumed, for another
    /// customer or variant): no effect, logged as a security event.
    case rejected(String)

    var label: String {
        switch self {
        case .applied: "applied"
        case .duplicate: "duplicate"
        case .stale: "stale"
        case .ignored: "ignored"
        case .rejected: "rejected"
        }
    }

    var detail: String? {
        switch self {
        case .ignored(let reason), .rejected(let reason): reason
        default: nil
        }
    }
}
