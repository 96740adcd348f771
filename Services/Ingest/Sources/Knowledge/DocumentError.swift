import Foundation
import Platform
import PostgresNIO

/// Why a document request was refused.
public enum DocumentError: Error, ProblemConvertible, Equatable {
    case storageLimitReached(limit: Int64, used: Int64, requested: Int64)
    case notFound

    public var problem: Problem {
        switch self {
        case .storageLimitReached(let limit, let used, let requested):
            Problem(status: .forbidden, slug: "quota-exceeded", title: "Quota Exceeded",
                    detail: "This document is \(requested) bytes; your plan stores \(limit) bytes of knowledge and \(used) are in use. Delete documents or upgrade.",
                    extensions: ["quota": ["knowledge_bytes"]])
        case .notFound:
            Problem.notFound("No such document.")
        }
    }

    /// The quota refusal `ingest.reserve_document` raised (`HINT quota:knowledge_bytes:<limit>:<used>`).
    static func quota(in error: PostgresTransactionError, requested: Int64) -> DocumentError? {
        guard let psql = error.closureError as? PSQLError,
              let hint = psql.serverInfo?[.hint], hint.hasPrefix("quota:knowledge_bytes:") else { return nil }
        let numbers = hint.dropFirst("quota:knowledge_bytes:".count).split(separator: ":").compactMap { Int64($0) }
        guard numbers.count == 2 else { return nil }
        return .storageLimitReached(limit: numbers[0], used: numbers[1], requested: requested)
    }
}
