public import Foundation
public import ErrorChain

/// Writes a new, valid feature repository: what `featurectl init NAME` creates.
public enum RepositoryScaffold {
    /// Errors creating a repository.
    public enum Failure: ChainedError {
        /// The project name is not an identifier.
        case badName(String)
        /// The folder exists and holds files.
        case notEmpty(String)
        /// A file could not be written: what, and the file system's error.
        case io(String, cause: (any Error & Sendable)?)

        /// `scaffold.bad_name`, `scaffold.not_empty` or `scaffold.io`.
        public var errorCode: String {
            switch self {
            case .badName: return "scaffold.bad_name"
            case .notEmpty: return "scaffold.not_empty"
            case .io: return "scaffold.io"
            }
        }

        /// What went wrong.
        public var message: String {
            switch self {
            case .badName(let name): return "'\(name)' is not a valid project name: use letters, digits and '_', not starting with a digit"
            case .notEmpty(let path): return "\(path) already exists and is not empty: choose another name or folder"
            case .io(let message, _): return message
            }
        }

        /// The file system's error, for ``io(_:cause:)``.
        public var cause: (any Error & Sendable)? {
            if case .io(_, let cause) = self { return cause }
            return nil
        }

        /// The chain: the message, then the cause's.
        public var description: String { ErrorChain.render(self) }
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
            throw .io("cannot write the repository in \(directory.path)", cause: error)
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
