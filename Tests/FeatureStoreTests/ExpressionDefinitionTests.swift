import TestKinds
import FeatureStoreCore
import Foundation
import Testing

/// Definitions written as expressions: on-demand views and derived columns, checked by the compiler with every
/// mistake at the file:line:column of the offending token.
@Suite("Expressions in definitions", .timeLimit(.minutes(5)))
struct ExpressionDefinitionTests {
    func onDemand(_ features: String, request: String = "[{name: distance_km, type: float64}, {name: pickup, type: timestamp}]") -> String {
        base + """
            on_demand_views:
              - name: trip
                request: \(request)
                features:
            \(features)
            """
    }

    @Test("a typo in an on-demand feature is reported at the exact column of the name, with a suggestion")
    func typoInOnDemandFeature() {
        let text = onDemand("      - {name: score, type: float64, expr: \"stats.conv_rat * distance_km\"}\n")
        #expect(diagnostics(text) == [
            "defs.yaml:26:45: error: feature view 'stats' has no feature 'conv_rat'; did you mean 'conv_rate'?; it has: conv_rate (in feature 'score' of on-demand view 'trip')",
        ])
    }

    @Test("every mistake of every expression is reported at once, each at its place (plain, quoted and escaped text)")
    func allErrorsAtOnce() {
        let text = onDemand("""
                  - {name: a, type: float64, expr: distanc_km * 2}
                  - {name: b, type: bool, expr: "hour(distance_km) > 3"}
                  - name: c
                    type: int64
                    expr: 'concat(''x'', pickup)'
                  - {name: d, type: string, expr: "length(\\"x\\") + lenght('y')"}

            """)
        #expect(diagnostics(text) == [
            "defs.yaml:26:40: error: 'distanc_km' is not a request field of on-demand view 'trip'; did you mean 'distance_km'?; request fields: distance_km, pickup; a feature of a view is written view.feature (in feature 'a' of on-demand view 'trip')",
            "defs.yaml:27:43: error: argument 1 of hour() must be a timestamp, but it is float64 (in feature 'b' of on-demand view 'trip')",
            "defs.yaml:30:30: error: argument 2 of concat() must be a string (convert others with cast(x as string)), but it is timestamp (in feature 'c' of on-demand view 'trip')",
            "defs.yaml:31:47: error: strings are written in single quotes: 'text' (in feature 'd' of on-demand view 'trip')",
        ])
    }

    @Test("a declared type the expression cannot be stored as is an error naming both, with the cast to write")
    func declaredTypeMismatch() {
        let text = onDemand("      - {name: far, type: bool, expr: \"distance_km * 2\"}\n")
        #expect(diagnostics(text) == [
            "defs.yaml:26:39: error: feature 'far' of on-demand view 'trip' is declared bool, but its expression is float64; convert it with cast(... as bool)",
        ])
    }

    @Test("an on-demand view compiles: its features are served and listed like those of views")
    func compiles() throws {
        let registry = try DefinitionCompiler.compile(
            config: .init(name: "feature_store.yaml", text: "project: demo\n"),
            definitions: [.init(name: "defs.yaml", text: onDemand("      - {name: far, type: bool, expr: \"distance_km > 20\"}\n      - {name: score, type: float32, expr: \"stats.conv_rate * 2\"}\n"))], kinds: testKinds)
        let view = try #require(registry.onDemandView(named: "trip"))
        #expect(view.features.map(\.name) == ["far", "score"])
        #expect(registry.inputViews(of: view) == ["stats"])
        #expect(registry.expressionInputs(of: view.features[1]) == ["stats.conv_rate"])
    }

    @Test("a service may list on-demand features; an unknown one is an error with a suggestion")
    func serviceReferences() {
        let text = onDemand("      - {name: far, type: bool, expr: \"distance_km > 20\"}\n")
            .replacingOccurrences(of: "features: [stats]", with: "features: [trip:fa, stats]")
        #expect(diagnostics(text) == [
            "defs.yaml:21:16: error: on-demand view 'trip' has no feature 'fa'; did you mean 'far'?; it has: far",
        ])
    }

    static let derivedBase = """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        feature_views:
          - name: trips
            entities: [driver]
            source: trips_source
            features:
              - {name: fare, type: float64}
              - {name: fare_per_km, type: float64}

        """

    @Test("derived columns: unknown and untyped columns, cycles and wrong declared types are errors at their places")
    func derivedErrors() {
        let text = Self.derivedBase + """
            sources:
              - name: trips_source
                kind: parquet
                path: data/trips
                timestamp_field: ts
                derived:
                  - {name: fare_per_km, type: float64, expr: "fare / nullif(distance_km, 0)"}
                  - {name: a, type: int64, expr: "b + 1"}
                  - {name: b, type: int64, expr: "a + 1"}
                  - {name: late, type: string, expr: "hour(ts) > 20"}

            """
        #expect(diagnostics(text) == [
            "defs.yaml:17:38: error: derived columns of source 'trips_source' depend on each other in a cycle: a -> b -> a",
        ])
        let fixed = text.replacingOccurrences(of: "a + 1", with: "1").replacingOccurrences(of: "b + 1", with: "2")
        #expect(diagnostics(fixed) == [
            "defs.yaml:16:65: error: no column 'distance_km' in source 'trips_source'; columns: a, b, driver_id, fare, fare_per_km, late, ts (in derived column 'fare_per_km' of source 'trips_source')",
            "defs.yaml:19:42: error: derived column 'late' of source 'trips_source' is declared string, but its expression is bool; convert it with cast(... as string)",
        ])
        let typed = fixed.replacingOccurrences(of: "timestamp_field: ts\n", with: "timestamp_field: ts\n    columns: {distance_km: float64}\n")
            .replacingOccurrences(of: "type: string, expr: \"hour(ts) > 20\"", with: "type: bool, expr: \"hour(ts) > 20\"")
        #expect(diagnostics(typed) == [])
    }
}
