import Foundation
import Platform
import Testing
import TestSupport

/// S7.4: `scripts/audit` lists every resolved package and fails on a known vulnerability. This
/// machine reaches no vulnerability database, so pip-audit's findings are fed from files in its
/// own JSON format: one with an advisory, one where nothing could be looked up.
@Suite(.timeLimit(.minutes(5))) struct DependencyAuditTests {
    static func audit(_ arguments: [String], findings: String) async throws -> (ChildProcess.Termination, String) {
        let stack = try TestStack.current()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = folder.appendingPathComponent("pip-audit.json")
        try findings.write(to: report, atomically: true, encoding: .utf8)
        let script = stack.repository.appendingPathComponent("scripts/audit").path
        let (ended, output) = try await ChildProcess.run(
            "python3", [script, "--pip-audit-json", report.path, "--report", folder.appendingPathComponent("out").path] + arguments,
            timeout: .seconds(120))
        return (ended, String(decoding: output, as: UTF8.self))
    }

    @Test func aKnownVulnerabilityFailsTheAuditAndNamesItsFix() async throws {
        let (ended, output) = try await Self.audit([], findings: """
            {"dependencies": [
              {"name": "requests", "version": "2.19.0", "vulns": [
                {"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"], "aliases": ["CVE-2018-18074"], "description": "..."}]},
              {"name": "selenium", "version": "4.24.0", "vulns": []}],
             "fixes": []}
            """)
        #expect(ended == .exited(1), "\(output)")
        #expect(output.contains("VULNERABLE requests 2.19.0: PYSEC-2018-28 (CVE-2018-18074); fixed in 2.20.0"), "\(output)")
        #expect(output.contains("Swift packages resolved") && output.contains("swift  hummingbird"), "every Swift package is listed")
    }

    @Test func packagesNobodyCouldCheckAreUncheckedNeverClean() async throws {
        let skipped = """
            {"dependencies": [{"name": "schemathesis", "version": "3.39.7",
                               "skip_reason": "Dependency not found on PyPI and could not be audited: schemathesis (3.39.7)"}],
             "fixes": []}
            """
        let (lenient, output) = try await Self.audit([], findings: skipped)
        #expect(lenient == .exited(0) && output.contains("UNCHECKED") && output.contains("among the packages that could be checked"),
                "\(output)")
        let (strict, strictOutput) = try await Self.audit(["--strict"], findings: skipped)
        #expect(strict == .exited(2), "\(strictOutput)")
    }
}
