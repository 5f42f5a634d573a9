import Foundation
import Testing
@testable import FeatureStoreCore
import TestKinds

/// A temporary folder removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("fs-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

@Suite("Registry (catalog)", .timeLimit(.minutes(5)))
struct RegistryTests {
    func compile(_ text: String, project: String = "demo") throws -> Registry {
        try DefinitionCompiler.compile(config: .init(name: "feature_store.yaml", text: "project: \(project)\n"),
                                       definitions: [.init(name: "defs.yaml", text: text)], kinds: testKinds)
    }

    @Test("apply, change, plan shows the field diff, apply again: history has two versions")
    func applyChangeHistory() throws {
        let dir = TemporaryDirectory()
        let store = try RegistryStore(path: dir.url.appendingPathComponent("registry.db").path)
        let first = try store.apply(compile(base), at: Date(timeIntervalSince1970: 1_000))
        #expect(first.count(.add) == 4)

        let changed = try compile(base.replacingOccurrences(of: "ttl: 2h", with: "ttl: 1d"))
        let plan = try store.plan(for: changed)
        #expect(plan.changes.count == 1)
        let change = try #require(plan.changes.first)
        #expect(change.kind == .featureView && change.name == "stats" && change.action == .change)
        #expect(change.fields == [Plan.FieldChange(path: "ttl", old: "2h", new: "1d")])
        #expect(change.breaking.isEmpty)

        try store.apply(changed, at: Date(timeIntervalSince1970: 2_000))
        let history = try store.history(of: ObjectKey(kind: .featureView, name: "stats"))
        #expect(history.map(\.version) == [1, 2])
        #expect(history.map(\.action) == [.add, .change])
        #expect(history[1].fields == [Plan.FieldChange(path: "ttl", old: "2h", new: "1d")])
        #expect(history[1].changedAt == Date(timeIntervalSince1970: 2_000))
        #expect(try store.objects()[ObjectKey(kind: .featureView, name: "stats")]?.version == 2)
        #expect(try store.plan(for: changed).isEmpty)
    }

    @Test("removing an object from the files removes it from the catalog, and re-adding continues its versions")
    func removalRemoves() throws {
        let dir = TemporaryDirectory()
        let store = try RegistryStore(path: dir.url.appendingPathComponent("registry.db").path)
        try store.apply(compile(base))
        let withoutService = try compile(base.components(separatedBy: "feature_services:")[0])
        let plan = try store.plan(for: withoutService)
        #expect(plan.changes.map { "\($0.action) \($0.name)" } == ["remove ranking"])
        try store.apply(withoutService)
        #expect(try store.objects()[ObjectKey(kind: .featureService, name: "ranking")] == nil)
        #expect(try store.registry()?.featureServices.isEmpty == true)

        try store.apply(compile(base))
        let history = try store.history(of: ObjectKey(kind: .featureService, name: "ranking"))
        #expect(history.map(\.action) == [.add, .remove, .add])
        #expect(try store.objects()[ObjectKey(kind: .featureService, name: "ranking")]?.version == 3)
    }

    @Test("plan flags breaking changes: a feature's type, a used feature removed, an entity's keys")
    func breakingChanges() throws {
        let dir = TemporaryDirectory()
        let store = try RegistryStore(path: dir.url.appendingPathComponent("registry.db").path)
        let twoFeatures = base.replacingOccurrences(of: "        type: float32\n", with: "        type: float32\n      - name: trips\n        type: int64\n")
        try store.apply(compile(twoFeatures))

        let retyped = try compile(twoFeatures.replacingOccurrences(of: "type: float32", with: "type: float64"))
        #expect(try store.plan(for: retyped).changes.first?.breaking == ["feature 'conv_rate' changed type: float32 -> float64"])

        let removed = try compile(base)
        let removal = try #require(store.plan(for: removed).changes.first)
        #expect(removal.fields == [Plan.FieldChange(path: "features[trips]", old: "type=int64", new: nil)])
        #expect(removal.breaking == ["feature 'trips' removed; it was used by service ranking"])

        let rekeyed = try compile(twoFeatures.replacingOccurrences(of: "type: int64\nsources", with: "type: string\nsources"))
        let entityChange = try #require(store.plan(for: rekeyed).changes.first { $0.kind == .entity })
        #expect(entityChange.breaking == ["join keys changed: (driver_id int64) -> (driver_id string)"])
    }

    @Test("moving a definition to another place is not a change")
    func locationIsNotContent() throws {
        let dir = TemporaryDirectory()
        let store = try RegistryStore(path: dir.url.appendingPathComponent("registry.db").path)
        try store.apply(compile(base))
        let moved = try DefinitionCompiler.compile(
            config: .init(name: "feature_store.yaml", text: "project: demo\n"),
            definitions: [.init(name: "other.yaml", text: "\n\n" + base)], kinds: testKinds)
        #expect(try store.plan(for: moved).isEmpty)
    }

    @Test("a registry belongs to one project")
    func projectMismatch() throws {
        let dir = TemporaryDirectory()
        let path = dir.url.appendingPathComponent("registry.db").path
        let store = try RegistryStore(path: path)
        try store.apply(compile(base, project: "alpha"))
        #expect {
            try store.plan(for: compile(base, project: "beta"))
        } throws: { error in
            "\(error)" == "the registry \(path) belongs to project 'alpha', not 'beta': point 'registry' in feature_store.yaml at another file"
        }
    }

    @Test("the registry read back equals the applied definitions")
    func registryRoundTrip() throws {
        let dir = TemporaryDirectory()
        let store = try RegistryStore(path: dir.url.appendingPathComponent("registry.db").path)
        let compiled = try compile(base)
        try store.apply(compiled)
        let loaded = try #require(try store.registry())
        #expect(loaded.config == compiled.config)
        #expect(loaded.featureViews.map { CanonicalSpec.json($0) } == compiled.featureViews.map { CanonicalSpec.json($0) })
        #expect(loaded.entities.map { CanonicalSpec.json($0) } == compiled.entities.map { CanonicalSpec.json($0) })
        #expect(loaded.sources.map { CanonicalSpec.json($0) } == compiled.sources.map { CanonicalSpec.json($0) })
        #expect(loaded.featureServices.map { CanonicalSpec.json($0) } == compiled.featureServices.map { CanonicalSpec.json($0) })
    }

    @Test("the catalog filters by kind and tag and searches descriptions and feature names")
    func catalogSearch() throws {
        let dir = TemporaryDirectory()
        let store = try RegistryStore(path: dir.url.appendingPathComponent("registry.db").path)
        let text = base.replacingOccurrences(
            of: "      - name: conv_rate\n        type: float32\n",
            with: "      - name: conv_rate\n        type: float32\n        description: Share of offers that became trips.\n    tags: {team: mobility}\n")
        try store.apply(compile(text))
        let catalog = try #require(try Catalog(store: store))
        #expect(catalog.list(kind: .featureView).map(\.name) == ["stats"])
        #expect(catalog.list(search: "OFFERS").map(\.name) == ["stats"])
        #expect(catalog.list(tags: ["team": "mobility"]).map(\.name) == ["stats"])
        #expect(catalog.list(tags: ["team": "pricing"]).isEmpty)
        #expect(catalog.list(search: "driver_id").map(\.name) == ["driver"])
    }
}
