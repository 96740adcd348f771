import Billing
import Foundation

/// Webhook bodies shaped like Lemon Squeezy's (external-apis.md §1.4), signed with a test secret.
enum LemonSqueezyFixtures {
    static let secret = "contexo-test-webhook-secret"
    static let starterMonthly: Int64 = 455667
    static let proMonthly: Int64 = 455669
    static let credits1000: Int64 = 500001

    /// A delivery: the raw body and the headers Lemon Squeezy sends with it.
    struct Delivery: Sendable {
        var body: Data
        var eventName: String
        var signature: String

        init(body: Data, eventName: String, secret: String = LemonSqueezyFixtures.secret) {
            self.body = body
            self.eventName = eventName
            self.signature = WebhookSignature(secret: secret).sign(body)
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // Lemon Squeezy writes microseconds.
        return formatter.string(from: date).replacingOccurrences(of: "Z", with: "000Z")
    }

    static func custom(owner: UUID?, nonce: String?) -> [String: Any] {
        var custom: [String: Any] = [:]
        if let owner { custom["user_id"] = owner.uuidString.lowercased() }
        if let nonce { custom["nonce"] = nonce }
        return custom
    }

    static func subscription(
        _ event: String, id: Int64, variant: Int64, status: String, updatedAt: Date,
        owner: UUID?, nonce: String?, endsAt: Date? = nil, orderID: Int64 = 4_123_456
    ) -> Delivery {
        let attributes: [String: Any] = [
            "store_id": 162893, "customer_id": 5555081, "order_id": orderID, "order_item_id": 4012345,
            "product_id": 301122, "variant_id": variant, "product_name": "Contexo", "variant_name": "Monthly",
            "user_name": "Jane Doe", "user_email": "jane@example.com",
            "status": status, "status_formatted": status.capitalized, "card_brand": "visa", "card_last_four": "4242",
            "pause": NSNull(), "cancelled": status == "cancelled", "trial_ends_at": NSNull(), "billing_anchor": 12,
            "urls": ["update_payment_method": "https://contexo-test.lemonsqueezy.com/update",
                     "customer_portal": "https://contexo-test.lemonsqueezy.com/billing?sub=\(id)"],
            "renews_at": timestamp(updatedAt.addingTimeInterval(30 * 86400)),
            "ends_at": endsAt.map(timestamp) ?? NSNull(),
            "created_at": timestamp(updatedAt.addingTimeInterval(-60)), "updated_at": timestamp(updatedAt),
            "test_mode": true,
        ]
        return delivery(event, type: "subscriptions", id: String(id), attributes: attributes, custom: custom(owner: owner, nonce: nonce))
    }

    static func order(
        _ event: String, id: Int64, variant: Int64, owner: UUID?, nonce: String?,
        status: String = "paid", total: Int64 = 1900, refundedAmount: Int64 = 0, at: Date = Date()
    ) -> Delivery {
        let attributes: [String: Any] = [
            "store_id": 162893, "customer_id": 5555081, "identifier": UUID().uuidString.lowercased(),
            "order_number": Int(id % 100_000), "user_name": "Jane Doe", "user_email": "jane@example.com",
            "currency": "USD", "currency_rate": "1.0000", "subtotal": total, "discount_total": 0, "tax": 0,
            "total": total, "status": status, "status_formatted": status.capitalized,
            "refunded": status == "refunded", "refunded_at": status == "refunded" ? timestamp(at) : NSNull(),
            "refunded_amount": refundedAmount,
            "first_order_item": ["id": 99_000 + id, "order_id": id, "product_id": 301200, "variant_id": variant,
                                 "product_name": "Credits", "variant_name": "1,000 messages", "price": total,
                                 "created_at": timestamp(at), "updated_at": timestamp(at), "test_mode": true],
            "urls": ["receipt": "https://app.lemonsqueezy.com/my-orders/\(id)"],
            "created_at": timestamp(at), "updated_at": timestamp(at), "test_mode": true,
        ]
        return delivery(event, type: "orders", id: String(id), attributes: attributes, custom: custom(owner: owner, nonce: nonce))
    }

    static func invoice(
        _ event: String, id: Int64, subscription: Int64, status: String, at: Date = Date(), owner: UUID? = nil
    ) -> Delivery {
        let attributes: [String: Any] = [
            "store_id": 162893, "subscription_id": subscription, "customer_id": 5555081,
            "user_name": "Jane Doe", "user_email": "jane@example.com", "billing_reason": "initial",
            "card_brand": "visa", "card_last_four": "4242", "currency": "USD", "currency_rate": "1.0000",
            "status": status, "status_formatted": status.capitalized, "refunded": status == "refunded",
            "refunded_at": status == "refunded" ? timestamp(at) : NSNull(),
            "subtotal": 2900, "discount_total": 0, "tax": 0, "total": 2900, "refunded_amount": status == "refunded" ? 2900 : 0,
            "urls": ["invoice_url": "https://app.lemonsqueezy.com/my-orders/invoice/\(id)"],
            "created_at": timestamp(at), "updated_at": timestamp(at), "test_mode": true,
        ]
        return delivery(event, type: "subscription-invoices", id: String(id), attributes: attributes,
                        custom: custom(owner: owner, nonce: nil))
    }

    static func delivery(_ event: String, type: String, id: String, attributes: [String: Any], custom: [String: Any]) -> Delivery {
        var meta: [String: Any] = ["test_mode": true, "event_name": event, "webhook_id": UUID().uuidString.lowercased()]
        if !custom.isEmpty { meta["custom_data"] = custom }
        let document: [String: Any] = [
            "meta": meta,
            "data": ["type": type, "id": id, "attributes": attributes,
                     "relationships": [:] as [String: Any],
                     "links": ["self": "https://api.lemonsqueezy.com/v1/\(type)/\(id)"]] as [String: Any],
        ]
        let body = try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        return Delivery(body: body, eventName: event)
    }
}
