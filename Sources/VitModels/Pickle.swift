import VitIR

// A data-only reader of the pickle subset PyTorch state dicts use (protocols 2–5, opcodes as
// Python's `pickletools` documents them). It is a stack machine that builds values; it never
// imports, calls or executes anything the pickle names. `GLOBAL`/`STACK_GLOBAL` produce a
// name; `REDUCE`/`NEWOBJ` of a name on the allow-list (`collections.OrderedDict`,
// `torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`, `_rebuild_parameter_with_state`)
// builds the corresponding value, of any other name an opaque value that says which global it
// needed. `BUILD` never runs `__setstate__`: its state is dropped. Persistent ids (`BINPERSID`)
// are resolved by the caller (torch's storages).
//
// Lists, dicts and sets are reference boxes, because a pickle memoizes a container (BINPUT)
// and mutates it afterwards (APPENDS, SETITEMS); tuples are boxes too. Since boxes can form
// cycles and arbitrarily deep chains, the unpickler records every box and
// `releaseContainers()` empties them all once the caller is done: nothing leaks and nothing is
// freed recursively.

/// A tuple; a box like the mutable containers, so that nothing the pickle nests (tuples in
/// tuples, a million deep) is ever destroyed recursively.
final class PickleTuple {
    var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
}

final class PickleList {
    var items: [PickleValue] = []
}

final class PickleDict {
    var keys: [PickleValue] = []
    var values: [PickleValue] = []
    private var indexByString: [String: Int] = [:]

    /// The value stored under the string `key`.
    subscript(key: String) -> PickleValue? { indexByString[key].map { values[$0] } }

    /// String keys in insertion order (other keys skipped).
    var stringKeys: [String] { keys.compactMap { if case .string(let s) = $0 { s } else { nil } } }

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let s) = key {
            if let i = indexByString[s] { values[i] = value; return }
            indexByString[s] = keys.count
        }
        keys.append(key)
        values.append(value)
    }

    func clear() { keys = []; values = []; indexByString = [:] }
}

/// A storage named by a persistent id: `('storage', torch.<Kind>Storage, key, location, numel)`.
struct TorchStorageRef: Sendable, Equatable {
    var key: String
    var kind: TorchStorageKind
    var count: Int
}

/// A tensor as `torch._utils._rebuild_tensor_v2` describes it (offset and strides in elements).
struct TorchTensorRef: Sendable, Equatable {
    var storage: TorchStorageRef
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// A value the unpickler built.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes(count: Int)
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    /// A name from GLOBAL/STACK_GLOBAL, not resolved.
    case global(module: String, name: String)
    case storage(TorchStorageRef)
    case tensor(TorchTensorRef)
    /// Something the reader does not build, with why as a predicate ("needs global
    /// __main__.Schedule, which this reader does not execute", "is an integer wider than 64
    /// bits"): fine unless a bound parameter needs it.
    case opaque(String)

    /// Short description for messages.
    var summary: String {
        switch self {
        case .none: "None"
        case .bool: "a bool"
        case .int(let v): "the integer \(v)"
        case .float: "a float"
        case .string: "a string"
        case .bytes: "bytes"
        case .tuple(let t): "a tuple of \(t.items.count)"
        case .list: "a list"
        case .dict: "a dict"
        case .global(let m, let n): "the global \(m).\(n)"
        case .storage: "a storage"
        case .tensor: "a tensor"
        case .opaque(let why): "a value that \(why)"
        }
    }
}

/// Why a pickle cannot be read, and at which byte offset.
struct PickleError: Error {
    var offset: Int
    var message: String
}

/// The stack machine. `persistentLoad` turns a persistent id into a value (it must not fail
/// for ids it does not understand: it returns `.opaque`).
struct Unpickler {
    private let bytes: UnsafeRawBufferPointer
    private var p = 0
    /// Offset of the opcode being executed, for messages.
    private var opcodeStart = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private(set) var boxes: [AnyObject] = []
    private let persistentLoad: (PickleValue) -> PickleValue

    init(bytes: UnsafeRawBufferPointer, persistentLoad: @escaping (PickleValue) -> PickleValue) {
        self.bytes = bytes
        self.persistentLoad = persistentLoad
    }

