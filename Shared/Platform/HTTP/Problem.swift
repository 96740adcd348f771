import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem: every error response of every service is one of these, served as
/// `application/problem+json` with a stable `type`, a human `detail` and the request id.
public struct Problem: Error, Sendable, Codable, Equatable {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var requestID: String?
    /// Machine-readable extras (e.g. which dependencies are down, which fields are invalid).
    public var extensions: [String: [String]]?
    /// Response headers that belong to this problem (e.g. `Retry-After`).
    public var headers: [String: String] = [:]

    public static let typeBase = "https://contexo.ai/problems/"

    public init(
        status: HTTPResponse.Status, slug: String, title: String, detail: String,
        extensions: [String: [String]]? = nil, headers: [String: String] = [:]
    ) {
        self.type = Self.typeBase + slug
        self.title = title
        self.status = status.code
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail
        case requestID = "request_id"
        case extensions = "errors"
    }

    public static func == (lhs: Problem, rhs: Problem) -> Bool {
        lhs.type == rhs.type && lhs.status == rhs.status && lhs.detail == rhs.detail
    }

    /// The problem's JSON body.
    public func encodedJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The response for this problem.
    public func response(requestID: String) -> Response {
        var problem = self
        problem.requestID = requestID
        let body = (try? problem.encodedJSON()) ?? Data(#"{"title":"error"}"#.utf8)
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return Response(
            status: .init(code: status), headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension Problem {
    public static func unauthorized(_ detail: String) -> Problem {
        Problem(status: .unauthorized, slug: "unauthorized", title: "Unauthorized", detail: detail)
    }

    public static func notFound(_ detail: String = "No such resource.") -> Problem {
        Problem(status: .notFound, slug: "not-found", title: "Not Found", detail: detail)
    }

    public static func badRequest(_ detail: String) -> Problem {
        Problem(status: .badRequest, slug: "bad-request", title: "Bad Request", detail: detail)
    }

    /// 413 `too-large`: a body, document or message over its limit.
    public static func tooLarge(_ detail: String, fields: [String] = []) -> Problem {
        Problem(status: .contentTooLarge, slug: "too-large", title: "Content Too Large", detail: detail,
                extensions: fields.isEmpty ? nil : ["fields": fields])
    }

    public static func unprocessable(_ detail: String, fields: [String] = []) -> Problem {
        Problem(status: .unprocessableContent, slug: "validation", title: "Invalid Request", detail: detail,
                extensions: fields.isEmpty ? nil : ["fields": fields])
    }

    public static func internalError() -> Problem {
        Problem(status: .internalServerError, slug: "internal", title: "Internal Server Error",
                detail: "Something went wrong on our side. Quote the request id if you contact us.")
    }

    public static func serviceUnavailable(_ detail: String, down: [String] = []) -> Problem {
        Problem(status: .serviceUnavailable, slug: "unavailable", title: "Service Unavailable", detail: detail,
                extensions: down.isEmpty ? nil : ["down": down])
    }

    /// The same problem answered with one more header (`Retry-After`, `WWW-Authenticate`).
    public func with(header name: String, _ value: String) -> Problem {
        var copy = self
        copy.headers[name] = value
        return copy
    }
}

/// A domain error that knows its problem. Each service's error enum conforms, so HTTP mapping
/// lives in one place per service.
public protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

extension Problem: ProblemConvertible {
    public var problem: Problem { self }
}
