import Contract
import Foundation
import Logging
import Platform

/// `GET /v1/account/audit`: the customer's audit trail (S10), merged from the trail each service
/// keeps of what happened in it (widgets and their allowed domains in Chat, documents in Ingest,
/// checkouts and the provider's subscription and order events in Billing, data exports in all
/// three), newest first, each entry naming its service. Like the account summary, a service that
/// does not answer is named in `missing`.
extension AccountSummary {
    static let auditServices: [ServiceName] = [.chat, .ingest, .billing]

    func auditTrail(customer: UUID, limit: Int, requestID: String, logger: Logger) async throws -> [String: JSONValue] {
        var entries: [JSONValue] = []
        var missing: [JSONValue] = []
        await withTaskGroup(of: (ServiceName, Result<JSONValue, PartFailure>).self) { group in
            for service in Self.auditServices {
                group.addTask {
                    (service, await fetch("/internal/account/audit?limit=\(limit)", on: service, customer: customer,
                                          requestID: requestID, logger: logger))
                }
            }
            for await (service, result) in group {
                switch result {
                case .success(let page):
                    guard case .array(let found)? = page.member("entries") else { continue }
                    for case .object(var entry) in found {
                        entry["service"] = .string(service.rawValue)
                        entries.append(.object(entry))
                    }
                case .failure(let failure):
                    missing.append(.object(["service": .string(service.rawValue), "detail": .string(failure.detail)]))
                }
            }
        }
        guard missing.count < Self.auditServices.count else {
            throw Problem.serviceUnavailable("The audit trail could not be read; try again shortly.").with(header: "Retry-After", "5")
        }
        // ISO 8601 times with the same offset sort as text.
        entries.sort { ($0.member("at")?.text ?? "") > ($1.member("at")?.text ?? "") }
        // One request doing one thing to one subject in several services (a data export reads all
        // three) is one entry for the customer.
        var seen = Set<String>()
        entries = entries.filter { entry in
            guard let request = entry.member("request_id")?.text else { return true }
            return seen.insert([entry.member("action")?.text ?? "", entry.member("subject")?.text ?? "", request].joined(separator: "\u{1F}")).inserted
        }
        missing.sort { ($0.member("service")?.text ?? "") < ($1.member("service")?.text ?? "") }
        return ["entries": .array(Array(entries.prefix(limit))), "missing": .array(missing)]
    }
}
