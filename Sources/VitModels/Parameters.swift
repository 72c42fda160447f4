import Dispatch
import VitIR

/// How a parameter is initialised when no checkpoint provides it.
public enum ParameterInit: Sendable {
    /// Normal(0, std).
    case normal(std: Float)
    /// 1 + Normal(0, std): norm scales that are non-degenerate but near identity.
    case nearOne(std: Float)
    /// Uniform(-bound, bound).
    case uniform(bound: Float)
}

/// Supplies parameter tensors by full checkpoint key.
public protocol ParameterSource {
    func tensor(for key: String, shape: [Int], initializer: ParameterInit) throws -> Tensor
}

/// Deterministic random parameters: each tensor is drawn from a generator seeded by the model
/// seed and the FNV-1a hash of its key, so a key's values do not depend on tracing order.
public struct SeededParameters: ParameterSource {
    public var seed: UInt64
    public init(seed: UInt64) { self.seed = seed }

    public func tensor(for key: String, shape: [Int], initializer: ParameterInit) -> Tensor {
        let streamSeed = seed ^ FNV1a.hash(key)
        // Draws per element: Box–Muller takes two uniforms, a uniform one.
        let draws: UInt64 = switch initializer {
        case .normal, .nearOne: 2
        case .uniform: 1
        }
        return Tensor.float32(shape) { p in
            // Element i's draws start after i·draws steps of the stream, so chunks fill in
            // parallel with exactly the values one sequential pass gives.
            let chunk = 1 << 16
            let chunks = (p.count + chunk - 1) / chunk
            // Each chunk writes its own disjoint range of the buffer; at most
            // `WorkerThreads.limit` workers (vitexport --threads) take chunks in turn.
            nonisolated(unsafe) let base = p.baseAddress
            let count = p.count
            let workers = Swift.min(chunks, WorkerThreads.limit)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                guard let base else { return }
                for c in stride(from: worker, to: chunks, by: workers) {
                    let range = (c * chunk)..<Swift.min(count, (c + 1) * chunk)
                    var rng = SplitMix64(seed: streamSeed, skipping: UInt64(range.lowerBound) &* draws)
                    for i in range {
                        switch initializer {
                        case .normal(let std): base[i] = std * rng.nextNormal()
                        case .nearOne(let std): base[i] = 1 + std * rng.nextNormal()
                        case .uniform(let b): base[i] = b * (2 * rng.nextUnit() - 1)
                        }
                    }
                }
            }
        }
    }
}

/// SplitMix64: a small, well-mixed deterministic generator.
public struct SplitMix64 {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    /// The generator `seed` gives after `steps` calls of `next()` (each adds the same
    /// increment to the state, so skipping ahead is one multiply-add).
    public init(seed: UInt64, skipping steps: UInt64) { state = seed &+ steps &* SplitMix64.increment }

    private static let increment: UInt64 = 0x9e37_79b9_7f4a_7c15

    public mutating func next() -> UInt64 {
        state &+= SplitMix64.increment
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Standard normal by Box–Muller.
    public mutating func nextNormal() -> Float {
        let u1 = max(nextUnit(), 1e-7), u2 = nextUnit()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * Float.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What model code traces with: the tracer plus the source of parameters.
public struct ModelContext {
    public let tracer: Tracer
    public let parameters: ParameterSource

    public init(tracer: Tracer, parameters: ParameterSource) {
        self.tracer = tracer
        self.parameters = parameters
    }

    /// Runs `body` inside module scope `name`.
    public func scope<T>(_ name: String, _ body: () throws -> T) rethrows -> T { try tracer.scope(name, body) }

    /// A parameter named `name` under the current scope (its checkpoint key).
    public func parameter(_ name: String, _ shape: [Int], _ initializer: ParameterInit) throws -> SymbolicTensor {
        let key = tracer.qualified(name)
        try tracer.reserveParameter(name, TensorType(.float32, Shape(shape)))
        let t = try parameters.tensor(for: key, shape: shape, initializer: initializer)
        return tracer.parameter(name, t)
    }
}
