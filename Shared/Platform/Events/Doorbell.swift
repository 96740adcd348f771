import Foundation

/// Wakes a waiting loop early: `ring()` from anywhere, `wait(upTo:)` returns at the first ring or
/// after the timeout. Rings while nobody waits are remembered (once).
final class Doorbell: @unchecked Sendable {
    private let lock = NSLock()
    private var rung = false
    private var waiter: (id: UUID, continuation: CheckedContinuation<Void, Never>)?

    func ring() {
        lock.lock()
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.continuation.resume()
            return
        }
        rung = true
        lock.unlock()
    }

    func wait(upTo timeout: Duration) async {
        let id = UUID()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if rung {
                rung = false
                lock.unlock()
                continuation.resume()
                return
            }
            waiter = (id, continuation)
            lock.unlock()
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: UUID) {
        lock.lock()
        guard let waiter, waiter.id == id else { lock.unlock(); return }
        self.waiter = nil
        lock.unlock()
        waiter.continuation.resume()
    }
}
