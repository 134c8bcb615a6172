import Domain

extension RequestError {
    /// The HTTP status the API answers it with: 400 for a malformed body, 422 for a bad value.
    public var status: Int { kind == .malformed ? 400 : 422 }
}
