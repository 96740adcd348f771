import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// A customer's webhook endpoints and their deliveries, in `chat.webhook_*`, inside the customer's
/// tenant transaction. Addresses are checked when they are registered (https, not private) and
/// again by ``WebhookDeliverer`` at every connect.
struct WebhookStore: Sendable {
    let client: PostgresClient
    let policy: AddressPolicy
    let logger: Logger
    /// Endpoints per customer.
    static let maximumEndpoints = 10
    /// Deliveries `deliveries` lists.
    static let listed = 50

    private static let columns = """
        id, url, description, events, enabled, disabled_reason, disabled_at,
        CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END, created_at
        """

    func create(owner: UUID, input: WebhookEndpointInput) async throws -> WebhookEndpoint {
        guard let rawURL = input.url else { throw Problem.unprocessable("url is required.", fields: ["url"]) }
        guard let requested = input.events else { throw Problem.unprocessable("events is required.", fields: ["events"]) }
        let url = try await validURL(rawURL)
        let events = try WebhookEndpointInput.validEvents(requested)
        let description = try WebhookEndpointInput.validDescription(input.description ?? "")
        let secret = WebhookSignature.newSecret()
        return try await client.withTenantTransaction(owner, logger: logger) { connection in
            let count = try await connection.query("SELECT count(*)::int FROM chat.webhook_endpoints", logger: logger)
                .collect().first?.decode(Int.self) ?? 0
            guard count < Self.maximumEndpoints else {
                throw Problem(status: .conflict, slug: "limit-reached", title: "Too Many Endpoints",
                              detail: "An account can have at most \(Self.maximumEndpoints) webhook endpoints; delete one first.")
            }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO chat.webhook_endpoints (owner_id, url, description, events, secret)
                VALUES ($1, $2, $3, $4, $5) RETURNING \(Self.columns)
                """, binds: try Self.binds(owner, url, description, events, secret)), logger: logger).collect()
            var endpoint = try Self.endpoint(rows[0])
            endpoint.secret = secret
            return endpoint
        }
    }

    func list(owner: UUID) async throws -> WebhookEndpointList {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.columns) FROM chat.webhook_endpoints ORDER BY created_at, id
                """), logger: logger).collect()
            return WebhookEndpointList(endpoints: try rows.map(Self.endpoint))
        }
    }

    func get(owner: UUID, id: UUID) async throws -> WebhookEndpoint {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            try await Self.endpoint(id, on: connection, logger: logger)
        }
    }

    /// Changes the address, the events, the description, or switches it on or off (switching a
    /// disabled endpoint on clears the reason).
    func update(owner: UUID, id: UUID, input: WebhookEndpointInput) async throws -> WebhookEndpoint {
        let url = try await input.url.asyncMap(validURL)
        let events = try input.events.map(WebhookEndpointInput.validEvents)
        let description = try input.description.map(WebhookEndpointInput.validDescription)
        return try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                UPDATE chat.webhook_endpoints SET url = coalesce($2, url), events = coalesce($3, events),
                  description = coalesce($4, description), enabled = coalesce($5, enabled),
                  disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END,
                  disabled_at = CASE WHEN $5 THEN NULL ELSE disabled_at END, updated_at = clock_timestamp()
                WHERE id = $1 RETURNING \(Self.columns)
                """, binds: try Self.binds(id, url, events, description, input.enabled)), logger: logger).collect()
            guard let row = rows.first else { throw Self.notFound }
            return try Self.endpoint(row)
        }
    }

    func delete(owner: UUID, id: UUID) async throws {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query("DELETE FROM chat.webhook_endpoints WHERE id = \(id) RETURNING 1", logger: logger)
                .collect()
            guard !rows.isEmpty else { throw Self.notFound }
        }
    }

    /// A new secret; the old one keeps signing too (a second `v1`) for `previousHours`.
    func rotate(owner: UUID, id: UUID, previousHours: Int) async throws -> WebhookEndpoint {
        guard (0...168).contains(previousHours) else {
            throw Problem.unprocessable("previous_secret_hours must be 0 to 168.", fields: ["previous_secret_hours"])
        }
        let secret = WebhookSignature.newSecret()
        return try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                UPDATE chat.webhook_endpoints SET previous_secret = secret, secret = $2,
                  previous_secret_expires_at = clock_timestamp() + make_interval(hours => $3), updated_at = clock_timestamp()
                WHERE id = $1 RETURNING \(Self.columns)
                """, binds: try Self.binds(id, secret, Int32(previousHours))), logger: logger).collect()
            guard let row = rows.first else { throw Self.notFound }
            var endpoint = try Self.endpoint(row)
            endpoint.secret = secret
            return endpoint
        }
    }

    /// Queues a `webhook.test` event to the endpoint (enabled or not: the test is how a customer
    /// checks a fixed receiver before switching it back on). Returns the delivery's id.
    func sendTest(owner: UUID, id: UUID) async throws -> UUID {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let endpoint = try await Self.endpoint(id, on: connection, logger: logger)
            let event = UUID()
            let body = try WebhookBody.encode(id: event, type: WebhookEvent.test, occurredAt: Date(), data: .object([
                "endpoint_id": .string(endpoint.id.uuidString.lowercased()),
                "message": .string("A test event from Contexo. If you can read this, your endpoint works."),
            ]))
            let rows = try await connection.query("""
                INSERT INTO chat.webhook_deliveries (owner_id, endpoint_id, event_id, event_type, body)
                VALUES (\(owner), \(endpoint.id), \(event), \(WebhookEvent.test), \(body)) RETURNING id
                """, logger: logger).collect()
            return try rows[0].decode(UUID.self)
        }
    }

    /// The endpoint's newest deliveries, each with its attempts.
    func deliveries(owner: UUID, id: UUID) async throws -> WebhookDeliveryList {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            _ = try await Self.endpoint(id, on: connection, logger: logger)
            let rows = try await connection.query("""
                SELECT d.id, d.event_id, d.event_type, d.status, d.last_error, d.created_at, d.delivered_at,
                  coalesce((SELECT json_agg(json_build_object('attempted_at', to_char(a.attempted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'status_code', a.status_code,
                              'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.attempted_at, a.id)
                            FROM chat.webhook_attempts a WHERE a.delivery_id = d.id), '[]')::text
                FROM chat.webhook_deliveries d WHERE d.endpoint_id = \(id)
                ORDER BY d.created_at DESC, d.id LIMIT \(Int32(Self.listed))
                """, logger: logger)
            var list = WebhookDeliveryList(deliveries: [])
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .custom { decoder in
                let text = try decoder.singleValueContainer().decode(String.self)
                guard let date = EventCoding.date(from: text) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
                }
                return date
            }
            for try await (delivery, event, type, status, error, created, delivered, attempts) in
                rows.decode((UUID, UUID, String, String, String?, Date, Date?, String).self) {
                list.deliveries.append(WebhookDelivery(
                    id: delivery, eventID: event, eventType: type, status: status, lastError: error, createdAt: created,
                    deliveredAt: delivered, attempts: try decoder.decode([WebhookAttempt].self, from: Data(attempts.utf8))))
            }
            return list
        }
    }

    /// An https address with a host that is not private (by the policy, resolved now).
    func validURL(_ raw: String) async throws -> String {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.utf8.count <= 2000, let url = URL(string: text), url.scheme?.lowercased() == "https",
              let host = url.host, !host.isEmpty, !host.contains("%") else {
            throw Problem.unprocessable("url must be an https address (webhooks are sent over TLS only).", fields: ["url"])
        }
        guard url.user == nil, url.password == nil else {
            throw Problem.unprocessable("url may not contain a user name or password.", fields: ["url"])
        }
        let port = url.port ?? 443
        guard (1...65_535).contains(port) else { throw Problem.unprocessable("\(port) is not a valid port.", fields: ["url"]) }
        do {
            _ = try await policy.target(host: host, port: port)
        } catch AddressRefusal.forbiddenAddress(let host) {
            throw Problem.unprocessable(
                "\(host) is, or points to, a private, loopback or link-local address; webhooks go to public addresses only.",
                fields: ["url"])
        } catch AddressRefusal.unresolvable(let host) {
            throw Problem.unprocessable("The host \(host) could not be found.", fields: ["url"])
        }
        return text
    }

    static let notFound = Problem.notFound("No such webhook endpoint.")

    static func endpoint(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> WebhookEndpoint {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT \(columns) FROM chat.webhook_endpoints WHERE id = $1
            """, binds: try binds(id)), logger: logger).collect()
        guard let row = rows.first else { throw notFound }
        return try endpoint(row)
    }

    static func endpoint(_ row: PostgresRow) throws -> WebhookEndpoint {
        let (id, url, description, events, enabled, reason, disabledAt, previousExpiry, created) =
            try row.decode((UUID, String, String, [String], Bool, String?, Date?, Date?, Date).self)
        return WebhookEndpoint(id: id, url: url, description: description, events: events, enabled: enabled,
                               disabledReason: reason, disabledAt: disabledAt, previousSecretExpiresAt: previousExpiry,
                               createdAt: created)
    }

    private static func binds(_ values: (any PostgresEncodable)?...) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { try bindings.append(value, context: .default) } else { bindings.appendNull() }
        }
        return bindings
    }
}

extension Optional where Wrapped: Sendable {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
