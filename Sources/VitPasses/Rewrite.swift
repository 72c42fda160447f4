import VitIR

extension Graph {
    /// Redirects every use of `old` (node inputs and graph outputs) to `new`. A graph output
    /// keeps its public name: if `old` was an output, `new` takes over the name when it is a
    /// plain node output, otherwise an Identity named after the output is appended.
    mutating func replaceUses(of old: ValueID, with new: ValueID) {
        guard old != new else { return }
        for i in nodes.indices {
            for k in nodes[i].inputs.indices where nodes[i].inputs[k] == old { nodes[i].inputs[k] = new }
        }
        guard let slot = outputs.firstIndex(of: old) else { return }
        let outputName = values[old.index].name
        let newIsPlain = !inputs.contains(new) && initializers[new] == nil && !outputs.contains(new)
        if newIsPlain {
            values[old.index].name = outputName + "#replaced"
            values[new.index].name = outputName
            outputs[slot] = new
        } else {
            values[old.index].name = outputName + "#replaced"
            let copy = addValue(name: outputName, type: values[new.index].type)
            nodes.append(Node(name: outputName + ".Identity", op: .identity, inputs: [new], outputs: [copy],
                              scope: "", location: SourceLocation(file: "VitPasses/Rewrite.swift", line: #line)))
            outputs[slot] = copy
        }
    }
}
