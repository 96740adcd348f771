import Hummingbird
import Platform

/// The customer's widget routes (reached through the gateway).
public struct WidgetRoutes<Repository: WidgetRepository>: Sendable {
    let widgets: Repository

    public init(widgets: Repository) { self.widgets = widgets }

    public func register(on group: RouterGroup<ContexoRequestContext>) {
        group.get("/v1/widgets") { _, context -> WidgetList in
            let customer = try context.requireCustomer()
            return WidgetList(widgets: try await widgets.list(owner: customer.id))
        }
    }
}
