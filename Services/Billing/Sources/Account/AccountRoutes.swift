import Foundation
import Hummingbird
import Platform

/// `DELETE /v1/account` (through the gateway, which then refuses the customer's tokens). The body
/// must say `{"confirm": "delete my account"}`: a stray or replayed request without it changes
/// nothing.
struct AccountRoutes: Sendable {
    let deletion: AccountDeletion
    static let confirmation = "delete my account"

    struct Input: Decodable {
        let confirm: String?
    }

    func register(on group: RouterGroup<ContexoRequestContext>) {
        group.delete("/v1/account") { request, context -> AccountDeletion.Outcome in
            let customer = try context.requireCustomer()
            let input = try await JSONInput.decode(Input.self, from: request, context: context)
            guard input.confirm?.trimmingCharacters(in: .whitespaces).lowercased() == Self.confirmation else {
                throw Problem.unprocessable(
                    #"To delete the account and all its data for good, send {"confirm": "\#(Self.confirmation)"}."#,
                    fields: ["confirm"])
            }
            return try await deletion.delete(owner: customer.id)
        }
    }
}
