import FeatureStoreCore
import Foundation

/// Lineage drawn on the server as SVG: sources -> feature views -> feature services, in three columns, limited to
/// what is connected to one object (its upstream and downstream), with that object highlighted. Every name is
/// escaped; nodes link to their pages.
enum LineageGraph {
    struct Node: Hashable {
        var key: ObjectKey
    }

    /// The connected graph around `focus`: its nodes by column and its edges.
    static func neighbourhood(of focus: ObjectKey, registry: Registry) -> (columns: [[ObjectKey]], edges: [(ObjectKey, ObjectKey)]) {
        // Every edge of the repository: source -> batch source's stream? (stream source -> its batch source is shown
        // as source -> source), source -> view, view -> service, entity -> view.
        var edges: [(ObjectKey, ObjectKey)] = []
        for view in registry.featureViews {
            let v = ObjectKey(kind: .featureView, name: view.name)
            edges.append((ObjectKey(kind: .source, name: view.source), v))
            if let source = registry.source(named: view.source), let batch = source.batchSource {
                edges.append((ObjectKey(kind: .source, name: batch), ObjectKey(kind: .source, name: view.source)))
            }
            for entity in view.entities { edges.append((ObjectKey(kind: .entity, name: entity), v)) }
        }
        for odv in registry.onDemandViews {
            for input in registry.inputViews(of: odv) {
                edges.append((ObjectKey(kind: .featureView, name: input), ObjectKey(kind: .onDemandView, name: odv.name)))
            }
        }
        for service in registry.featureServices {
            for ref in service.features {
                let kind: ObjectKind = registry.onDemandView(named: ref.view) != nil ? .onDemandView : .featureView
                let edge = (ObjectKey(kind: kind, name: ref.view), ObjectKey(kind: .featureService, name: service.name))
                if !edges.contains(where: { $0 == edge }) { edges.append(edge) }
            }
        }
        // Walk upstream and downstream from the focus (not sideways: a view's sibling views are not its lineage).
        var keep: Set<ObjectKey> = [focus]
        var frontier = [focus]
        while let node = frontier.popLast() {
            for (a, b) in edges where b == node && !keep.contains(a) { keep.insert(a); frontier.append(a) }
        }
        frontier = [focus]
        var down: Set<ObjectKey> = [focus]
        while let node = frontier.popLast() {
            for (a, b) in edges where a == node && !down.contains(b) { down.insert(b); frontier.append(b) }
        }
        keep.formUnion(down)
        // An entity's lineage is its views and what feeds and uses them.
        if focus.kind == .entity {
            for (a, b) in edges where a == focus {
                for (c, d) in edges where d == b && c.kind == .source { keep.insert(c) }
            }
            for (a, b) in edges where b.kind == .source && keep.contains(b) { keep.insert(a) }
        }
        let order: [ObjectKind] = [.entity, .source, .featureView, .onDemandView, .featureService]
        var columns: [[ObjectKey]] = []
        // Sources feeding other sources (batch -> stream) get a column of their own before the stream sources.
        let batchSources = Set(edges.filter { $0.0.kind == .source && $0.1.kind == .source }.map(\.0))
        for kind in order where kind != .entity {
            let nodes = keep.filter { $0.kind == kind }.sorted { $0.name < $1.name }
            if kind == .source {
                // Entities feed views as sources do: they share the column just before the views.
                let entities = keep.filter { $0.kind == .entity }.sorted { $0.name < $1.name }
                let first = nodes.filter { batchSources.contains($0) }, rest = nodes.filter { !batchSources.contains($0) } + entities
                if !first.isEmpty { columns.append(first) }
                if !rest.isEmpty { columns.append(rest) }
            } else if !nodes.isEmpty {
                columns.append(nodes)
            }
        }
        return (columns, edges.filter { keep.contains($0.0) && keep.contains($0.1) })
    }

