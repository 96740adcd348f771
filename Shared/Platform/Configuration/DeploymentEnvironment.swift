/// Where a service runs. Development-only conveniences (e.g. minting customer tokens) exist only in
/// `development`; anything else is treated as production.
public enum DeploymentEnvironment: String, Sendable, CaseIterable {
    case development
    case production
}