    /// Empties every list and dict built, breaking any reference cycle among them.
    func releaseContainers() {
        for box in boxes {
            if let l = box as? PickleList { l.items = [] } else if let d = box as? PickleDict { d.clear() } else if let t = box as? PickleTuple { t.items = [] }
        }
    }

    private func fail(_ message: String) -> PickleError { PickleError(offset: opcodeStart, message: message) }

    private mutating func read(_ n: Int) throws(PickleError) -> UnsafeRawBufferPointer {
        guard n >= 0, let end = Checked.add(p, n), end <= bytes.count else {
            throw fail("needs \(n) more bytes but the pickle ends at \(bytes.count) (truncated?)")
        }
        defer { p = end }
        return UnsafeRawBufferPointer(rebasing: bytes[p..<end])
    }

    private mutating func unsigned(_ n: Int) throws(PickleError) -> UInt64 {
        let b = try read(n)
        var v: UInt64 = 0
        for (i, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
        return v
    }

    /// A length prefix of `n` bytes, which must fit in what is left of the pickle.
    private mutating func length(_ n: Int) throws(PickleError) -> Int {
        let v = try unsigned(n)
        guard v <= UInt64(bytes.count - p) else { throw fail("length \(v) runs past the end of the pickle (truncated?)") }
        return Int(v)
    }

    private mutating func line() throws(PickleError) -> String {
        var end = p
        while end < bytes.count && bytes[end] != 0x0A {
            end += 1
            guard end - p <= InputLimits.maxNameBytes else { throw fail("GLOBAL name longer than \(InputLimits.maxNameBytes) bytes") }
        }
        guard end < bytes.count else { throw fail("GLOBAL name runs past the end of the pickle (truncated?)") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[p..<end]), as: UTF8.self)
        p = end + 1
        return s
    }

    private mutating func push(_ v: PickleValue) throws(PickleError) {
        guard stack.count < InputLimits.maxStack else { throw fail("stack deeper than \(InputLimits.maxStack) values") }
        stack.append(v)
    }

    private mutating func pop() throws(PickleError) -> PickleValue {
        guard stack.count > marks.last ?? 0, let v = stack.popLast() else {
            throw fail("pops an empty stack")
        }
        return v
    }

    /// The values since the last MARK, which is removed.
    private mutating func popMark() throws(PickleError) -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("needs a MARK but none is open") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func newList(_ items: [PickleValue]) -> PickleValue {
        let l = PickleList(); l.items = items; boxes.append(l); return .list(l)
    }

    private mutating func newTuple(_ items: [PickleValue]) -> PickleValue {
        let t = PickleTuple(items); boxes.append(t); return .tuple(t)
    }

    private mutating func newDict() -> PickleDict {
        let d = PickleDict(); boxes.append(d); return d
    }

    private mutating func memoize(_ index: Int) throws(PickleError) {
        guard let top = stack.last else { throw fail("memoizes from an empty stack") }
        guard memo.count < InputLimits.maxMemo || memo[index] != nil else { throw fail("memo larger than \(InputLimits.maxMemo) entries") }
        memo[index] = top
    }

    private mutating func recall(_ index: Int) throws(PickleError) {
        guard let v = memo[index] else { throw fail("memo index \(index) was never stored") }
        try push(v)
    }

    /// Runs the pickle to STOP and returns its value.
    mutating func run() throws(PickleError) -> PickleValue {
        while true {
            opcodeStart = p
            let opcode = try read(1)[0]
            if opcode == 0x2E { // STOP
                guard marks.isEmpty, stack.count == 1, let v = stack.first else {
                    throw fail("STOP with \(stack.count) values on the stack and \(marks.count) open MARKs")
                }
                return v
            }
            try step(opcode)
        }
    }

