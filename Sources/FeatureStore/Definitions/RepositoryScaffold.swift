public import Foundation

/// Writes a new, valid feature repository: what `featurectl init NAME` creates.
public enum RepositoryScaffold {
    /// Errors creating a repository.
    public enum Failure: Error, CustomStringConvertible {
        case badName(String)
        case notEmpty(String)
        case io(String)

        public var description: String {
            switch self {
            case .badName(let name): return "'\(name)' is not a valid project name: use letters, digits and '_', not starting with a digit"
            case .notEmpty(let path): return "\(path) already exists and is not empty: choose another name or folder"
            case .io(let message): return message
            }
        }
    }

    /// Creates the repository `project` in `directory` (which must not exist or be empty) and returns the files written.
    @discardableResult
    public static func create(project: String, in directory: URL) throws(Failure) -> [String] {
        guard Identifier.isValid(project) else { throw .badName(project) }
        let fm = FileManager.default
        if let contents = try? fm.contentsOfDirectory(atPath: directory.path), !contents.isEmpty {
            throw .notEmpty(directory.path)
        }
        let files: [(String, String)] = [
            (DefinitionCompiler.configFileName, config(project: project)),
            ("entities.yaml", entities),
            ("sources.yaml", sources),
            ("feature_views.yaml", views),
            ("feature_services.yaml", services),
        ]
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, text) in files {
                try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
        } catch {
            throw .io("cannot write the repository in \(directory.path): \(error.localizedDescription)")
        }
        return files.map(\.0)
    }

    static func config(project: String) -> String {
        """
        # Settings of the feature repository '\(project)'. Paths are relative to this folder.
        project: \(project)
        offline_store:
          kind: local           # the embedded default: Parquet read in this process
          path: data            # offline data (Parquet) lives here
        online_store:
          kind: sqlite          # the embedded default
          path: data/online.db
        registry:
          path: data/registry.db
        # kafka:                # uncomment for stream sources
        #   bootstrap_servers: localhost:9092

        """
    }

    static let entities = """
        entities:
          - name: user
            description: A user of the product.
            join_keys:
              - name: user_id
                type: int64

        """

    static let sources = """
        sources:
          - name: user_activity_source
            kind: parquet
            path: data/user_activity.parquet
            timestamp_field: event_timestamp
            created_timestamp_field: created

        """

    static let views = """
        feature_views:
          - name: user_activity
            description: Daily activity counters per user.
            entities: [user]
            source: user_activity_source
            ttl: 2d
            features:
              - name: sessions_7d
                type: int64
                description: Sessions in the last 7 days.
              - name: avg_session_minutes
                type: float32
                description: Mean session length in minutes over 7 days.

        """

    static let services = """
        feature_services:
          - name: churn_model_v1
            description: Features of the churn model.
            features:
              - user_activity

        """
}
