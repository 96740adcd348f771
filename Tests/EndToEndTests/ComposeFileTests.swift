import Foundation
import Platform
import Testing
import TestSupport

/// There is no Docker engine here: compose.yaml is validated against the Compose specification's
/// schema and checked to run every executable the package builds.
@Suite(.timeLimit(.minutes(5))) struct ComposeFileTests {
    @Test func composeFileIsValidAndRunsEveryExecutable() async throws {
        let stack = try TestStack.current()
        let schema = stack.repository.appendingPathComponent("config/compose-spec.schema.json")
        let script = stack.repository.appendingPathComponent("scripts/check-compose.py").path
        for arguments in [[script, schema.path], [script, "--self-test", schema.path]] {
            let (ended, output) = try await ChildProcess.run("python3", arguments, timeout: .seconds(120))
            #expect(ended == .exited(0), "\(arguments.joined(separator: " ")):\n\(String(decoding: output, as: UTF8.self))")
        }
    }
}
