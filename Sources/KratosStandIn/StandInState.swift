import JSONValue
import Synchronization

/// The stand-in's memory: identities, issued links and codes, injected faults and latency.
/// Shared by all requests; one lock, held only for map operations.
public final class StandInState: Sendable {
    private struct Contents {
        var identities: [String: StoredIdentity] = [:]
        var issued: [IssuedRecovery] = []
        var faults: [InjectedFault] = []
        var latencyMilliseconds = 0
    }

    private let contents = Mutex(Contents())
    private let initial: [StoredIdentity]

    /// A state holding `identities`; fails naming the first identity that is not usable.
    public init(identities: [JSONValue]) throws {
        var stored: [StoredIdentity] = []
        for (index, document) in identities.enumerated() {
            do {
                stored.append(try StoredIdentity(document: document))
            } catch StoredIdentity.Invalid.reason(let reason) {
                throw StandInStartError.invalidIdentity(index: index, reason: reason)
            }
        }
        self.initial = stored
        reset()
    }

    /// Back to the initial identities; no issued records, faults or latency.
    public func reset() {
        let initial = self.initial
        contents.withLock { contents in
            contents = Contents()
            for identity in initial { contents.identities[identity.id] = identity }
        }
    }

    func identity(id: String) -> StoredIdentity? {
        let key = id.lowercased()
        return contents.withLock { $0.identities[key] }
    }

    /// Identities in id order after `token`, filtered by login identifier; one more than `limit`
    /// is asked for so the caller knows whether a next page exists.
    func identities(identifier: String?, after token: String, limit: Int) -> [StoredIdentity] {
        let needle = identifier?.lowercased()
        let all = contents.withLock { contents in
            contents.identities.values.filter { needle == nil || $0.identifiers.contains(needle!) }
        }
        return Array(all.filter { $0.id > token }.sorted { $0.id < $1.id }.prefix(limit))
    }

    /// Adds an identity unless one of its identifiers is taken; returns the conflicting identifier otherwise.
    func insert(_ identity: StoredIdentity) -> String? {
        contents.withLock { contents in
            for other in contents.identities.values {
                if let shared = other.identifiers.intersection(identity.identifiers).first { return shared }
            }
            contents.identities[identity.id] = identity
            return nil
        }
    }

    func delete(id: String) -> Bool {
        let key = id.lowercased()
        return contents.withLock { $0.identities.removeValue(forKey: key) != nil }
    }

    func record(_ issued: IssuedRecovery) {
        contents.withLock { $0.issued.append(issued) }
    }

    /// Every link and code issued since start or the last reset, oldest first.
    public var issued: [IssuedRecovery] { contents.withLock { $0.issued } }

    /// Adds a fault for the next `fault.count` calls to `fault.path`.
    public func inject(_ fault: InjectedFault) {
        contents.withLock { $0.faults.append(fault) }
    }

    /// Delay added to every admin call.
    public func setLatency(milliseconds: Int) {
        contents.withLock { $0.latencyMilliseconds = max(0, milliseconds) }
    }

    /// The global latency and the first fault matching `path` (its count is consumed).
    func takeFault(path: String) -> (latencyMilliseconds: Int, fault: InjectedFault?) {
        contents.withLock { contents in
            guard let index = contents.faults.firstIndex(where: { $0.matches(path) }) else {
                return (contents.latencyMilliseconds, nil)
            }
            let fault = contents.faults[index]
            contents.faults[index].count -= 1
            if contents.faults[index].count <= 0 { contents.faults.remove(at: index) }
            return (contents.latencyMilliseconds, fault)
        }
    }
}

/// Why a stand-in cannot start.
public enum StandInStartError: Error, CustomStringConvertible {
    case invalidIdentity(index: Int, reason: String)
    case unreadableFile(path: String)
    case notAnArray(path: String)

    public var description: String {
        switch self {
        case .invalidIdentity(let index, let reason): "identity #\(index): \(reason)"
        case .unreadableFile(let path): "cannot read \(path)"
        case .notAnArray(let path): "\(path) is not a JSON array of identities"
        }
    }
}
