/// An elementwise function applied after a dense layer.
///
/// Hidden layers use relu, leakyReLU, sigmoid or tanh; the output layer uses identity,
/// sigmoid or softmax. `ModelConfiguration` enforces that split.
public enum Activation: String, Sendable, Equatable, Codable, CaseIterable {
    /// `x` (regression output).
    case identity
    /// `max(0, x)`.
    case relu
    /// `x` for positive inputs, `slope * x` otherwise (`ModelConfiguration.leakyReLUSlope`).
    case leakyReLU = "leaky_relu"
    /// `1 / (1 + e^-x)` (hidden, or binary / multi-label output).
    case sigmoid
    /// Hyperbolic tangent.
    case tanh
    /// Normalized exponentials across the row (multiclass output only).
    case softmax

    /// Activations allowed on hidden layers.
    public static let hidden: Set<Activation> = [.relu, .leakyReLU, .sigmoid, .tanh]
    /// Activations allowed on the output layer.
    public static let output: Set<Activation> = [.identity, .sigmoid, .softmax]

    /// Which initialization keeps activations' variance stable through this function.
    public var initialization: Initialization {
        switch self {
        case .relu, .leakyReLU: .he
        case .identity, .sigmoid, .tanh, .softmax: .xavier
        }
    }
}

/// How a dense layer's weights are drawn; biases always start at zero.
public enum Initialization: String, Sendable, Equatable, Codable {
    /// He (Kaiming) uniform: U(-sqrt(6 / fanIn), +sqrt(6 / fanIn)), for rectifiers.
    case he
    /// Xavier (Glorot) uniform: U(-sqrt(6 / (fanIn + fanOut)), +...), for symmetric functions.
    case xavier
    /// U(-1 / sqrt(fanIn), +1 / sqrt(fanIn)): PyTorch's `nn.Linear` default (Kaiming uniform
    /// with a = sqrt(5)). Narrower than He; used to reproduce PyTorch runs side by side.
    case pytorch

    /// Half-width of the uniform distribution for a layer with the given fans.
    func limit(fanIn: Int, fanOut: Int) -> Float {
        switch self {
        case .he: (6 / Float(fanIn)).squareRoot()
        case .pytorch: (1 / Float(fanIn)).squareRoot()
        case .xavier: (6 / Float(fanIn + fanOut)).squareRoot()
        }
    }
}
