import Columnar
import Foundation
import Parquet

/// Deterministic data for the ride-hailing example repository (`features/`).
///
/// For a given size and end time the files are identical from run to run: every value comes from a
/// seeded generator. Events cover the `days` before `end`.
struct RideHailingData {
    enum Size: String, CaseIterable {
        case small, large

        var drivers: Int { self == .small ? 50 : 10_000 }
        var customers: Int { self == .small ? 200 : 100_000 }
        var zones: Int { self == .small ? 6 : 24 }
        var days: Int { self == .small ? 7 : 30 }
        /// Minutes between driver activity events.
        var activityEvery: Int { self == .small ? 10 : 60 }
    }

    let size: Size
    /// The end of the data (exclusive), in microseconds since the epoch.
    let end: Int64

    static let hour: Int64 = 3_600_000_000
    static let minute: Int64 = 60_000_000
    static let day: Int64 = 86_400_000_000

    var start: Int64 { end - Int64(size.days) * Self.day }

    /// Driver performance, hourly, with about 1% of (driver, hour) rows written twice (a later `created`
    /// and different values): the later write must win in joins and materialization.
    func driverStats() throws -> Table {
        var ids: [Int64?] = [], ts: [Int64?] = [], created: [Int64?] = []
        var conv: [Float?] = [], acc: [Float?] = [], trips: [Int64?] = []
        let hours = size.days * 24
        ids.reserveCapacity(size.drivers * hours)
        for h in 0..<hours {
            let t = start + Int64(h) * Self.hour
            for d in 0..<size.drivers {
                var rng = SplitMix64(seed: UInt64(d) &* 1_000_003 &+ UInt64(h))
                let copies = rng.next() % 100 == 0 ? 2 : 1
                for copy in 0..<copies {
                    ids.append(1001 + Int64(d))
                    ts.append(t)
                    created.append(t + Int64(5 + copy * 30) * Self.minute)
                    conv.append(Float(rng.unit()) * 0.5 + 0.4)
                    acc.append(rng.next() % 50 == 0 ? nil : Float(rng.unit()) * 0.3 + 0.65)
                    trips.append(Int64(rng.next() % 25) + 5)
                }
            }
        }
        return try Table([
            ("driver_id", Column(int64: ids)),
            ("event_timestamp", Column(timestamps: ts)),
            ("created", Column(timestamps: created)),
            ("conv_rate", Column(float32: conv)),
            ("acc_rate", Column(float32: acc)),
            ("avg_daily_trips", Column(int64: trips)),
        ])
    }

    /// Driver activity events (the offline copy of the stream) every `activityEvery` minutes from `start` to `end`,
    /// one table per UTC day they fall in (the `date=` folders the stream's ingester writes too).
    func driverActivity() throws -> [(date: String, table: Table)] {
        var days: [(date: String, table: Table)] = []
        var ids: [Int64?] = [], ts: [Int64?] = [], trips: [Int32?] = [], online: [Bool?] = [], minutes: [Double?] = []
        func flush(day: Int64) throws {
            guard !ids.isEmpty else { return }
            days.append((Column.isoDate(days: day), try Table([
                ("driver_id", Column(int64: ids)),
                ("event_time", Column(timestamps: ts)),
                ("trips_last_hour", Column(.int32, int32: trips)),
                ("is_online", Column(bool: online)),
                ("minutes_online_today", Column(float64: minutes)),
            ])))
            ids = []; ts = []; trips = []; online = []; minutes = []
        }
        let every = Int64(size.activityEvery) * Self.minute
        let steps = (end - start) / every
        var currentDay = Self.floorDiv(start, Self.day)
        for step in 0..<steps {
            let t = start + step * every
            for d in 0..<size.drivers {
                var rng = SplitMix64(seed: UInt64(d) &* 7_919 &+ UInt64(step) &* 31)
                let event = t + Int64(rng.next() % 60) * 1_000_000
                let day = Self.floorDiv(event, Self.day)
                if day != currentDay {
                    try flush(day: currentDay)
                    currentDay = day
                }
                ids.append(1001 + Int64(d))
                ts.append(event)
                let isOnline = rng.next() % 4 != 0
                online.append(isOnline)
                trips.append(isOnline ? Int32(rng.next() % 4) : 0)
                minutes.append(Double(Self.floorMod(t, Self.day) / Self.minute) * (isOnline ? 0.8 : 0.3))
            }
        }
        try flush(day: currentDay)
        return days
    }

