import Foundation
import Hummingbird
import Platform

/// The customer's webhook endpoints, through the gateway (`/v1/webhooks`, behind the customer
/// token): register, list, read, change, delete, rotate the secret, send a test event, and read
/// the deliveries with every attempt.
struct WebhookRoutes: Sendable {
    let store: WebhookStore

    /// `POST /v1/webhooks/{id}/test`'s answer.
    struct TestQueued: ResponseEncodable {
        let deliveryID: UUID
        enum CodingKeys: String, CodingKey { case deliveryID = "delivery_id" }
    }

    func register(on group: RouterGroup<ContexoRequestContext>) {
        group.get("/v1/webhooks") { _, context -> WebhookEndpointList in
            try await store.list(owner: try context.requireCustomer().id)
        }
        group.post("/v1/webhooks") { request, context -> EditedResponse<WebhookEndpoint> in
            let customer = try context.requireCustomer()
            let input = try await JSONInput.decode(WebhookEndpointInput.self, from: request, context: context)
            let endpoint = try await store.create(owner: customer.id, input: input)
            return EditedResponse(status: .created, headers: [.location: "/v1/webhooks/\(endpoint.id.uuidString.lowercased())"],
                                  response: endpoint)
        }
        group.get("/v1/webhooks/{id}") { _, context -> WebhookEndpoint in
            try await store.get(owner: try context.requireCustomer().id, id: try Self.endpointID(context))
        }
        group.patch("/v1/webhooks/{id}") { request, context -> WebhookEndpoint in
            let customer = try context.requireCustomer()
            let id = try Self.endpointID(context)
            let input = try await JSONInput.decode(WebhookEndpointInput.self, from: request, context: context)
            return try await store.update(owner: customer.id, id: id, input: input)
        }
        group.delete("/v1/webhooks/{id}") { _, context -> HTTPResponse.Status in
            try await store.delete(owner: try context.requireCustomer().id, id: try Self.endpointID(context))
            return .noContent
        }
        group.post("/v1/webhooks/{id}/rotate-secret") { request, context -> WebhookEndpoint in
            let customer = try context.requireCustomer()
            let id = try Self.endpointID(context)
            let input = try await JSONInput.decode(SecretRotationInput.self, from: request, context: context)
            return try await store.rotate(owner: customer.id, id: id, previousHours: input.previousSecretHours ?? 24)
        }
        group.post("/v1/webhooks/{id}/test") { _, context -> EditedResponse<TestQueued> in
            let delivery = try await store.sendTest(owner: try context.requireCustomer().id, id: try Self.endpointID(context))
            return EditedResponse(status: .accepted, response: TestQueued(deliveryID: delivery))
        }
        group.get("/v1/webhooks/{id}/deliveries") { _, context -> WebhookDeliveryList in
            try await store.deliveries(owner: try context.requireCustomer().id, id: try Self.endpointID(context))
        }
    }

    static func endpointID(_ context: ContexoRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw WebhookStore.notFound }
        return id
    }
}
