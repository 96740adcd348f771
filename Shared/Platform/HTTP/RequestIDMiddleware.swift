import Foundation
import HTTPTypes
import Hummingbird

/// Gives every request an id: the caller's `X-Request-Id` when it is a sane token (so one id
/// follows a request from the gateway through the services), otherwise a new UUID. The id goes
/// into the logger's metadata, the response header and every problem body.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = ContexoRequestContext
    public static let header = HTTPField.Name("X-Request-Id")!

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = request.headers[Self.header].flatMap(Self.accept) ?? UUID().uuidString.lowercased()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = ProblemMiddleware.problem(for: error, context: context).response(requestID: id)
        }
        response.headers[Self.header] = id
        return response
    }

    /// Accepts 1–64 characters of letters, digits, `-`, `_`, `.`; anything else is replaced.
    static func accept(_ candidate: String) -> String? {
        guard (1...64).contains(candidate.utf8.count),
              candidate.utf8.allSatisfy({ byte in
                  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                      || byte == 0x2D || byte == 0x5F || byte == 0x2E
              })
        else { return nil }
        return candidate
    }
}
