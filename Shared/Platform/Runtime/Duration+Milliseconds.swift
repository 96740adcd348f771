import Foundation

extension Duration {
    /// The whole milliseconds of this duration (rounded down): what Redis, logs and limits count in.
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