    static func svg(for focus: ObjectKey, registry: Registry) -> String {
        let (columns, edges) = neighbourhood(of: focus, registry: registry)
        // Five columns (entities, sources, views, on-demand views, services) fit the page's 1,132 px without scrolling.
        let boxWidth = 172.0, boxHeight = 38.0, columnGap = 44.0, rowGap = 16.0, margin = 10.0
        let rows = columns.map(\.count).max() ?? 1
        let width = margin * 2 + Double(columns.count) * boxWidth + Double(max(0, columns.count - 1)) * columnGap
        let height = margin * 2 + Double(rows) * boxHeight + Double(max(0, rows - 1)) * rowGap
        var position: [ObjectKey: (x: Double, y: Double)] = [:]
        for (c, column) in columns.enumerated() {
            let columnHeight = Double(column.count) * boxHeight + Double(max(0, column.count - 1)) * rowGap
            let top = (height - columnHeight) / 2
            for (r, node) in column.enumerated() {
                position[node] = (margin + Double(c) * (boxWidth + columnGap), top + Double(r) * (boxHeight + rowGap))
            }
        }
        var out = ##"<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="img" aria-label="lineage" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))">"##
        out += ##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8a94a6"/></marker></defs>"##
        for (a, b) in edges {
            guard let p = position[a], let q = position[b] else { continue }
            let x1 = p.x + boxWidth, y1 = p.y + boxHeight / 2, x2 = q.x, y2 = q.y + boxHeight / 2
            let mid = (x1 + x2) / 2
            out += ##"<path d="M \##(x1) \##(y1) C \##(mid) \##(y1), \##(mid) \##(y2), \##(x2 - 2) \##(y2)" fill="none" stroke="#8a94a6" stroke-width="1.5" marker-end="url(#arrow)"/>"##
        }
        for (node, p) in position.sorted(by: { ($0.key.kind.rawValue, $0.key.name) < ($1.key.kind.rawValue, $1.key.name) }) {
            let focused = node == focus
            let fill: String
            switch node.kind {
            case .entity: fill = "#fdf1dc"
            case .source: fill = "#e4effa"
            case .featureView: fill = "#e3f4e8"
            case .onDemandView: fill = "#e0f5f5"
            case .featureService: fill = "#efe6f8"
            }
            // Labels are cut to the box (its full text is in the tooltip), so no label runs into the next node.
            let label = Self.fitted(node.name, characters: 20)
            // An aggregated view says so, and its tooltip lists each aggregation (function, column, window, hop).
            let aggregated = node.kind == .featureView ? registry.featureView(named: node.name).flatMap { view in
                view.isAggregated ? view.features.compactMap { f in f.aggregation.map { "\(f.name) = \($0.summary)" } } : nil
            } : nil
            // An on-demand view shows the request data it reads, and its tooltip each expression.
            let onDemand = node.kind == .onDemandView ? registry.onDemandView(named: node.name) : nil
            let request = onDemand.map { $0.request.isEmpty ? "" : " · request: " + $0.request.map(\.name).joined(separator: ", ") } ?? ""
            let kindText = CatalogModel.kindLabel(node.kind) + (aggregated == nil ? "" : " · aggregated") + request
            let title = "\(CatalogModel.kindLabel(node.kind)) \(node.name)" + request + (aggregated.map { "\n" + $0.joined(separator: "\n") } ?? "")
                + (onDemand.map { "\n" + $0.features.map { "\($0.name) = \($0.expression)" }.joined(separator: "\n") } ?? "")
            out += ##"<a href="\##(escape(CatalogModel.path(node.kind, node.name)))"><g class="node\##(focused ? " focus" : "")">"##
            out += ##"<title>\##(escape(title))</title>"##
            out += ##"<rect x="\##(p.x)" y="\##(p.y)" width="\##(boxWidth)" height="\##(boxHeight)" rx="6" fill="\##(fill)" stroke="\##(focused ? "#1d4ed8" : "#9aa5b8")" stroke-width="\##(focused ? 2.5 : 1)"/>"##
            out += ##"<text x="\##(p.x + 10)" y="\##(p.y + 15)" font-size="10" fill="#5b6475">\##(escape(Self.fitted(kindText, characters: 28)))</text>"##
            out += ##"<text x="\##(p.x + 10)" y="\##(p.y + 30)" font-size="13" font-weight="600" fill="#111827">\##(escape(label))</text>"##
            out += "</g></a>"
        }
        return out + "</svg>"
    }

    /// `text` cut to `characters` (the last one an ellipsis) when longer.
    static func fitted(_ text: String, characters: Int) -> String {
        text.count > characters ? String(text.prefix(characters - 1)) + "…" : text
    }

    /// Escapes text for HTML and XML (element content and quoted attributes).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
