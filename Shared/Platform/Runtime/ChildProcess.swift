#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A child process started with `posix_spawn` and reaped by its own pid with non-blocking
/// `waitpid` polls, so waiting for it never blocks a thread.
///
/// Foundation's `Process` is not used for this: on Linux it learns of an exit when a socket the
/// child inherits reaches end-of-file, which never happens while a grandchild (a daemon that
/// `pg_ctl` starts, say) still holds it, and its one manager thread then blocks in `waitpid`;
/// `waitUntilExit()` spins the calling thread meanwhile. A test runner whose cooperative threads sat
/// in it hung for good.
///
/// The child starts with an empty signal mask and default signal actions (a parent's blocked
/// SIGTERM is not inherited), in a process group of its own as under `Process` (a signal to the
/// parent's group never reaches it), and with no descriptors but 0, 1 and 2 where the C library
/// can close the rest (glibc 2.34+).
public final class ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// The parent's own descriptor.
        case inherit
        /// A file: read for standard input; created (mode 0600) or truncated for output.
        case file(String)
        /// Standard error only: wherever standard output goes.
        case standardOutput
    }

    /// How the child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        /// The status a shell would report: the exit code, or 128 + the signal.
        public var status: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            }
        }

        public var description: String {
            switch self {
            case .exited(let code): "exited \(code)"
            case .signalled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// Why a child could not be started.
    public struct SpawnFailure: Error, CustomStringConvertible {
        public var description: String
    }

    public let pid: pid_t
    private let ended = Mutex<Termination?>(nil)

    /// Starts `executable` (an absolute path, or a name looked up in `PATH`) with `arguments`.
    /// - Parameter environment: the child's whole environment; nil passes this process's on.
    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                standardInput: Stream = .null, standardOutput: Stream = .null,
                standardError: Stream = .null) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        try Self.redirect(&actions, STDIN_FILENO, standardInput, input: true)
        try Self.redirect(&actions, STDOUT_FILENO, standardOutput, input: false)
        try Self.redirect(&actions, STDERR_FILENO, standardError, input: false)
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environmentLines = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = environmentLines.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }

        var child: pid_t = 0
        let result = executable.contains("/")
            ? posix_spawn(&child, executable, &actions, &attributes, argv, envp)
            : posix_spawnp(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw SpawnFailure(description: "\(executable) could not be started: \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// How the child ended, or nil while it runs. Reaps it the first time it is seen to have ended.
    public var termination: Termination? {
        ended.withLock { ended in
            if let ended { return ended }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == -1 && errno == ECHILD {
                // Someone else reaped it: it has ended, how is lost. Waiting on would never end.
                ended = .exited(-1)
                return ended
            }
            guard result == pid else { return nil }
            ended = Self.termination(status)
            return ended
        }
    }

    public var isRunning: Bool { termination == nil }

    /// Sends `signal` unless the child has already been reaped (its pid may belong to another
    /// process by then).
    public func signal(_ signal: Int32) {
        ended.withLock { ended in
            if ended == nil { deliver(signal, to: pid) }
        }
    }

    /// Waits for the child to end, polling without holding a thread; nil if `timeout` passed first.
    public func wait(timeout: Duration? = nil) async -> Termination? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var pause = Duration.milliseconds(1)
        while true {
            if let termination { return termination }
            if let deadline, ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(50))
        }
    }

    /// Kills the child (SIGKILL) if it still runs and reaps it. It blocks only while the kernel
    /// tears a killed process down, so it suits a `defer`.
    @discardableResult
    public func stop() -> Termination {
        ended.withLock { ended in
            if let ended { return ended }
            deliver(SIGKILL, to: pid)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let termination = Self.termination(status)
            ended = termination
            return termination
        }
    }

    deinit { stop() }

    /// WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as functions.
    private static func termination(_ status: Int32) -> Termination {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    private static func redirect(_ actions: inout posix_spawn_file_actions_t, _ descriptor: Int32,
                                 _ stream: Stream, input: Bool) throws {
        let result: Int32
        switch stream {
        case .null:
            result = posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", input ? O_RDONLY : O_WRONLY, 0)
        case .inherit:
            result = 0
        case .file(let path):
            result = input
                ? posix_spawn_file_actions_addopen(&actions, descriptor, path, O_RDONLY, 0)
                : posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        case .standardOutput:
            result = posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, descriptor)
        }
        guard result == 0 else { throw SpawnFailure(description: "redirecting descriptor \(descriptor): \(String(cString: strerror(result)))") }
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift does not import.
    private static let addCloseFrom: AddCloseFrom? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
        #else
        return nil
        #endif
    }()
}

/// `kill(2)`, out of reach of ``ChildProcess/signal(_:)``'s name.
private func deliver(_ signal: Int32, to pid: pid_t) {
    _ = kill(pid, signal)
}

extension ChildProcess {
    /// Runs a command to its end (killing it after `timeout`) and returns how it ended with
    /// everything it wrote to standard output (and error, unless redirected elsewhere), through a private temporary file so a
    /// chatty child never blocks on a full pipe.
    public static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                           input: Data? = nil, standardError: Stream = .standardOutput,
                           timeout: Duration? = nil) async throws -> (Termination, Data) {
        let directory = FileManager.default.temporaryDirectory
        let stem = "contexo-child-\(UUID().uuidString)"
        let outputPath = directory.appendingPathComponent(stem + ".out").path
        let inputPath = directory.appendingPathComponent(stem + ".in").path
        defer {
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: inputPath)
        }
        if let input {
            guard FileManager.default.createFile(atPath: inputPath, contents: input, attributes: [.posixPermissions: 0o600]) else {
                throw SpawnFailure(description: "could not stage the input for \(executable)")
            }
        }
        let child = try ChildProcess(executable, arguments, environment: environment,
                                     standardInput: input == nil ? .null : .file(inputPath),
                                     standardOutput: .file(outputPath), standardError: standardError)
        let termination = await child.wait(timeout: timeout) ?? child.stop()
        let output = FileManager.default.contents(atPath: outputPath) ?? Data()
        return (termination, output)
    }
}
