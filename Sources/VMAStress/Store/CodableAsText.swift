/// A value stored in JSON as the text a user writes for it (`description`), read back through
/// the same parser the command line uses, so a results file and a reproducer agree.
public protocol CodableAsText: Codable, CustomStringConvertible {
    init(parsing text: String) throws
}

extension CodableAsText {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
