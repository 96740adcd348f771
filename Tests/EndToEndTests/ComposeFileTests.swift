import Foundation
import Testing
import TestSupport

/// There is no Docker engine here: compose.yaml is validated against the Compose specification's
/// schema and checked to run every executable the package builds.
@Suite struct ComposeFileTests {
    @Test func composeFileIsValidAndRunsEveryExecutable() throws {
        let stack = try TestStack.current()
        let schema = stack.repository.deletingLastPathComponent()
            .appendingPathComponent("shared/reference/compose-spec.schema.json")
        for arguments in [["scripts/check-compose.py", schema.path], ["scripts/check-compose.py", "--self-test", schema.path]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
            process.currentDirectoryURL = stack.repository
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(arguments.joined(separator: " ")):\n\(output)")
        }
    }
}
