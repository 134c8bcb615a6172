import CLibFuzzer
import Foundation

/// `fuzz-parsers TARGET [libFuzzer flags] [corpus …]`: runs libFuzzer on one of the parsers that
/// read input from outside the gateway (``FuzzTarget``). `scripts/fuzz.sh` builds it (with
/// `RECOVERY_GATEWAY_FUZZ=1`: coverage and AddressSanitizer on the gateway's modules) and runs
/// every target; a crash, a sanitizer report, a timeout or an out-of-memory is a finding, and
/// libFuzzer writes its input to `crash-*`, `timeout-*` or `oom-*`.
@main
enum FuzzParsers {
    static func main() {
        guard selectedTarget != nil else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " | ")
            FileHandle.standardError.write(Data("usage: fuzz-parsers \(names) [libFuzzer flags] [corpus …]\n".utf8))
            exit(2)
        }
        // libFuzzer reads the arguments after the target's name; it keeps argv[0] as the program.
        var arguments: [UnsafeMutablePointer<CChar>?] = [CommandLine.unsafeArgv[0]]
        arguments += (2..<Int(CommandLine.argc)).map { CommandLine.unsafeArgv[$0] }
        arguments.append(nil)
        var count = CInt(arguments.count - 1)
        let status = arguments.withUnsafeMutableBufferPointer { buffer in
            var argv = buffer.baseAddress
            return LLVMFuzzerRunDriver(&count, &argv) { data, size in
                let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
                selectedTarget?.run(bytes)
                return 0
            }
        }
        exit(status)
    }
}

/// The target named by the first argument (a global `let`: set once, before libFuzzer starts).
let selectedTarget = CommandLine.arguments.dropFirst().first.flatMap(FuzzTarget.init(rawValue:))
