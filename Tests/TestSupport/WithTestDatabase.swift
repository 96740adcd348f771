/// Runs `body` with a database of its own (``TestDatabase/make(empty:)``) and drops it afterwards,
/// whether `body` returns or throws, before the test goes on: the one way tests get a database.
@discardableResult
public func withTestDatabase<T: Sendable>(empty: Bool = false, _ body: (TestDatabase) async throws -> T) async throws -> T {
    let database = try await TestDatabase.make(empty: empty)
    do {
        let result = try await body(database)
        await database.drop()
        return result
    } catch {
        await database.drop()
        throw error
    }
}
