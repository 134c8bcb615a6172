import Foundation
import Testing

@testable import Audit

@Suite struct AuditTimeFormatTests {
    @Test func microsecondsInUTC() {
        #expect(AuditTime.format(Date(timeIntervalSince1970: 1_795_592_451.000_042)) == "2026-11-25T07:40:51.000042Z")
        #expect(AuditTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(AuditTime.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
    }
}

@Suite struct MaskingAddressesTests {
    @Test func addressesInFreeTextAreMasked() {
        #expect(
            AuditChain.maskingAddresses(in: "550 5.1.1 <jane.doe@example.com>: Recipient address rejected")
                == "550 5.1.1 <j***@e***.com>: Recipient address rejected"
        )
        #expect(
            AuditChain.maskingAddresses(in: "called from a@b.org, and x@y.co.uk")
                == "called from a***@b***.org, and x***@y***.uk"
        )
        #expect(AuditChain.maskingAddresses(in: "no address here") == "no address here")
    }
}
