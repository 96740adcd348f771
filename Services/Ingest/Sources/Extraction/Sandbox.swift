import Foundation

/// Runs a converter (pdftotext, unzip) on an untrusted file as a separate process with limits: CPU
/// seconds and address space by `ulimit`, wall time by a kill, and output by a cap after which the
/// process is killed. A hostile file can make the converter fail, never this service.
///
/// The process is waited for on a Dispatch thread, never on the cooperative pool.
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

    func run(_ executable: String, _ arguments: [String]) async throws -> Outcome {
        let seconds = max(1, Int(timeLimit.components.seconds))
        let script = "ulimit -t \(seconds) -v \(memoryLimitBytes / 1024) 2>/dev/null; exec \"$@\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "sandbox", executable] + arguments
        process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let limit = outputLimitBytes
        let wallMilliseconds = Int(timeLimit.components.seconds) * 1000
            + Int(timeLimit.components.attoseconds / 1_000_000_000_000_000)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: ExtractionFailure("\(executable) could not be started: \(error)"))
                    return
                }
                let expired = Flag()
                let timer = DispatchWorkItem {
                    guard process.isRunning else { return }
                    expired.set()
                    kill(process.processIdentifier, SIGKILL)
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(wallMilliseconds), execute: timer)
                var output = Data()
                var truncated = false
                let reader = stdout.fileHandleForReading
                while true {
                    let piece = reader.availableData
                    if piece.isEmpty { break }
                    output.append(piece)
                    if output.count > limit {
                        truncated = true
                        kill(process.processIdentifier, SIGKILL)
                        break
                    }
                }
                process.waitUntilExit()
                timer.cancel()
                let signalled = process.terminationReason == .uncaughtSignal
                // SIGXCPU (the CPU limit) counts as running out of time too.
                let timedOut = expired.isSet || (signalled && process.terminationStatus == SIGXCPU)
                continuation.resume(returning: Outcome(
                    output: output, status: process.terminationStatus, signalled: signalled, timedOut: timedOut,
                    outputTruncated: truncated))
            }
        }
    }

    /// A one-way flag shared by the reader and the timer.
    private final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
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