    private mutating func step(_ opcode: UInt8) throws(PickleError) {
        switch opcode {
        case 0x80: // PROTO
            let v = try read(1)[0]
            guard (2...5).contains(v) else { throw fail("pickle protocol \(v) is not supported (2–5 are)") }
        case 0x95: _ = try unsigned(8) // FRAME: framing only
        case 0x28: // MARK
            guard marks.count < InputLimits.maxNesting else { throw fail("containers nest deeper than \(InputLimits.maxNesting)") }
            marks.append(stack.count)
        case 0x30: _ = try pop() // POP
        case 0x31: _ = try popMark() // POP_MARK
        case 0x32: // DUP
            let v = try pop(); try push(v); try push(v)
        case 0x29: try push(newTuple([])) // EMPTY_TUPLE
        case 0x74: let items = try popMark(); try push(newTuple(items)) // TUPLE
        case 0x85, 0x86, 0x87: // TUPLE1..3
            var items: [PickleValue] = []
            for _ in 0..<Int(opcode - 0x84) { items.insert(try pop(), at: 0) }
            try push(newTuple(items))
        case 0x5D: try push(newList([])) // EMPTY_LIST
        case 0x6C: let items = try popMark(); try push(newList(items)) // LIST
        case 0x8F: try push(newList([])) // EMPTY_SET: a set is read as a list
        case 0x91: let items = try popMark(); try push(newList(items)) // FROZENSET
        case 0x61: let v = try pop(); try append([v]) // APPEND
        case 0x65, 0x90: let items = try popMark(); try append(items) // APPENDS, ADDITEMS
        case 0x7D: try push(.dict(newDict())) // EMPTY_DICT
        case 0x64: // DICT
            let items = try popMark()
            let d = newDict()
            try setItems(d, items)
            try push(.dict(d))
        case 0x73: // SETITEM
            let value = try pop(), key = try pop()
            try setItems([key, value])
        case 0x75: try setItems(try popMark()) // SETITEMS
        case 0x63: try push(.global(module: try line(), name: try line())) // GLOBAL
        case 0x93: // STACK_GLOBAL
            let name = try pop(), module = try pop()
            guard case .string(let n) = name, case .string(let m) = module else { throw fail("STACK_GLOBAL needs two strings") }
            try push(.global(module: m, name: n))
        case 0x52: // REDUCE
            let args = try pop(), callable = try pop()
            try push(reduce(callable, args))
        case 0x81: // NEWOBJ
            let args = try pop(), cls = try pop()
            try push(reduce(cls, args))
        case 0x92: // NEWOBJ_EX
            _ = try pop()
            let args = try pop(), cls = try pop()
            try push(reduce(cls, args))
        case 0x62: // BUILD: the state is dropped, never passed to __setstate__
            _ = try pop()
            let object = try pop()
            try push(object)
        case 0x51: try push(persistentLoad(try pop())) // BINPERSID
        case 0x71: try memoize(Int(try unsigned(1))) // BINPUT
        case 0x72: try memoize(Int(try unsigned(4))) // LONG_BINPUT
        case 0x94: try memoize(memo.count) // MEMOIZE
        case 0x68: try recall(Int(try unsigned(1))) // BINGET
        case 0x6A: try recall(Int(try unsigned(4))) // LONG_BINGET
        default:
            guard let value = try literal(opcode) else {
                let hex = String(opcode, radix: 16)
                throw fail("opcode 0x\(hex.count < 2 ? "0" + hex : hex) is not part of the state-dict subset this reader accepts")
            }
            try push(value)
        }
    }

    /// The value a literal opcode (None, bools, integers, floats, strings, bytes) pushes; nil
    /// for other opcodes.
    private mutating func literal(_ opcode: UInt8) throws(PickleError) -> PickleValue? {
        switch opcode {
        case 0x4E: return PickleValue.none
        case 0x88: return .bool(true)
        case 0x89: return .bool(false)
        case 0x4A: return .int(Int(Int32(bitPattern: UInt32(try unsigned(4))))) // BININT
        case 0x4B: return .int(Int(try unsigned(1))) // BININT1
        case 0x4D: return .int(Int(try unsigned(2))) // BININT2
        case 0x8A: return try long(try length(1)) // LONG1
        case 0x8B: return try long(try length(4)) // LONG4
        case 0x47: // BINFLOAT, big endian
            var bits: UInt64 = 0
            for byte in try read(8) { bits = bits << 8 | UInt64(byte) }
            return .float(Double(bitPattern: bits))
        case 0x58, 0x54: return .string(try text(try length(4))) // BINUNICODE, BINSTRING (Python 2 str)
        case 0x8C, 0x55: return .string(try text(try length(1))) // SHORT_BINUNICODE, SHORT_BINSTRING
        case 0x8D: return .string(try text(try length(8))) // BINUNICODE8
        case 0x42, 0x43, 0x8E, 0x96: // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
            let n = try length(opcode == 0x43 ? 1 : opcode == 0x42 ? 4 : 8)
            _ = try read(n)
            return .bytes(count: n)
        default: return nil
        }
    }

