import Testing
@testable import Platform

@Suite(.timeLimit(.minutes(5))) struct DeadlineTests {
    @Test func returnsTheResultInTime() async throws {
        #expect(try await withDeadline(.seconds(5)) { 42 } == 42)
    }

    @Test func givesUpOnAnOperationThatIgnoresCancellation() async throws {
        let started = ContinuousClock.now
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(200)) {
                // Blocks a thread outside the cooperative pool's control, like a stuck socket read.
                await withUnsafeContinuation { continuation in
                    Thread.detachNewThread { Thread.sleep(forTimeInterval: 10); continuation.resume() }
                }
                return 1
            }
        }
        // Not a speed check: only that the caller was released long before the operation ended
        // (a loaded 2-core machine can take a second to schedule anything).
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}

import Foundation
