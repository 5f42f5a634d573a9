public import Foundation
import FeatureComputation
import Yams

/// Compiles the YAML files of a feature repository into one validated ``Registry``.
///
/// Every problem is reported, not just the first, each at its `file:line:column`, saying what is wrong and,
/// where it can, what would be right (`unknown entity 'drivr'; did you mean 'driver'?`).
public enum DefinitionCompiler {
    /// The settings file at the root of every repository.
    public static let configFileName = "feature_store.yaml"

    /// A definition file's name (relative to the repository, used in messages) and its text.
    public struct File: Sendable {
        /// The file's path relative to the repository, as messages name it.
        public var name: String
        /// The file's YAML text.
        public var text: String
        /// The file `name` (relative to the repository) holding `text`.
        public init(name: String, text: String) {
            self.name = name
            self.text = text
        }
    }

    /// Compiles the repository in `directory`: its `feature_store.yaml` and every other `*.yaml`/`*.yml` below it
    /// (hidden folders and the offline data folder excluded).
    ///
    /// - Parameters:
    ///   - kinds: the kinds this program has (stores, engines, sources, formats, sections): each checks its own blocks.
    ///   - unknownKinds: what a name missing from `kinds` is: a diagnostic (the default), or a block kept unchecked
    ///     until used (see ``UnknownKindPolicy``).
    public static func compile(repository directory: URL, kinds: Kinds, unknownKinds: UnknownKindPolicy = .report) throws(CompileError) -> Registry {
        let fm = FileManager.default
        let configURL = directory.appendingPathComponent(configFileName)
        guard let configText = try? String(contentsOf: configURL, encoding: .utf8) else {
            let exists = fm.fileExists(atPath: configURL.path)
            throw CompileError(diagnostics: [Diagnostic(
                SourceLocation(file: configFileName, line: 1, column: 1),
                exists ? "cannot read \(configURL.path) as UTF-8 text"
                    : "no \(configFileName) in \(directory.path): is this a feature repository? (`featurectl init NAME` makes one)")])
        }
        let files = definitionFiles(in: directory, offlineFolderHint: offlineFolder(in: configText))
        var loaded: [File] = []
        var unreadable: [Diagnostic] = []
        for relative in files {
            if let text = try? String(contentsOf: directory.appendingPathComponent(relative), encoding: .utf8) {
                loaded.append(File(name: relative, text: text))
            } else {
                unreadable.append(Diagnostic(SourceLocation(file: relative, line: 1, column: 1), "cannot read the file as UTF-8 text"))
            }
        }
        let result = Result { () throws(CompileError) in
            try compile(config: File(name: configFileName, text: configText), definitions: loaded, kinds: kinds, unknownKinds: unknownKinds)
        }
        switch result {
        case .success(let registry):
            if !unreadable.isEmpty { throw CompileError(diagnostics: unreadable) }
            // Definitions that compile are checked against the data their sources hold.
            let check = DataSchemaCheck.diagnostics(for: registry, repository: directory, kinds: kinds, unknownKinds: unknownKinds)
            if !check.problems.isEmpty { throw CompileError(diagnostics: check.problems) }
            return registry
        case .failure(let error):
            throw CompileError(diagnostics: error.diagnostics + unreadable)
        }
    }

    /// The Parquet sources whose data does not exist yet (so their schema was not checked against the definitions).
    public static func sourcesWithoutData(_ registry: Registry, repository: URL, kinds: Kinds) -> [String] {
        DataSchemaCheck.diagnostics(for: registry, repository: repository, kinds: kinds, unknownKinds: .report).unchecked
    }

    /// Compiles in-memory files: the settings and the definition files, with the program's `kinds` (see
    /// ``compile(repository:kinds:unknownKinds:)``).
    public static func compile(config: File, definitions: [File], kinds: Kinds, unknownKinds: UnknownKindPolicy = .report) throws(CompileError) -> Registry {
        var compiler = Compilation(kinds: kinds, unknownKinds: unknownKinds)
        let parsedConfig = compiler.readConfig(config)
        for file in definitions {
            compiler.readDefinitions(file)
        }
        let registry = compiler.link(config: parsedConfig)
        if !compiler.diagnostics.isEmpty || registry == nil {
            throw CompileError(diagnostics: compiler.diagnostics)
        }
        return registry!
    }

    /// The relative paths of definition files, sorted.
    static func definitionFiles(in directory: URL, offlineFolderHint: String?) -> [String] {
        let root = directory.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        let skipFolders = Set([offlineFolderHint, ".build", "node_modules"].compactMap { $0 })
        while let relative = enumerator.nextObject() as? String {
            let components = relative.split(separator: "/").map(String.init)
            if components.contains(where: { $0.hasPrefix(".") }) || skipFolders.contains(components[0]) {
                if (enumerator.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { enumerator.skipDescendants() }
                continue
            }
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml"), relative != configFileName else { continue }
            out.append(relative)
        }
        return out.sorted()
    }

    /// The offline folder named in the settings (best effort, before the settings are validated).
    private static func offlineFolder(in configText: String) -> String? {
        guard let node = try? Yams.compose(yaml: configText),
              let path = node["offline_store"]?["path"]?.string else { return "data" }
        return path.split(separator: "/").first.map(String.init)
    }
}
