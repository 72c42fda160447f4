import Dispatch
import Foundation

/// Phases of a command, timed, and shown on standard error while they run when it is a
/// terminal: a phase still running after a second gets a line "<phase>… N s" updated every
/// second and finished with its time; shorter phases and non-terminal output stay silent.
/// Times are recorded either way (`onnx --json` reports them).
final class PhaseProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private let clock = ContinuousClock()
    private var current: (name: String, start: ContinuousClock.Instant, generation: Int)?
    private var generation = 0
    private var shown = false
    private(set) var phases: [(name: String, seconds: Double)] = []

    /// `enabled` defaults to whether standard error is a terminal.
    init(enabled: Bool = isatty(STDERR_FILENO) == 1) { self.enabled = enabled }

    /// Ends the running phase, if any, and starts `name`.
    func begin(_ name: String) {
        lock.lock()
        finishLocked()
        generation += 1
        current = (name, clock.now, generation)
        let g = generation
        lock.unlock()
        if enabled { schedule(g, elapsed: 1) }
    }

    /// Ends the running phase.
    func end() {
        lock.lock()
        finishLocked()
        lock.unlock()
    }

    /// Runs `body` as phase `name`.
    func phase<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        begin(name)
        defer { end() }
        return try body()
    }

    /// A `TraceSettings.onPhase` callback that starts each phase `loadModel` reports.
    var reporter: @Sendable (String) -> Void { { [self] name in begin(name) } }

    private func finishLocked() {
        guard let c = current else { return }
        let seconds = (clock.now - c.start) / .seconds(1)
        phases.append((c.name, seconds))
        if shown { write("\r\u{1B}[K\(c.name): \(String(format: "%.1f", seconds)) s\n") }
        shown = false
        current = nil
    }

    /// In a second, if phase `g` is still running, draws its line showing `elapsed` seconds
    /// and schedules the next redraw.
    private func schedule(_ g: Int, elapsed seconds: Int) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(1)) { [self] in
            lock.lock()
            defer { lock.unlock() }
            guard let c = current, c.generation == g else { return }
            shown = true
            write("\r\u{1B}[K\(c.name)… \(seconds) s")
            schedule(g, elapsed: seconds + 1)
        }
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
