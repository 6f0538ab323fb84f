// Renders report.html from the data html.ts inlined (REPORT_DATA) with uPlot (inlined too): no network.
// Errors land in document.body.dataset.errors, which the headless browser test reads.
(function () {
  'use strict';
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message));
    document.body.dataset.errors = errors.join('\n');
  });
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var el = function (tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') n.textContent = attrs[k];
      else n.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { n.appendChild(c); });
    return n;
  };
  var slug = function (v) { return v.replace(/ /g, '-'); };
  var secs = function (ms) { return (ms / 1000).toFixed(1) + ' s'; };
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

  function index(root) {
    var t = data.totals;
    root.appendChild(el('h1', { text: 'clogtest run ' + data.runDir }));
    root.appendChild(el('p', { text: t.passed + ' passed, ' + t.failed + ' failed, ' + t.skipped + ' skipped; report written ' + data.generated }));
    var verdicts = Array.from(new Set(data.rows.map(function (r) { return r.verdict; })));
    var tags = Array.from(new Set([].concat.apply([], data.rows.map(function (r) { return r.tags; })))).sort();
    var vSel = el('select', { id: 'filter-verdict' }, [el('option', { value: '', text: 'every verdict' })].concat(verdicts.map(function (v) { return el('option', { value: v, text: v }); })));
    var tSel = el('select', { id: 'filter-tag' }, [el('option', { value: '', text: 'every tag' })].concat(tags.map(function (v) { return el('option', { value: v, text: v }); })));
    root.appendChild(el('div', { class: 'filters' }, [el('label', {}, [vSel]), el('label', {}, [tSel])]));
    var body = el('tbody');
    data.rows.forEach(function (r) {
      var name = r.name + (r.iteration > 1 ? ' #' + r.iteration : '');
      var link = r.dir ? el('a', { href: '#case-' + r.dir, text: name }) : el('span', { text: name });
      var tr = el('tr', { 'data-verdict': r.verdict, 'data-tags': r.tags.join(' '), class: 'case-row' }, [
        el('td', {}, [link]),
        el('td', { class: 'verdict v-' + slug(r.verdict), text: r.verdict }),
        el('td', { text: r.failedChecks.join(', ') }),
        el('td', { text: secs(r.durationMs) }),
        el('td', { text: r.tags.join(', ') }),
        el('td', { class: 'mono', text: r.replay }),
      ]);
      if (r.knownFailure) tr.title = 'known failure: ' + r.knownFailure + '; ' + r.explained + ' findings explained, ' + r.unexplained.length + ' not';
      body.appendChild(tr);
    });
    var head = el('tr', {}, ['case', 'verdict', 'failed checks', 'time', 'tags', 'replay'].map(function (h) { return el('th', { text: h }); }));
    root.appendChild(el('table', { class: 'index' }, [el('thead', {}, [head]), body]));
    var apply = function () {
      Array.prototype.forEach.call(body.children, function (tr) {
        var okV = !vSel.value || tr.dataset.verdict === vSel.value;
        var okT = !tSel.value || tr.dataset.tags.split(' ').indexOf(tSel.value) >= 0;
        tr.style.display = okV && okT ? '' : 'none';
      });
    };
    vSel.onchange = apply;
    tSel.onchange = apply;
  }

  // The lanes sit over the charts' plotting area (left, width in CSS pixels), so one x is one time.
  function lanes(c, left, width) {
    var box = el('div', { class: 'lanes' });
    var x = function (t) { return (100 * t) / Math.max(c.endS, 1e-3) + '%'; };
    c.lanes.forEach(function (lane) {
      var track = el('div', { class: 'lane-track' });
      c.spans.filter(function (s) { return s.lane === lane; }).forEach(function (s) {
        var cls = lane === 'steps' ? 'k-step' : 'k-fault';
        var n = el('div', { class: 'span ' + cls, 'data-kind': s.kind, title: s.label + ' (' + s.from + ' - ' + s.to + ' s)', text: s.label });
        n.style.left = x(s.from);
        n.style.width = 'calc(' + x(s.to - s.from) + ' + 2px)';
        track.appendChild(n);
      });
      c.marks.filter(function (m) { return m.lane === lane; }).forEach(function (m) {
        // A finding's mark is a link to the finding below.
        var n = m.finding !== undefined
          ? el('a', { class: 'mark k-' + m.kind, 'data-kind': m.kind, title: m.label + ' (' + m.at + ' s)', href: '#finding-' + c.key + '-' + m.finding })
          : el('div', { class: 'mark k-' + m.kind, 'data-kind': m.kind, title: m.label + ' (' + m.at + ' s)' });
        n.style.left = x(m.at);
        track.appendChild(n);
      });
      track.style.width = width + 'px';
      var name = el('div', { class: 'lane-name', text: lane });
      name.style.width = left + 'px';
      box.appendChild(el('div', { class: 'lane', 'data-lane': lane }, [name, track]));
    });
    return box;
  }

  // One chart of per-node series on the case's time axis; uPlot wants one shared x, so each node's
  // points sit on the union of the x values with nulls elsewhere.
  function chart(c, title, pick, yLabel, points, width) {
    var xs = Array.from(new Set([].concat.apply([], c.series.map(function (n) { return pick(n).map(function (p) { return p[0]; }); })))).sort(function (a, b) { return a - b; });
    if (!xs.length) return el('p', { class: 'chart', text: title + ': nothing recorded' });
    var pos = new Map(xs.map(function (v, i) { return [v, i]; }));
    var ys = c.series.map(function (n) {
      var y = new Array(xs.length).fill(null);
      pick(n).forEach(function (p) { y[pos.get(p[0])] = p[1]; });
      return y;
    });
    var div = el('div', { class: 'chart', 'data-chart': title });
    var series = [{}].concat(c.series.map(function (n, i) {
      return points
        ? { label: 'node' + n.node, stroke: palette[i % 8], paths: function () { return null; }, points: { show: true, size: 4, fill: palette[i % 8] } }
        : { label: 'node' + n.node, stroke: palette[i % 8], spanGaps: true };
    }));
    /* global uPlot */
    div.plot = new uPlot({ title: title, width: width, height: 180, scales: { x: { time: false, range: [0, c.endS] } }, axes: [{ label: 's' }, { label: yLabel }], series: series }, [xs].concat(ys), div);
    return div;
  }

  function throughput(n) {
    var bins = {};
    n.writes.forEach(function (p) { var b = Math.floor(p[0]); bins[b] = (bins[b] || 0) + 1; });
    return Object.keys(bins).map(function (b) { return [Number(b), bins[b]]; });
  }

  function caseSection(root, c) {
    var r = c.row;
    var sec = el('section', { id: 'case-' + c.key, class: 'case' });
    sec.appendChild(el('h2', { text: r.name + (r.iteration > 1 ? ' #' + r.iteration : '') + ': ' + r.verdict }));
    sec.appendChild(el('p', { text: c.description }));
    if (r.knownFailure) {
      sec.appendChild(el('p', { text: 'Known failure: ' + r.knownFailure + ': ' + r.explained + ' finding' + (r.explained === 1 ? '' : 's') + ' explained by it' + (r.unexplained.length ? ', ' + r.unexplained.length + ' not the known failure:' : '') }));
      if (r.unexplained.length) {
        sec.appendChild(el('ul', { class: 'unexplained' }, r.unexplained.map(function (f) {
          return el('li', { class: 'mono', text: f.check + (f.point === 'end' ? '' : ' at ' + f.point) + ': ' + f.message });
        })));
      }
    }
    sec.appendChild(el('p', { class: 'mono', text: 'replay: ' + r.replay }));
    if (c.problems.length) sec.appendChild(el('p', { class: 'problems', text: c.problems.join('; ') }));
    var width = Math.max(600, Math.min(1400, window.innerWidth - 80));
    var slot = el('div');
    sec.appendChild(slot);
    var charts = [
      chart(c, 'write and read latency', function (n) { return n.writes.concat(n.reads); }, 'ms', true, width),
      chart(c, 'writes per second', throughput, 'writes', false, width),
      chart(c, 'regions in sync' + (c.regions ? ' (of ' + c.regions + ')' : ''), function (n) { return n.sync; }, 'regions', false, width),
    ];
    charts.forEach(function (d) { sec.appendChild(d); });
    // uPlot's bbox is in device pixels; a chart with nothing recorded has no plot.
    var plot = charts.map(function (d) { return d.plot; }).filter(Boolean)[0];
    var ratio = window.devicePixelRatio || 1;
    slot.appendChild(lanes(c, plot ? plot.bbox.left / ratio : 60, plot ? plot.bbox.width / ratio : width - 60));
    if (c.findings.length) {
      sec.appendChild(el('h3', { text: c.findings.length + ' finding(s)' }));
      sec.appendChild(el('ul', { class: 'findings' }, c.findings.map(function (f, i) {
        var where = [f.region !== undefined ? 'region ' + f.region : '', f.node ? 'node' + f.node : '', f.block !== undefined ? 'block ' + f.block : '', f.legs ? 'legs: ' + f.legs.join('; ') : ''].filter(Boolean).join(', ');
        var parts = [el('b', { text: f.check }), el('span', { class: 'where', text: ' (' + f.invariant + ', ' + f.point + ' at ' + f.at + ' s' + (where ? '; ' + where : '') + '): ' }), el('pre', { text: f.message })];
        if (f.hex) parts.push(el('div', { class: 'hex' }, f.hex.map(function (h) { return el('pre', { text: h.leg + '\n' + h.lines.join('\n') }); })));
        if (f.writes && f.writes.length) {
          parts.push(el('pre', { class: 'block-writes', text: 'writes of block ' + f.block + ' in the writers\' logs:\n' + f.writes.map(function (w) {
            return '  node' + w.node + ' seq ' + w.seq + ': issued ' + w.issued + ' s, ' + (w.acked === null ? 'never acknowledged' : 'acknowledged ' + w.acked + ' s');
          }).join('\n') }));
        }
        return el('li', { class: 'finding', 'data-check': f.check, id: 'finding-' + c.key + '-' + i }, parts);
      })));
    }
    sec.appendChild(el('details', { class: 'artifacts' }, [
      el('summary', { text: c.artifacts.length + ' artifacts' }),
      el('ul', {}, c.artifacts.map(function (a) { return el('li', {}, [el('a', { href: a.path, text: a.path }), el('span', { text: ' (' + a.bytes + ' bytes)' })]); })),
    ]));
    root.appendChild(sec);
  }

  // With --coverage: a table of files, and per file its functions, the lines never reached and the
  // source with each line's count and the first case that reached it.
  function coverageSection(root, cov) {
    var pct = function (r) { return r.total ? (Math.round(1000 * r.hit / r.total) / 10) + ' % (' + r.hit + '/' + r.total + ')' : '-'; };
    var sec = el('section', { id: 'coverage', class: 'coverage' });
    sec.appendChild(el('h2', { text: 'Coverage of ' + cov.cases.length + ' case(s)' }));
    var head = el('tr', {}, ['file', 'lines', 'branches', 'functions'].map(function (h) { return el('th', { text: h }); }));
    sec.appendChild(el('table', { class: 'index coverage-files' }, [el('thead', {}, [head]), el('tbody', {}, cov.files.map(function (f) {
      return el('tr', {}, [el('td', {}, [el('a', { href: '#cov-' + f.file, text: f.file })]), el('td', { text: pct(f.lines) }), el('td', { text: pct(f.branches) }), el('td', { text: pct(f.functions) })]);
    }))]));
    if (cov.lost.length) {
      sec.appendChild(el('details', {}, [el('summary', { text: cov.lost.length + ' collection(s) lost counters' }), el('ul', {}, cov.lost.map(function (l) { return el('li', { class: 'mono', text: l }); }))]));
    }
    cov.files.forEach(function (f) {
      var part = el('div', { id: 'cov-' + f.file, class: 'coverage-file' });
      part.appendChild(el('h3', { text: f.file + ': lines ' + pct(f.lines) + ', branches ' + pct(f.branches) + ', functions ' + pct(f.functions) }));
      part.appendChild(el('p', { class: 'mono', text: 'never reached: ' + (f.unreached || 'none') }));
      var fhead = el('tr', {}, ['function', 'line', 'calls', 'lines'].map(function (h) { return el('th', { text: h }); }));
      part.appendChild(el('details', {}, [el('summary', { text: f.perFunction.length + ' functions, ' + f.perFunction.filter(function (x) { return !x.count; }).length + ' never called' }),
        el('table', { class: 'index' }, [el('thead', {}, [fhead]), el('tbody', {}, f.perFunction.map(function (x) {
          return el('tr', { class: x.count ? '' : 'cov-none' }, [el('td', { class: 'mono', text: x.name }), el('td', { text: String(x.startLine) }), el('td', { text: String(x.count) }), el('td', { text: pct(x.lines) })]);
        }))])]));
      if (f.source.length) {
        var text = f.source.map(function (line, i) {
          var n = String(i + 1);
          var count = f.counts[n];
          var mark = count === undefined ? '        ' : (count ? String(count).padStart(8) : '   #####');
          var by = f.first[n] ? '  [' + f.first[n] + ']' : '';
          return n.padStart(5) + ' ' + mark + ' | ' + line + by;
        }).join('\n');
        part.appendChild(el('details', {}, [el('summary', { text: 'source: count per line (##### never reached), [first case to reach it]' }), el('pre', { class: 'coverage-source', text: text })]));
      }
      sec.appendChild(part);
    });
    root.appendChild(sec);
  }

  // With clogtest explore: each failure it told apart, known bug or new, with its minimal case.
  function exploreSection(root, ex) {
    var sec = el('section', { id: 'explore', class: 'explore' });
    sec.appendChild(el('h2', { text: 'Explored: ' + ex.scenarios + ' scenarios from seed ' + ex.seed + (ex.fixes ? ' with the fixes' : '') + ' in ' + secs(ex.exploreMs) + ', shrinking ' + secs(ex.shrinkMs) }));
    var head = el('tr', {}, ['failure', 'known bug', 'scenarios', 'first seed', 'first scenario', 'minimal case', 'signature'].map(function (h) { return el('th', { text: h }); }));
    sec.appendChild(el('table', { class: 'index explore-failures' }, [el('thead', {}, [head]), el('tbody', {}, ex.failures.map(function (f) {
      var minimal = f.minimal ? el('a', { href: f.minimal.file, text: f.minimal.steps + ' steps, ' + f.minimal.runs + ' runs' + (f.minimal.cutShort ? ' (cut short)' : '') }) : el('span', { text: 'not shrunk' });
      return el('tr', { class: f.known ? '' : 'explore-new' }, [
        el('td', { class: 'mono', text: f.slug }),
        el('td', { text: f.known ? f.known.join(', ') : 'NEW' }),
        el('td', { text: String(f.count) }),
        el('td', { text: String(f.firstSeed) }),
        el('td', {}, [el('a', { href: f.firstScenario, text: f.firstScenario })]),
        el('td', {}, [minimal]),
        el('td', { class: 'mono', text: f.signature }),
      ]);
    }))]));
    root.appendChild(sec);
  }

  var root = document.getElementById('report');
  index(root);
  if (data.explore) exploreSection(root, data.explore);
  if (data.coverage) coverageSection(root, data.coverage);
  data.cases.forEach(function (c) { caseSection(root, c); });
  document.body.dataset.rendered = 'yes';
  // From navigation start: what opening the report costs (docs/measurements.md has the figure).
  document.body.dataset.renderMs = String(Math.round(performance.now()));
})();
