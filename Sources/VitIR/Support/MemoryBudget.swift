#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The most memory one run may plan to use: every shape is static, so a model whose largest
/// tensor or planned peak exceeds it is refused before anything is allocated, with one line
/// naming the tensor. Checked when tracing (each value and the seeded parameters), and before
/// interpreting (`plannedMemory` in VitInterp).
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    /// Three quarters of physical memory (8 GiB where it cannot be read).
    public static let physicalDefault: MemoryBudget = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0, let total = Checked.multiply(pages, pageSize) else { return MemoryBudget(bytes: 8 << 30) }
        return MemoryBudget(bytes: total / 4 * 3)
    }()

    public var description: String { formatBytes(bytes) }

    /// Fails when `bytes` (nil: not representable) exceeds the budget; `what` names the tensor.
    public func check(_ bytes: Int?, _ what: @autoclosure () -> String) throws(MemoryBudgetError) {
        guard let bytes, bytes <= self.bytes else {
            throw MemoryBudgetError(what: what(), bytes: bytes, budget: self)
        }
    }
}

/// A tensor or a plan over the memory budget.
public struct MemoryBudgetError: Error, CustomStringConvertible, Sendable {
    public var what: String
    /// The bytes needed; nil when the size does not fit in 64 bits.
    public var bytes: Int?
    public var budget: MemoryBudget

    public init(what: String, bytes: Int?, budget: MemoryBudget) {
        self.what = what; self.bytes = bytes; self.budget = budget
    }

    public var description: String {
        let size = bytes.map(formatBytes) ?? "more than 2^63 bytes"
        return "\(what) needs \(size), over the memory budget of \(budget) (--max-memory)"
    }
}

/// 1536 → "1.5 KiB"; binary units, one decimal.
public func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var v = Double(n), u = 0
    while v >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
    if u == 0 { return "\(n) B" }
    return "\((v * 10).rounded() / 10) \(units[u])"
}
