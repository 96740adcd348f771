import HTTPTypes
import Hummingbird
import Platform

/// Verifies the customer's bearer token on every dashboard request before anything is forwarded,
/// and puts the verified customer into the request context. A token that verified in the last
/// minute (and has not expired) is taken from `cache`. A deleted account's tokens are refused
/// (``AccountRevocations``): checked in memory on every request, and in Redis when a token is
/// first verified.
struct CustomerAuthMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    let verifier: CustomerTokenVerifier
    let revocations: AccountRevocations
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
            if revocations.isRevokedLocally(customer.id) { throw Self.deleted }
        } else {
            do {
                customer = try await verifier.verify(token)
            } catch {
                throw error.with(header: "WWW-Authenticate", #"Bearer error="invalid_token""#)
            }
            if await revocations.isRevoked(customer.id) { throw Self.deleted }
            cache.remember(customer, for: token)
        }
        var context = context
        context.caller = InternalCaller(customerID: customer.id, gatewayRequestID: context.requestID, plan: nil)
        context.customerEmail = customer.email
        return try await next(request, context)
    }

    static let deleted = Problem.unauthorized("This account was deleted; its tokens are no longer accepted.")
        .with(header: "WWW-Authenticate", #"Bearer error="invalid_token""#)
}
