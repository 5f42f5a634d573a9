/// "Did you mean" hints for every message that names an unknown thing (a view, a key, a setting, a function): the
/// closest candidate by edit distance, when it is close enough to be a typo. One rule for the whole project.
public enum DidYouMean {
    /// The candidate closest to `word` (case-insensitive edit distance of at most a third of its length, and at
    /// least 2), if any; the first of equally close ones.
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let lowered = Array(word.lowercased().utf8)
        let limit = max(2, word.count / 3)
        var best: (String, Int)? = nil
        for candidate in candidates {
            let d = distance(lowered, Array(candidate.lowercased().utf8))
            if d <= limit, d < (best?.1 ?? .max) { best = (candidate, d) }
        }
        return best?.0
    }

    /// `; did you mean 'x'?`, or an empty string when nothing is close.
    public static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// The Levenshtein distance of two byte strings.
    public static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
