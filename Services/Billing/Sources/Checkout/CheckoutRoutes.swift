import Foundation
import Hummingbird
import Logging
import Platform
import PostgresNIO

/// `POST /v1/billing/checkout`: starts a Lemon Squeezy checkout for the authenticated customer.
///
/// A fresh nonce goes into the checkout's `custom_data` with the customer id; only its hash is
/// stored, and only after Lemon Squeezy created the checkout — a provider failure leaves nothing
/// behind.
struct CheckoutRoutes: Sendable {
    let client: LemonSqueezyCheckoutClient?
    let reservations: CheckoutReservations
    let catalog: PlanCatalog
    let lifetime: Duration
    let redirectURL: String?
    let logger: Logger

    struct Input: Decodable {
        let variantID: Int64
        enum CodingKeys: String, CodingKey { case variantID = "variant_id" }
    }

    struct Created: ResponseEncodable {
        let checkoutURL: String
        let expiresAt: Date
        let product: String
        enum CodingKeys: String, CodingKey {
            case product
            case checkoutURL = "checkout_url"
            case expiresAt = "expires_at"
        }
    }

    func register(on group: RouterGroup<ContexoRequestContext>) {
        group.post("/v1/billing/checkout") { request, context -> EditedResponse<Created> in
            let customer = try context.requireCustomer()
            let input = try await JSONInput.decode(Input.self, from: request, context: context)
            return EditedResponse(status: .created, response: try await start(input, customer: customer.id))
        }
    }

    func start(_ input: Input, customer: UUID) async throws -> Created {
        let product: String, purpose: CheckoutPurpose
        switch catalog.product(variant: input.variantID) {
        case .plan(let plan)?: (product, purpose) = (plan.id, .subscription)
        case .creditPack(let pack)?: (product, purpose) = (pack.id, .credits)
        case nil: throw Problem.unprocessable("variant_id \(input.variantID) is not a plan or credit pack on sale.", fields: ["variant_id"])
        }
        guard let client else {
            throw Problem.serviceUnavailable("Checkout is not configured on this server (no Lemon Squeezy API key).")
        }
        // The nonce is reserved before the provider is asked, under the customer's lock, so
        // concurrent requests cannot all pass the count together; a provider failure releases it.
        let nonce = CheckoutNonce.mint()
        let expiresAt = Date().addingTimeInterval(Double(lifetime.components.seconds))
        let open = try await reservations.reserve(customer: customer, nonce: nonce, variant: input.variantID,
                                                  purpose: purpose, expiresAt: expiresAt)
        guard open < reservations.maximumOpen else {
            throw Problem(status: .tooManyRequests, slug: "too-many-checkouts", title: "Too Many Checkouts",
                          detail: "You have \(open) unfinished checkouts; finish one or wait for them to expire.",
                          headers: ["Retry-After": "600"])
        }
        let checkout: LemonSqueezyCheckoutClient.Checkout
        do {
            checkout = try await client.createCheckout(.init(
                variantID: input.variantID,
                customData: ["user_id": customer.uuidString.lowercased(), "nonce": nonce.value],
                email: nil, redirectURL: redirectURL, expiresAt: expiresAt))
        } catch {
            do {
                try await reservations.release(customer: customer, nonce: nonce)
            } catch let cleanup {
                // The reservation then simply expires with the checkout's lifetime.
                logger.warning("could not release a checkout reservation", metadata: ["error": "\(cleanup)"])
            }
            throw error
        }
        logger.info("checkout started", metadata: [
            "owner": "\(customer)", "variant": "\(input.variantID)", "checkout": "\(checkout.id)"])
        return Created(checkoutURL: checkout.url, expiresAt: expiresAt, product: product)
    }
}
