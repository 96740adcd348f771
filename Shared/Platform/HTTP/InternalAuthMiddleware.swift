import Contract
import Foundation
import HTTPTypes
import Hummingbird

/// Guards a service's business routes: a request passes only with a valid internal token from the
/// gateway (health, readiness and metrics routes sit outside this middleware).
public struct InternalAuthMiddleware: RouterMiddleware {
    public typealias Context = ContexoRequestContext
    private static let header = HTTPField.Name(InternalTokenVerifier.header)!
    let verifier: InternalTokenVerifier

    public init(verifier: InternalTokenVerifier) { self.verifier = verifier }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let token = request.headers[Self.header], !token.isEmpty else {
            throw Problem.unauthorized("This service only answers requests forwarded by the gateway.")
        }
        var context = context
        let caller = try await verifier.verify(token)
        context.caller = caller
        // Tenant transactions on this request's task present the ticket the gateway minted for it.
        // A response body written after this returns (a stream) captures it with `TenantTicket.current`.
        return try await TenantTicket.$current.withValue(caller.ticket) {
            try await AuditTrail.$requestID.withValue(caller.gatewayRequestID) { try await next(request, context) }
        }
    }
}

extension ContexoRequestContext {
    /// The verified customer, or a 401 problem when the route needs one and the token carried none.
    public func requireCustomer() throws(Problem) -> AuthenticatedCustomer {
        guard let id = caller?.customerID else {
            throw .unauthorized("This route needs an authenticated customer.")
        }
        return AuthenticatedCustomer(id: id, plan: caller?.plan)
    }
}


/// An authenticated customer on a business route.
public struct AuthenticatedCustomer: Sendable, Equatable {
    public let id: UUID
    public let plan: PlanContext?
}
