import Foundation
import Testing
import UUIDText

@Suite("A UUID's text without Foundation's formatter")
struct UUIDTextTests {
    @Test func theTextIsFoundationsInLowerCase() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
            var appended: [UInt8] = [0x2A]
            id.appendLowercased(to: &appended)
            #expect(appended == [0x2A] + Array(id.uuidString.lowercased().utf8))
            #expect(UUID(text: id.lowercasedString) == id)
            #expect(UUID(text: id.uuidString) == id)
        }
        let zero = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        #expect(zero.lowercasedString == "00000000-0000-0000-0000-000000000000")
        let ones = UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))
        #expect(ones.lowercasedString == "ffffffff-ffff-ffff-ffff-ffffffffffff")
    }

    @Test func mixedCaseIsRead() {
        #expect(
            UUID(text: "9F5C1B2E-0c4a-4F0E-9b1d-3A2B1C0D9E8F")
                == UUID(uuidString: "9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9e8f")
        )
    }

    /// Only `8-4-4-4-12` hex digits: Foundation's parser also takes a space or a dash where a digit
    /// belongs (`9f5c1b2e-0c4a-4 0e-…`), which is not a UUID anyone meant.
    @Test(arguments: [
        "", "9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9e8", "9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9e8f0",
        "9f5c1b2e-0c4a-4 0e-9b1d-3a2b1c0d9e8f", "9f5c1b2e-0c4a--f0e-9b1d-3a2b1c0d9e8f",
        "9f5c1b2e+0c4a-4f0e-9b1d-3a2b1c0d9e8f", "9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9e8g",
        "9f5c1b2e0c4a4f0e9b1d3a2b1c0d9e8f", "{9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9e8f}",
        "9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9é",
    ])
    func anythingElseIsNotAUUID(text: String) {
        #expect(UUID(text: text) == nil)
    }
}
