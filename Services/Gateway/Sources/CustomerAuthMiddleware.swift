import HTTPTypes
import Hummingbird
import Platform

/// Verifies the customer's bearer token on every dashboard request before anything is forwarded,
/// and puts the verified customer into the request context. A token that verified in the last
/// minute (and has not expired) is taken from `cache`.
struct CustomerAuthMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    let verifier: CustomerTokenVerifier
    var cache = VerifiedTokenCache()

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
        let token = String(parts[1])
        let customer: VerifiedCustomer
        if let known = cache.customer(for: token) {
            customer = known
        } else {
            do {
                customer = try await verifier.verify(token)
            } catch {
                throw error.with(header: "WWW-Authenticate", #"Bearer error="invalid_token""#)
            }
            cache.remember(customer, for: token)
        }
        var context = context
        context.caller = InternalCaller(customerID: customer.id, gatewayRequestID: context.requestID, plan: nil)
        return try await next(request, context)
    }
}
