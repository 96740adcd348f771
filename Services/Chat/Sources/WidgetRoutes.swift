import Contract
import Foundation
import Hummingbird
import Platform

/// The customer's widget routes (reached through the gateway), the gateway's allow-list lookup,
/// and the public widget configuration a visitor's browser loads.
public struct WidgetRoutes: Sendable {
    let widgets: PostgresWidgetRepository

    public init(widgets: PostgresWidgetRepository) { self.widgets = widgets }

    struct Create: Decodable {
        let name: String
        let allowedDomains: [String]
        enum CodingKeys: String, CodingKey {
            case name
            case allowedDomains = "allowed_domains"
        }
    }

    struct Update: Decodable {
        let name: String?
        let allowedDomains: [String]?
        let systemPrompt: String?
        let greeting: String?
        let includeHistory: Bool?
        let retentionDays: Int?
        let appearance: AppearanceChange?
        enum CodingKeys: String, CodingKey {
            case name, greeting, appearance
            case allowedDomains = "allowed_domains"
            case systemPrompt = "system_prompt"
            case includeHistory = "include_history"
            case retentionDays = "retention_days"
        }

        func settings() throws -> WidgetSettings {
            if let systemPrompt, systemPrompt.storedLength > 4000 {
                throw Problem.unprocessable("system_prompt may be at most 4000 characters.", fields: ["system_prompt"])
            }
            if let greeting, greeting.storedLength > 500 {
                throw Problem.unprocessable("greeting may be at most 500 characters.", fields: ["greeting"])
            }
            if let retentionDays, !(1...3650).contains(retentionDays) {
                throw Problem.unprocessable("retention_days must be between 1 and 3650.", fields: ["retention_days"])
            }
            var settings = WidgetSettings(systemPrompt: systemPrompt, greeting: greeting, includeHistory: includeHistory,
                                          retentionDays: retentionDays)
            // Checked here too, so a bad field is refused before any transaction.
            if let appearance { _ = try appearance.applied(to: WidgetAppearance()) }
            settings.appearance = appearance
            return settings
        }
    }

    /// What the gateway needs to answer CORS for a widget, and whose tenant a visitor's request
    /// for it enters (the gateway mints the tenant ticket for that owner).
    struct AllowList: ResponseEncodable {
        let widgetID: UUID
        let ownerID: UUID
        let allowedDomains: [String]
        enum CodingKeys: String, CodingKey {
            case widgetID = "widget_id"
            case ownerID = "owner_id"
            case allowedDomains = "allowed_domains"
        }
    }

    /// What a visitor's browser may know about a widget.
    struct PublicWidget: ResponseEncodable {
        let id: UUID
        let name: String
        let greeting: String
        let appearance: WidgetAppearance
    }

    public func register(on group: RouterGroup<ContexoRequestContext>) {
        group.get("/v1/widgets") { _, context -> WidgetList in
            let customer = try context.requireCustomer()
            return WidgetList(widgets: try await widgets.list(owner: customer.id))
        }
        group.post("/v1/widgets") { request, context -> EditedResponse<Widget> in
            let customer = try context.requireCustomer()
            let input = try await JSONInput.decode(Create.self, from: request, context: context)
            let widget = try await widgets.create(owner: customer.id, name: try Self.validName(input.name),
                                                  origins: try Self.validOrigins(input.allowedDomains))
            return EditedResponse(status: .created, response: widget)
        }
        group.get("/v1/widgets/{id}") { _, context -> Widget in
            let customer = try context.requireCustomer()
            return try await widgets.get(owner: customer.id, id: try Self.widgetID(context))
        }
        group.patch("/v1/widgets/{id}") { request, context -> Widget in
            let customer = try context.requireCustomer()
            let input = try await JSONInput.decode(Update.self, from: request, context: context)
            return try await widgets.update(
                owner: customer.id, id: try Self.widgetID(context), name: try input.name.map(Self.validName),
                origins: try input.allowedDomains.map(Self.validOrigins), settings: try input.settings())
        }
        group.delete("/v1/widgets/{id}") { _, context -> HTTPResponse.Status in
            let customer = try context.requireCustomer()
            try await widgets.delete(owner: customer.id, id: try Self.widgetID(context))
            return .noContent
        }
        // The gateway's lookup (internal token, no customer): which origins may embed this widget.
        group.get("/internal/widgets/{id}/allow-list") { _, context -> AllowList in
            let id = try Self.widgetID(context)
            guard let entry = try await widgets.allowList(widget: id) else { throw WidgetError.notFound }
            return AllowList(widgetID: id, ownerID: entry.owner, allowedDomains: entry.domains)
        }
        // Reached by visitors through the gateway's widget surface (CORS and rate limits done there).
        group.get("/widget/v1/widgets/{id}") { _, context -> PublicWidget in
            let id = try Self.widgetID(context)
            guard let settings = try await widgets.publicSettings(widget: id) else { throw WidgetError.notFound }
            return PublicWidget(id: id, name: settings.name, greeting: settings.greeting, appearance: settings.appearance)
        }
    }

    static func widgetID(_ context: ContexoRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw WidgetError.notFound }
        return id
    }

    static func validName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...120).contains(trimmed.storedLength) else {
            throw Problem.unprocessable("name must be 1 to 120 characters.", fields: ["name"])
        }
        return trimmed
    }

    static func validOrigins(_ domains: [String]) throws -> [AllowedOrigin] {
        guard domains.count <= 50 else {
            throw Problem.unprocessable("allowed_domains may list at most 50 origins.", fields: ["allowed_domains"])
        }
        var origins: [AllowedOrigin] = []
        for (index, domain) in domains.enumerated() {
            guard let origin = AllowedOrigin(domain) else {
                throw Problem.unprocessable(
                    "allowed_domains[\(index)] (\(domain.prefix(100))) is not an origin like https://docs.example.com, https://*.example.com or http://localhost:3000.",
                    fields: ["allowed_domains[\(index)]"])
            }
            if !origins.contains(origin) { origins.append(origin) }
        }
        return origins
    }
}
