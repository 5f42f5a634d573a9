/// The catalog's Mustache templates. `{{x}}` escapes HTML (every name, description and tag a user wrote goes
/// through it); the only unescaped values are `{{{body}}}` (a page rendered by these templates),
/// `{{{lineage_svg}}}` (built by ``LineageGraph``) and `{{{histogram_svg}}}` (built by ``HistogramSVG``), which
/// escape every name themselves.
enum CatalogTemplates {
    static let layout = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · {{project}} · feature catalog</title>
        <style>
        :root { --ink: #111827; --muted: #5b6475; --line: #e5e7eb; --accent: #1d4ed8; --warn: #b45309; --bg: #f8fafc; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
        header { background: #0f172a; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
        header a { color: #cbd5e1; text-decoration: none; } header a:hover, header a.here { color: #fff; }
        header .brand { font-weight: 700; color: #fff; } header form { margin-left: auto; }
        header input { padding: 6px 10px; border-radius: 6px; border: 0; width: 280px; }
        main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 60px; }
        h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
        .kind { color: var(--muted); text-transform: uppercase; font-size: 11px; letter-spacing: .06em; }
        .muted { color: var(--muted); } a { color: var(--accent); }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 16px 0; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
        .card .n { font-size: 26px; font-weight: 700; } .card a { text-decoration: none; }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
        th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #f1f5f9; font-weight: 600; font-size: 12px; color: #334155; }
        table.sortable th { cursor: pointer; user-select: none; } table.sortable th:after { content: " ↕"; color: #94a3b8; }
        .tag { display: inline-block; background: #eef2ff; color: #3730a3; border-radius: 10px; padding: 0 8px; margin: 1px 2px; font-size: 12px; }
        .stale { color: var(--warn); font-weight: 600; } .fresh { color: #15803d; }
        .marker, .violation { color: #b91c1c; font-weight: 600; } svg.histogram { display: block; }
        dl { display: grid; grid-template-columns: 170px 1fr; gap: 4px 12px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
        dt { color: var(--muted); } dd { margin: 0; }
        .filter { padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; width: 320px; margin: 8px 0; }
        .lineage-box { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px; overflow-x: auto; }
        code { background: #f1f5f9; padding: 1px 5px; border-radius: 4px; }
        </style></head>
        <body>
        <header><a class="brand" href="/">{{project}} · feature catalog</a>
        <a href="/views">Feature views</a><a href="/entities">Entities</a><a href="/sources">Sources</a><a href="/services">Feature services</a>
        <form action="/search" method="get"><input type="search" name="q" value="{{query}}" placeholder="Search names, descriptions, owners, tags" aria-label="search"></form>
        </header>
        <main>{{{body}}}</main>
        <script src="/catalog.js"></script>
        </body></html>
        """#

    static let home = #"""
        <h1>{{project}}</h1>
        <p class="muted">Applied {{applied_at}}. What features exist, what they mean, who owns them, where they come from and how fresh they are.</p>
        <form action="/search" method="get"><input class="filter" type="search" name="q" placeholder="Search: e.g. acceptance rate" aria-label="search the catalog"></form>
        <div class="cards">
        {{#counts}}
        <div class="card"><a href="/views"><div class="n">{{feature_views}}</div><div class="muted">feature views</div></a></div>
        <div class="card"><a href="/views"><div class="n">{{features}}</div><div class="muted">features</div></a></div>
        <div class="card"><a href="/entities"><div class="n">{{entities}}</div><div class="muted">entities</div></a></div>
        <div class="card"><a href="/sources"><div class="n">{{sources}}</div><div class="muted">sources</div></a></div>
        <div class="card"><a href="/services"><div class="n">{{feature_services}}</div><div class="muted">feature services</div></a></div>
        {{/counts}}
        </div>
        {{#has_quality_problems}}<h2 class="stale">Data quality</h2>
        <table id="quality"><thead><tr><th>Feature view</th><th>Problem</th></tr></thead><tbody>
        {{#quality_problems}}<tr><td><span class="marker" title="breaks its expectations">&#9888;</span> <a href="{{url}}">{{name}}</a></td><td>{{problems}}</td></tr>{{/quality_problems}}
        </tbody></table>{{/has_quality_problems}}
        <h2>Feature views</h2>
        {{> views_table}}
        <h2>Stale online data</h2>
        {{#has_stale_views}}<table id="stale"><thead><tr><th>View</th><th>ttl</th><th>Newest event online</th><th>Age</th></tr></thead><tbody>
        {{#stale_views}}<tr><td><a href="{{url}}">{{name}}</a></td><td>{{ttl}}</td><td>{{newest_event}}</td><td class="stale">{{age}}</td></tr>
        {{/stale_views}}</tbody></table>{{/has_stale_views}}
        {{^stale_views}}<p class="fresh">Every online view has data newer than its ttl.</p>{{/stale_views}}
        <h2>Recently changed</h2>
        <table id="recent"><thead><tr><th>Object</th><th>Kind</th><th>Version</th><th>Changed</th></tr></thead><tbody>
        {{#recently_changed}}<tr><td><a href="{{url}}">{{name}}</a></td><td>{{kind}}</td><td>{{version}}</td><td>{{changed_at}}</td></tr>
        {{/recently_changed}}</tbody></table>
        """#

    static let viewsTable = #"""
        <input class="filter" data-table="views" placeholder="Filter feature views" aria-label="filter feature views">
        <table id="views" class="sortable"><thead><tr><th>Name</th><th>Entities</th><th>Source</th><th>ttl</th><th>Features</th><th>Owner</th><th>Tags</th><th>Online freshness</th></tr></thead><tbody>
        {{#views}}<tr>
        <td><a href="{{url}}">{{name}}</a><div class="muted">{{description}}</div></td>
        <td>{{#entities}}<a href="{{url}}">{{name}}</a> {{/entities}}</td>
        <td>{{#source}}<a href="{{url}}">{{name}}</a>{{/source}}</td>
        <td data-sort="{{ttl_seconds}}">{{ttl}}</td>
        <td>{{feature_count}}</td>
        <td>{{owner}}</td>
        <td>{{#tags}}<span class="tag">{{key}}={{value}}</span>{{/tags}}</td>
        <td data-sort="{{freshness.age_seconds}}">{{#freshness}}{{#newest_event}}<span class="{{#stale}}stale{{/stale}}{{^stale}}fresh{{/stale}}">{{age}}</span> · {{rows}} rows{{/newest_event}}{{^newest_event}}no rows{{/newest_event}}{{/freshness}}{{^freshness}}<span class="muted">not online</span>{{/freshness}}</td>
        </tr>
        {{/views}}</tbody></table>
        """#

    static let views = #"""
        <h1>Feature views</h1>
        <p class="muted">Click a column to sort; type to filter.</p>
        {{> views_table}}
        """#

    static let history = #"""
        <h2>Version history</h2>
        <table id="history"><thead><tr><th>Version</th><th>Action</th><th>When</th><th>Changes</th></tr></thead><tbody>
        {{#history}}<tr><td>{{version}}</td><td>{{action}}</td><td>{{at}}</td><td>{{#changes}}<div><code>{{field}}</code>: {{old}} → {{new}}</div>{{/changes}}</td></tr>
        {{/history}}</tbody></table>
        {{^history}}<p class="muted">Not applied yet: run <code>featurectl apply</code>.</p>{{/history}}
        """#

    static let header = #"""
        <div class="kind">{{kind}}</div><h1>{{name}}</h1>
        <p>{{description}}</p>
        <dl>
        <dt>Owner</dt><dd>{{owner}}{{^owner}}<span class="muted">(none)</span>{{/owner}}</dd>
        <dt>Tags</dt><dd>{{#tags}}<span class="tag">{{key}}={{value}}</span>{{/tags}}{{^tags}}<span class="muted">(none)</span>{{/tags}}</dd>
        {{#version}}<dt>Version</dt><dd>{{version}}, changed {{changed_at}}</dd>{{/version}}
        {{#defined_at}}<dt>Defined at</dt><dd><code>{{defined_at}}</code></dd>{{/defined_at}}
        """#

    static let view = #"""
        {{> header}}
        <dt>Entities</dt><dd>{{#entities}}<a href="{{url}}">{{name}}</a> {{/entities}} ({{#join_keys}}<code>{{name}} {{type}}</code> {{/join_keys}})</dd>
        <dt>Source</dt><dd>{{#source}}<a href="{{url}}">{{name}}</a>{{/source}}</dd>
        <dt>ttl</dt><dd>{{ttl}}</dd>
        <dt>Used by</dt><dd>{{#services}}<a href="{{url}}">{{name}}</a> {{/services}}{{^services}}<span class="muted">no service</span>{{/services}}</dd>
        <dt>Online</dt><dd>{{#freshness}}{{#rows_approximate}}about {{/rows_approximate}}{{rows}} rows{{#rows_approximate}} (an estimate){{/rows_approximate}}{{#newest_event}}, newest event {{newest_event}} (<span class="{{#stale}}stale{{/stale}}{{^stale}}fresh{{/stale}}">{{age}}</span>{{#stale}}, older than the ttl{{/stale}}){{/newest_event}}{{/freshness}}{{^freshness}}<span class="muted">not in the online store</span>{{/freshness}}</dd>
        {{#policy}}<dt>Expectations</dt><dd>policy {{policy}}{{#max_staleness}}; fresher than {{max_staleness}}{{/max_staleness}}{{#freshness}}{{#slo_breached}} <span class="stale"><span class="marker">&#9888;</span> newest event older than max_staleness</span>{{/slo_breached}}{{/freshness}}</dd>{{/policy}}
        {{#last_materialization}}<dt>Last materialization</dt><dd>{{at}}: {{rows_written}} rows written for {{entities}} entities ({{rows_read}} rows read in {{seconds}} s; window {{window}})</dd>{{/last_materialization}}
        {{#stream}}<dt>Stream</dt><dd><code>{{location}}</code>, offline copy in {{#batch_source}}<a href="{{url}}">{{name}}</a>{{/batch_source}}{{#ingested_here}}; newest event {{newest_event}}; freshness p50 {{freshness_p50_ms}} ms, p99 {{freshness_p99_ms}} ms; consumer lag {{total_lag}} ({{#lag}}p{{partition}}: {{lag}} {{/lag}}){{/ingested_here}}{{^ingested_here}}; not ingested by this server{{/ingested_here}}</dd>{{/stream}}
        </dl>
        <h2>Schema</h2>
        <table id="schema"><thead><tr><th>Feature</th><th>Type</th><th>Description</th><th>Expectations</th><th>Nulls</th><th>Min</th><th>Max</th><th>Mean</th><th>Distribution</th></tr></thead><tbody>
        {{#features}}<tr id="feature-{{name}}"><td><code>{{name}}</code></td><td>{{type}}{{#computed}}<div class="muted">{{computed}}</div>{{/computed}}</td><td>{{description}}</td><td>{{expect}}{{#violations}}<div class="violation" title="{{violation_example}}"><span class="marker">&#9888;</span> {{violations}}</div>{{/violations}}{{#skew}}<div class="{{#skew_breached}}violation{{/skew_breached}}{{^skew_breached}}muted{{/skew_breached}}" title="{{skew_example}}">{{#skew_breached}}<span class="marker">&#9888;</span> {{/skew_breached}}skew: {{skew}}</div>{{/skew}}{{#drift}}<div class="{{#drift_breached}}violation{{/drift_breached}}{{^drift_breached}}muted{{/drift_breached}}">{{#drift_breached}}<span class="marker">&#9888;</span> {{/drift_breached}}drift: {{drift}}</div>{{/drift}}</td><td>{{null_count}}</td><td>{{min}}</td><td>{{max}}</td><td>{{mean}}</td><td>{{{histogram_svg}}}</td></tr>
        {{/features}}</tbody></table>
        <p class="muted">{{#profile}}Profile of {{at}} ({{origin}}, {{rows}} entities){{#baseline_at}}: bars; the line is the baseline of {{baseline_at}}{{/baseline_at}}. {{/profile}}Nulls, min, max and mean of the newest profile (or the last materialization).{{#violations_total}} Expectations broken in the last materialization: {{violations_total}}{{#rows_dropped}}, {{rows_dropped}} rows dropped{{/rows_dropped}} (policy {{policy}}).{{/violations_total}}</p>
        <h2>Lineage</h2><div class="lineage-box">{{{lineage_svg}}}</div>
        {{> history}}
        """#

    static let onDemandView = #"""
        {{> header}}
        <dt>Request fields</dt><dd>{{#request}}<code>{{name}} {{type}}</code> {{/request}}{{^request}}<span class="muted">(none)</span>{{/request}}</dd>
        <dt>Reads</dt><dd>{{#inputs}}<a href="{{url}}">{{name}}</a> {{/inputs}}{{^inputs}}<span class="muted">request data only</span>{{/inputs}}</dd>
        <dt>Used by</dt><dd>{{#services}}<a href="{{url}}">{{name}}</a> {{/services}}{{^services}}<span class="muted">no service</span>{{/services}}</dd>
        </dl>
        <h2>Features</h2>
        <p class="muted">Computed at request time, the same way in training sets and lookups; nothing is stored.</p>
        <table id="schema"><thead><tr><th>Feature</th><th>Type</th><th>Expression</th><th>Inputs</th><th>Description</th></tr></thead><tbody>
        {{#features}}<tr id="feature-{{name}}"><td><code>{{name}}</code></td><td>{{type}}</td><td><code>{{expression}}</code></td><td>{{#inputs}}<code>{{.}}</code> {{/inputs}}</td><td>{{description}}</td></tr>
        {{/features}}</tbody></table>
        <h2>Lineage</h2><div class="lineage-box">{{{lineage_svg}}}</div>
        {{> history}}
        """#

    static let entities = #"""
        <h1>Entities</h1>
        <table id="entities" class="sortable"><thead><tr><th>Name</th><th>Join keys</th><th>Feature views</th><th>Owner</th><th>Tags</th></tr></thead><tbody>
        {{#entities}}<tr><td><a href="{{url}}">{{name}}</a><div class="muted">{{description}}</div></td><td>{{#join_keys}}<code>{{name}} {{type}}</code> {{/join_keys}}</td>
        <td>{{#views}}<a href="{{url}}">{{name}}</a> {{/views}}</td><td>{{owner}}</td><td>{{#tags}}<span class="tag">{{key}}={{value}}</span>{{/tags}}</td></tr>
        {{/entities}}</tbody></table>
        """#

    static let entity = #"""
        {{> header}}
        <dt>Join keys</dt><dd>{{#join_keys}}<code>{{name}} {{type}}</code> {{/join_keys}}</dd>
        <dt>Feature views</dt><dd>{{#views}}<a href="{{url}}">{{name}}</a> {{/views}}{{^views}}<span class="muted">(none)</span>{{/views}}</dd>
        </dl>
        <h2>Lineage</h2><div class="lineage-box">{{{lineage_svg}}}</div>
        {{> history}}
        """#

    static let sources = #"""
        <h1>Sources</h1>
        <table id="sources" class="sortable"><thead><tr><th>Name</th><th>Kind</th><th>Where</th><th>Feature views</th><th>Owner</th></tr></thead><tbody>
        {{#sources}}<tr><td><a href="{{url}}">{{name}}</a><div class="muted">{{description}}</div></td><td>{{source_kind}}</td>
        <td><code>{{location}}</code></td>
        <td>{{#views}}<a href="{{url}}">{{name}}</a> {{/views}}</td><td>{{owner}}</td></tr>
        {{/sources}}</tbody></table>
        """#

    static let source = #"""
        {{> header}}
        <dt>Kind</dt><dd>{{source_kind}}</dd>
        {{#settings}}<dt>{{key}}</dt><dd><code>{{value}}</code></dd>{{/settings}}
        {{#format}}<dt>Format</dt><dd>{{format}}</dd>{{/format}}
        {{#batch_source}}<dt>Offline copy</dt><dd><a href="{{url}}">{{name}}</a></dd>{{/batch_source}}
        <dt>Event time</dt><dd><code>{{timestamp_field}}</code></dd>
        {{#created_timestamp_field}}<dt>Created time</dt><dd><code>{{created_timestamp_field}}</code></dd>{{/created_timestamp_field}}
        {{#derived}}<dt>Derived column</dt><dd><code>{{name}} {{type}}</code> = <code>{{expression}}</code></dd>{{/derived}}
        {{#has_field_mapping}}<dt>Field mapping</dt><dd>{{#field_mapping}}<code>{{from}}</code> → <code>{{to}}</code> {{/field_mapping}}</dd>{{/has_field_mapping}}
        <dt>Feature views</dt><dd>{{#views}}<a href="{{url}}">{{name}}</a> {{/views}}{{^views}}<span class="muted">(none)</span>{{/views}}</dd>
        </dl>
        <h2>Lineage</h2><div class="lineage-box">{{{lineage_svg}}}</div>
        {{> history}}
        """#

    static let services = #"""
        <h1>Feature services</h1>
        <table id="services" class="sortable"><thead><tr><th>Name</th><th>Features</th><th>Feature views</th><th>Owner</th><th>Tags</th></tr></thead><tbody>
        {{#services}}<tr><td><a href="{{url}}">{{name}}</a><div class="muted">{{description}}</div></td><td>{{feature_count}}</td>
        <td>{{#views}}<a href="{{url}}">{{name}}</a> {{/views}}</td><td>{{owner}}</td><td>{{#tags}}<span class="tag">{{key}}={{value}}</span>{{/tags}}</td></tr>
        {{/services}}</tbody></table>
        """#

    static let service = #"""
        {{> header}}
        <dt>Feature views</dt><dd>{{#views}}<a href="{{url}}">{{name}}</a> {{/views}}</dd>
        </dl>
        <h2>Features</h2>
        <table id="service-features"><thead><tr><th>View</th><th>Feature</th><th>Type</th><th>Description</th></tr></thead><tbody>
        {{#features}}<tr><td>{{#view}}<a href="{{url}}">{{name}}</a>{{/view}}</td><td><code>{{name}}</code></td><td>{{type}}</td><td>{{description}}</td></tr>
        {{/features}}</tbody></table>
        <h2>Lineage</h2><div class="lineage-box">{{{lineage_svg}}}</div>
        {{> history}}
        """#

    static let search = #"""
        <h1>Search</h1>
        <p class="muted">{{total}} results for “{{query}}”.</p>
        {{#groups}}<h2>{{kind}}</h2><table class="results" id="results-{{key}}"><tbody>
        {{#items}}<tr><td><a href="{{url}}">{{name}}</a>{{#view}} <span class="muted">in <a href="{{url}}">{{name}}</a></span>{{/view}}</td><td>{{description}}</td><td>{{owner}}</td></tr>
        {{/items}}</tbody></table>{{/groups}}
        {{^groups}}<p>Nothing matches every word. Try fewer words, or browse the <a href="/views">feature views</a>.</p>{{/groups}}
        """#

    static let problem = #"""
        <h1>{{heading}}</h1>
        <p>{{message}}</p>
        {{#login}}<form action="/login" method="get"><input class="filter" type="password" name="token" placeholder="Bearer token" aria-label="token"> <button type="submit">Open the catalog</button></form>
        <p class="muted">The token is kept in a cookie for this server. Or configure <code>auth: {catalog: public}</code>.</p>{{/login}}
        <p><a href="/">Back to the catalog</a></p>
        """#

    /// The page's only script (served at /catalog.js): sortable tables and filter boxes.
    static let script = #"""
        // Sortable tables: click a header to sort by that column (numbers numerically).
        document.querySelectorAll("table.sortable").forEach(function (table) {
          table.querySelectorAll("th").forEach(function (th, column) {
            th.addEventListener("click", function () {
              var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
              var ascending = th.dataset.order !== "asc"; th.dataset.order = ascending ? "asc" : "desc";
              rows.sort(function (a, b) {
                var x = a.cells[column].dataset.sort || a.cells[column].textContent.trim();
                var y = b.cells[column].dataset.sort || b.cells[column].textContent.trim();
                var nx = parseFloat(x), ny = parseFloat(y);
                var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
                return ascending ? c : -c;
              });
              rows.forEach(function (r) { body.appendChild(r); });
            });
          });
        });
        // Filter boxes: hide the rows of the table that do not contain the text.
        document.querySelectorAll("input.filter").forEach(function (input) {
          var table = document.getElementById(input.dataset.table);
          input.addEventListener("input", function () {
            var text = input.value.toLowerCase();
            Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
              r.style.display = r.textContent.toLowerCase().indexOf(text) >= 0 ? "" : "none";
            });
          });
        });
        """#
}
