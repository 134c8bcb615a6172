import GoDuration
import Testing

@Suite struct GoDurationTests {
    @Test func formatsLikeGo() {
        #expect(GoDurationSyntax.format(-3_600_000_000_000) == "-1h0m0s")
        #expect(GoDurationSyntax.format(90_000_000_000) == "1m30s")
        #expect(GoDurationSyntax.format(1_500_000_000) == "1.5s")
        #expect(GoDurationSyntax.format(500_000_000) == "500ms")
        #expect(GoDurationSyntax.format(1_500) == "1.5\u{00B5}s")
        #expect(GoDurationSyntax.format(0) == "0s")
    }

    @Test func parsesSignedValues() {
        #expect(GoDurationSyntax.parse("-1h")?.value == -3_600_000_000_000)
        #expect(GoDurationSyntax.parse("1h30m")?.value == 5_400_000_000_000)
        #expect(GoDurationSyntax.parse("not-a-valid-value") == nil)
        #expect(GoDurationSyntax.parse("") == nil)
    }
}
