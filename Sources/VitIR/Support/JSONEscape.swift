/// `s` as a double-quoted JSON string literal (RFC 8259 §7): `"` and `\` are escaped, `\n`,
/// `\r` and `\t` use their short escapes, other control characters below U+0020 become
/// `\u00XX` (lowercase hex), and everything else passes through as UTF-8.
///
/// With `keepingBackslashN`, the two characters `\n` already in `s` pass through unescaped
/// (Graphviz uses them as line breaks in labels); every other backslash is still escaped.
public func jsonStringLiteral(_ s: String, keepingBackslashN: Bool = false) -> String {
    var out = "\""
    var chars = Array(s.unicodeScalars)[...]
    while let c = chars.popFirst() {
        switch c {
        case "\"": out += "\\\""
        case "\\":
            if keepingBackslashN, chars.first == "n" { out += "\\n"; chars.removeFirst() } else { out += "\\\\" }
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if c.value < 0x20 {
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }
    return out + "\""
}
