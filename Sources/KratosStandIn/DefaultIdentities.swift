import Foundation
public import JSONValue

/// The identities a stand-in starts with when no `--identities` file is given: the Kratos fixture
/// (one email address), a multi-address identity, a phone-only identity (an `sms` recovery address)
/// and one without `recovery_addresses`. The file `stand-in-identities.json` beside this one
/// (`config/stand-in-identities.json` links to it) is compiled in.
public enum DefaultIdentities {
    /// The JSON text, byte for byte the file.
    public static let json = String(decoding: PackageResources.stand_in_identities_json, as: UTF8.self)

    /// The identities, parsed.
    public static let identities: [JSONValue] = {
        // The file is checked by a test, so a failure here is a build defect.
        // swift-format-ignore: NeverUseForceTry
        try! JSONDecoder().decode([JSONValue].self, from: Data(json.utf8))
    }()
}
