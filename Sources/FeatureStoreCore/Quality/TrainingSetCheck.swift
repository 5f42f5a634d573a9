public import Columnar

/// What `featurectl join --check` reports for one view: the violations of its features' expectations in a training
/// set, and whether its policy makes them an error.
public struct TrainingSetCheck: Sendable {
    /// The view.
    public var view: String
    /// Its policy.
    public var policy: ViolationPolicy
    /// The violations counted over the training set's rows (`max_null_rate` judged over all of them).
    public var tally: ExpectationTally

    /// Whether this view's violations fail the check (policy `fail` and at least one violation).
    public var fails: Bool { policy == .fail && tally.total > 0 }
}

extension FeatureStore {
    /// Checks a training set `joinFeatures` made for `features` (with the same `fullFeatureNames`) against the
    /// expectations of the views it reads, with the one checker materialization and streams use. Views without
    /// expectations are left out. A row with no candidate has nulls, which `not_null` and `max_null_rate` count.
    public func checkExpectations(of table: Table, features: FeatureSelection, fullFeatureNames: Bool = false) throws(JoinError) -> [TrainingSetCheck] {
        let resolved = try resolve(features, fullNames: fullFeatureNames)
        var out: [TrainingSetCheck] = []
        for request in resolved.views {
            let picked = request.features.indices.filter { request.visible[$0] && request.features[$0].expectations != nil }
            guard !picked.isEmpty else { continue }
            let features = picked.map { request.features[$0] }
            var columns: [Column] = []
            for i in picked {
                guard let column = table.column(named: request.outputNames[i]) else {
                    throw JoinError("the training set has no column '\(request.outputNames[i])' (feature '\(request.features[i].name)' of feature view '\(request.view.name)'); check it with the same feature names it was joined with")
                }
                columns.append(column)
            }
            let checker = ExpectationChecker(features: features)
            var tally = ExpectationTally()
            for row in 0..<table.rowCount {
                let values = zip(features, columns).map { feature, column in column.onlineValue(at: row, as: feature.type) }
                tally.add(values, violations: checker.violations(values), checker: checker)
            }
            tally.finish(checker)
            out.append(TrainingSetCheck(view: request.view.name, policy: request.view.violationPolicy, tally: tally))
        }
        return out
    }
}
