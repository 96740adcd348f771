import Hummingbird
import Platform

/// The customer's document routes (reached through the gateway).
public struct DocumentRoutes<Repository: DocumentRepository>: Sendable {
    let documents: Repository

    public init(documents: Repository) { self.documents = documents }

    public func register(on group: RouterGroup<ContexoRequestContext>) {
        group.get("/v1/documents") { _, context -> DocumentList in
            let customer = try context.requireCustomer()
            return DocumentList(documents: try await documents.list(owner: customer.id))
        }
    }
}
