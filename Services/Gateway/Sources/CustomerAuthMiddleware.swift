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

/// Refuses bodies larger than a route accepts (413) before they are read or forwarded.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBytes {
            throw Problem(status: .contentTooLarge, slug: "too-large", title: "Content Too Large",
                          detail: "The request body is \(length) bytes; this route accepts at most \(maximumBytes).")
        }
        guard request.headers[.contentLength] == nil, request.headers[.transferEncoding] != nil else {
            return try await next(request, context)
        }
        // A chunked body of unknown length is read up to the limit, then forwarded with its length.
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maximumBytes)
        } catch {
            throw Problem(status: .contentTooLarge, slug: "too-large", title: "Content Too Large",
                          detail: "The request body is larger than the \(maximumBytes) bytes this route accepts.")
        }
        var head = request.head
        head.headerFields[.transferEncoding] = nil
        head.headerFields[.contentLength] = String(buffer.readableBytes)
        return try await next(Request(head: head, body: RequestBody(buffer: buffer)), context)
    }
}
