import AssentRedaction

/// The texts of the spans of `types` that the redactor finds in `text`, in order.
func flaggedTexts(_ text: String, _ types: Set<SensitiveType>) -> [String] {
    let scalars = Array(text.unicodeScalars)
    return Redactor().spans(in: text).filter { types.contains($0.type) }.map {
        String(String.UnicodeScalarView(scalars[$0.start..<$0.end]))
    }
}