    /// What calling `callable` with `args` would build, for the allow-listed names; an opaque
    /// value naming the global for anything else. Nothing is called.
    private mutating func reduce(_ callable: PickleValue, _ args: PickleValue) -> PickleValue {
        guard case .global(let module, let name) = callable else { return .opaque("calls \(callable.summary)") }
        guard case .tuple(let t) = args else { return .opaque("calls \(module).\(name) with \(args.summary)") }
        let a = t.items
        switch (module, name) {
        case ("collections", "OrderedDict") where a.isEmpty:
            return .dict(newDict())
        case ("torch._utils", "_rebuild_tensor_v2"):
            return Self.rebuildTensor(a)
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = a.first, case .tensor = data else {
                return .opaque("calls torch._utils.\(name) on \(a.first?.summary ?? "nothing")")
            }
            return data
        case ("torch._utils", "_rebuild_tensor_v3"):
            // torch pickles with v3 only the dtypes TypedStorage lacks (uint16/32/64, float8…).
            return .opaque("needs global torch._utils._rebuild_tensor_v3, which torch uses for dtypes this reader does not support (uint16/32/64, float8, …)")
        default:
            return .opaque("needs global \(module).\(name), which this reader does not execute")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
    /// [, metadata])`; only the first four matter for the values.
    static func rebuildTensor(_ a: [PickleValue]) -> PickleValue {
        func ints(_ v: PickleValue) -> [Int]? {
            guard case .tuple(let t) = v else { return nil }
            var out: [Int] = []
            for item in t.items { guard case .int(let i) = item else { return nil }; out.append(i) }
            return out
        }
        guard a.count >= 4 else { return .opaque("calls torch._utils._rebuild_tensor_v2 with \(a.count) arguments") }
        guard case .storage(let storage) = a[0] else { return .opaque("calls torch._utils._rebuild_tensor_v2 on \(a[0].summary)") }
        guard case .int(let offset) = a[1], let shape = ints(a[2]), let strides = ints(a[3]), shape.count == strides.count else {
            return .opaque("calls torch._utils._rebuild_tensor_v2 with a malformed offset, size or stride")
        }
        return .tensor(TorchTensorRef(storage: storage, offset: offset, shape: shape, strides: strides))
    }

    private mutating func text(_ n: Int) throws(PickleError) -> String {
        String(decoding: try read(n), as: UTF8.self)
    }

    /// A little-endian two's-complement integer of `n` bytes; opaque when wider than `Int`.
    private mutating func long(_ n: Int) throws(PickleError) -> PickleValue {
        guard n <= InputLimits.maxLongBytes else { throw fail("integer of \(n) bytes, over the limit of \(InputLimits.maxLongBytes)") }
        let b = try read(n)
        if n == 0 { return .int(0) }
        let negative = b[n - 1] & 0x80 != 0
        // Bytes past the eighth must be pure sign extension for the value to fit.
        for i in min(n, 8)..<n where b[i] != (negative ? 0xFF : 0) { return .opaque("is an integer wider than 64 bits") }
        var v: UInt64 = negative ? ~0 : 0
        for i in 0..<min(n, 8) {
            v &= ~(UInt64(0xFF) << (8 * UInt64(i)))
            v |= UInt64(b[i]) << (8 * UInt64(i))
        }
        let signed = Int64(bitPattern: v)
        if n > 8 && (signed < 0) != negative { return .opaque("is an integer wider than 64 bits") }
        return .int(Int(signed))
    }

    private mutating func append(_ items: [PickleValue]) throws(PickleError) {
        guard let target = stack.last else { throw fail("APPEND with nothing to append to") }
        switch target {
        case .list(let l): l.items.append(contentsOf: items)
        case .opaque: break // an object's extend(): not executed
        default: throw fail("APPEND to \(target.summary)")
        }
    }

    private mutating func setItems(_ items: [PickleValue]) throws(PickleError) {
        guard let target = stack.last else { throw fail("SETITEM with no dict to set") }
        switch target {
        case .dict(let d): try setItems(d, items)
        case .opaque: break // an object's __setitem__: not executed
        default: throw fail("SETITEM on \(target.summary)")
        }
    }

    private func setItems(_ d: PickleDict, _ items: [PickleValue]) throws(PickleError) {
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values (\(items.count))") }
        for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
    }
}
