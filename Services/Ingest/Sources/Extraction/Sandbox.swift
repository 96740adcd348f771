import Foundation
import Platform

/// Runs a converter (pdftotext, unzip) on an untrusted file as a separate process with limits
/// the kernel enforces: CPU seconds, address space and output size by `ulimit` (past the output cap
/// the converter gets SIGXFSZ), and wall time by a kill. A hostile file can make the converter
/// fail, never this service.
///
/// The converter writes to a private temporary file and is waited for with ``ChildProcess``, which
/// holds no thread while it runs.
struct Sandbox: Sendable {
    var timeLimit: Duration = .seconds(30)
    var memoryLimitBytes: Int = 512 << 20
    var outputLimitBytes: Int = 64 << 20

    /// What a sandboxed run produced.
    struct Outcome {
        var output: Data
        /// The exit status, or the signal if `signalled`.
        var status: Int32
        var signalled: Bool
        var timedOut: Bool
        var outputTruncated: Bool

        var succeeded: Bool { !signalled && status == 0 && !outputTruncated }
    }

    /// The shell prologue that sets the limits and then becomes the converter. dash, Debian's
    /// `/bin/sh`, takes one limit per `ulimit` (`ulimit -t 30 -v 1` is "too many arguments" and sets
    /// neither) and counts `-f` in 512-byte blocks. A limit that cannot be set stops the run.
    var limitsScript: String {
        let seconds = max(1, Int(timeLimit.components.seconds))
        return "ulimit -t \(seconds) && ulimit -v \(memoryLimitBytes / 1024) && ulimit -f \(outputLimitBytes / 512 + 1) && exec \"$@\""
    }

    func run(_ executable: String, _ arguments: [String]) async throws -> Outcome {
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("contexo-ingest-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let child: ChildProcess
        do {
            child = try ChildProcess("/bin/sh", ["-c", limitsScript, "sandbox", executable] + arguments,
                                     environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"],
                                     standardOutput: .file(outputPath))
        } catch {
            throw ExtractionFailure("\(executable) could not be started: \(error)")
        }
        let waited = await child.wait(timeout: timeLimit)
        let ended = waited ?? child.stop()
        let output = FileManager.default.contents(atPath: outputPath) ?? Data()
        let signal: Int32? = if case .signalled(let number) = ended { number } else { nil }
        return Outcome(
            output: output, status: signal ?? ended.status, signalled: signal != nil,
            // SIGXCPU (the CPU limit) counts as running out of time too.
            timedOut: waited == nil || signal == SIGXCPU,
            outputTruncated: output.count > outputLimitBytes || signal == SIGXFSZ)
    }

    /// Writes `bytes` to a private temporary file for the converter, removed after `body`.
    func withTemporaryFile<T>(_ bytes: Data, suffix: String, _ body: (String) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("contexo-ingest-\(UUID().uuidString)\(suffix)").path
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw ExtractionFailure("could not stage the file for conversion")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }
}
