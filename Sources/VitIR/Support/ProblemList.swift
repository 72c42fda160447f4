/// Errors that list many problems (missing checkpoint keys, schema violations, …). Their
/// `description` shows the first `ProblemList.defaultLimit`; `description(limit: nil)` shows
/// all (the CLI's `--verbose`).
public protocol ProblemListing: Error, CustomStringConvertible {
    /// The error's text with at most `limit` listed problems (nil: every one).
    func description(limit: Int?) -> String
}

extension ProblemListing {
    public var description: String { description(limit: ProblemList.defaultLimit) }
}

public enum ProblemList {
    /// How many listed problems an error shows unless asked for all.
    public static let defaultLimit = 10

    /// The first `limit` of `lines`, then "… and N more (--verbose lists all)" when some were
    /// left out; every line when `limit` is nil.
    public static func abbreviated(_ lines: [String], limit: Int?, indent: String = "  ") -> [String] {
        guard let limit, lines.count > limit else { return lines }
        return Array(lines.prefix(limit)) + ["\(indent)… and \(lines.count - limit) more (--verbose lists all)"]
    }
}
