import HTTPTypes
import Hummingbird
import Platform

/// Verifies the customer's bearer token on every dashboard request before anything is forwarded,
/// and puts the verified customer into the request context.
struct CustomerAuthMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    let verifier: CustomerTokenVerifier

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authorization = request.headers[.authorization] else {
            throw Problem.unauthorized("Sign in: this route needs an Authorization: Bearer token.")
                .with(header: "WWW-Authenticate", "Bearer")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Problem.unauthorized("The Authorization header must be: Bearer <token>.")
                .with(header: "WWW-Authenticate", "Bearer")
        }
        let customer: VerifiedCustomer
        do {
            customer = try await verifier.verify(String(parts[1]))
        } catch {
            throw error.with(header: "WWW-Authenticate", #"Bearer error="invalid_token""#)
        }
        var context = context
        context.caller = InternalCaller(customerID: customer.id, gatewayRequestID: context.requestID, plan: nil)
        return try await next(request, context)
    }
}