    /// Completed trips (the offline copy of the trips stream): each driver finishes a trip every 10 to 50 minutes,
    /// with a rider, a fare (now and then missing) and a drop-off zone; one table per UTC day, like the ingester's.
    func trips() throws -> [(date: String, table: Table)] {
        struct Day { var drivers: [Int64?] = [], riders: [Int64?] = [], times: [Int64?] = [], fares: [Double?] = [], zones: [String?] = [] }
        var days: [Int64: Day] = [:]
        let zones = (0..<size.zones).map { "zone_\(Character(UnicodeScalar(UInt8(65 + $0 % 26))))\($0 / 26 == 0 ? "" : String($0 / 26))" }
        for d in 0..<size.drivers {
            var rng = SplitMix64(seed: UInt64(d) &* 6_700_417 &+ 3)
            var t = start + Int64(rng.next() % 40) * Self.minute
            while t < end {
                let day = Self.floorDiv(t, Self.day)
                days[day, default: Day()].drivers.append(1001 + Int64(d))
                days[day]!.riders.append(5001 + Int64(rng.next() % UInt64(size.customers)))
                days[day]!.times.append(t)
                days[day]!.fares.append(rng.next() % 40 == 0 ? nil : ((4 + rng.unit() * 36) * 100).rounded() / 100)
                days[day]!.zones.append(zones[Int(rng.next() % UInt64(zones.count))])
                t += Int64(10 + rng.next() % 41) * Self.minute + Int64(rng.next() % 60) * 1_000_000
            }
        }
        return try days.keys.sorted().map { day in
            let columns = days[day]!
            return (Column.isoDate(days: day), try Table([
                ("driver_id", Column(int64: columns.drivers)),
                ("rider_id", Column(int64: columns.riders)),
                ("event_time", Column(timestamps: columns.times)),
                ("fare", Column(float64: columns.fares)),
                ("dropoff_zone", Column(strings: columns.zones)),
            ]))
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    /// A daily snapshot of customer profiles; the tier column is `membership` (renamed by the source's field mapping).
    func customerProfile() throws -> Table {
        let tiers = ["basic", "plus", "premium"]
        var ids: [Int64?] = [], ts: [Int64?] = [], tier: [String?] = [], lifetime: [Int64?] = [], rating: [Double?] = []
        for day in 0..<size.days {
            let t = start + Int64(day) * Self.day
            for c in 0..<size.customers {
                var rng = SplitMix64(seed: UInt64(c) &* 104_729 &+ UInt64(day))
                ids.append(5001 + Int64(c))
                ts.append(t)
                // A customer's tier changes at most every 10 days.
                var tierRng = SplitMix64(seed: UInt64(c) &+ UInt64(day / 10) &* 1_000_000_007)
                tier.append(tiers[Int(tierRng.next() % 3)])
                lifetime.append(Int64(c % 300) + Int64(day) * Int64(rng.next() % 2))
                rating.append(rng.next() % 20 == 0 ? nil : 3.5 + rng.unit() * 1.5)
            }
        }
        return try Table([
            ("customer_id", Column(int64: ids)),
            ("event_timestamp", Column(timestamps: ts)),
            ("membership", Column(strings: tier)),
            ("lifetime_trips", Column(int64: lifetime)),
            ("avg_rating_given", Column(float64: rating)),
        ])
    }

    /// Route statistics every 15 minutes for every origin/destination zone pair.
    func routeStats() throws -> Table {
        let zones = (0..<size.zones).map { "zone_\(Character(UnicodeScalar(UInt8(65 + $0 % 26))))\($0 / 26 == 0 ? "" : String($0 / 26))" }
        var origin: [String?] = [], destination: [String?] = [], ts: [Int64?] = [], minutes: [Double?] = [], surge: [Float?] = []
        let steps = size.days * 96
        for s in 0..<steps {
            let t = start + Int64(s) * 15 * Self.minute
            for (i, o) in zones.enumerated() {
                for (j, d) in zones.enumerated() where i != j {
                    var rng = SplitMix64(seed: UInt64(i * 1000 + j) &* 65_537 &+ UInt64(s))
                    origin.append(o)
                    destination.append(d)
                    ts.append(t)
                    minutes.append(8 + Double(abs(i - j)) * 3 + rng.unit() * 6)
                    surge.append(1 + Float(rng.next() % 8) / 4)
                }
            }
        }
        return try Table([
            ("origin_zone", Column(strings: origin)),
            ("destination_zone", Column(strings: destination)),
            ("event_timestamp", Column(timestamps: ts)),
            ("avg_trip_minutes", Column(float64: minutes)),
            ("surge_multiplier", Column(float32: surge)),
        ])
    }
}

extension RideHailingData {
    /// Labelled trip requests (the entity rows of a training set): a driver, a customer, the request time, and
    /// whether the driver accepted. Times fall in the data's range, some before it, so joins see misses too.
    func tripRequests(count: Int = 1_000) throws -> Table {
        var drivers: [Int64?] = [], customers: [Int64?] = [], times: [Int64?] = [], accepted: [Bool?] = []
        var distances: [Double?] = [], pickups: [Int64?] = []
        var rng = SplitMix64(seed: 20_250_131)
        for _ in 0..<count {
            drivers.append(1001 + Int64(rng.next() % UInt64(size.drivers + 5)))
            customers.append(5001 + Int64(rng.next() % UInt64(size.customers)))
            let span = UInt64(size.days + 1) * UInt64(Self.day)
            times.append(start - Self.day + Int64(rng.next() % span))
            accepted.append(rng.next() % 3 != 0)
        }
        // The request data of the trip_request on-demand view: the trip's distance and the pickup time the rider
        // asked for (a few minutes after the request). Drawn after the other columns, so those stay as they were.
        for time in times {
            distances.append(((0.5 + rng.unit() * 39.5) * 10).rounded() / 10)
            pickups.append(time! + Int64(rng.next() % 1_200) * 1_000_000)
        }
        return try Table([
            ("driver_id", Column(int64: drivers)),
            ("customer_id", Column(int64: customers)),
            ("event_timestamp", Column(timestamps: times)),
            ("accepted", Column(bool: accepted)),
            ("trip_distance_km", Column(float64: distances)),
            ("pickup_time", Column(timestamps: pickups)),
        ])
    }
}

/// SplitMix64: a small, fast, seedable generator.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
