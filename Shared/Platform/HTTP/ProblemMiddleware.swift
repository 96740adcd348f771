import Hummingbird
import PostgresNIO
import Logging

/// Turns every thrown error into a problem+json response: domain errors by their own mapping,
/// Hummingbird's HTTP errors by status, anything else into a logged 500 with no internals.
public struct ProblemMiddleware: RouterMiddleware {
    public typealias Context = ContexoRequestContext

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.problem(for: error, context: context).response(requestID: context.requestID)
        }
    }

    /// The problem for any error; unmapped errors are logged and become a bare 500.
    public static func problem(for error: any Error, context: Context) -> Problem {
        switch error {
        case let convertible as any ProblemConvertible:
            return convertible.problem
        case let transaction as PostgresTransactionError where transaction.closureError is any ProblemConvertible:
            // A domain error thrown inside a transaction (which was rolled back): answer with it.
            return (transaction.closureError as! any ProblemConvertible).problem
        case let http as HTTPError:
            return problem(status: http.status, message: http.body)
        case let responseError as any HTTPResponseError:
            return problem(status: responseError.status, message: nil)
        default:
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return .internalError()
        }
    }

    private static func problem(status: HTTPResponse.Status, message: String?) -> Problem {
        switch status {
        case .notFound:
            return .notFound(message ?? "No route matches this path and method.")
        case .methodNotAllowed:
            return Problem(status: status, slug: "method-not-allowed", title: "Method Not Allowed",
                           detail: message ?? "This route does not accept that method.")
        case .contentTooLarge:
            return .tooLarge(message ?? "The request body is larger than this route accepts.")
        case .badRequest:
            return .badRequest(message ?? "The request could not be read.")
        default:
            if status.code >= 500 { return .internalError() }
            return Problem(status: status, slug: "http-\(status.code)", title: status.reasonPhrase,
                           detail: message ?? status.reasonPhrase)
        }
    }
}
