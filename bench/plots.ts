/**
 * `npm run bench:plots`: charts of the recorded benchmark results, as SVG, for docs/BENCHMARKS.md.
 * Needs no database and no network: it reads bench/results/latest.json (bench/run.ts),
 * bench/results/ml-latest.json (bench/ml.ts) and, when present, bench/results/flood-latest.json
 * (bench/flood.ts), and writes
 *
 * - docs/plots/statements-per-request.svg: SQL statements per request, per server and query;
 * - docs/plots/throughput-cpu.svg: req/s and server CPU per request, per server and loaded query (when the
 *   results have load figures);
 * - docs/plots/peak-rss.svg: peak RSS under load per server (and the flood's, against 300 MB);
 * - docs/plots/recommendation-latency.svg: recommendations p50/p99 against the catalogue size;
 * - docs/plots/embedding-throughput.svg: model sentences/s against the batch size, per thread count;
 *
 * then replaces the part of docs/BENCHMARKS.md between `<!-- bench-plots:start -->` and
 * `<!-- bench-plots:end -->` (added after the introduction when missing; the rest is kept).
 *
 * The charts are Vega-Lite specs compiled to Vega and rendered headless (`renderer: 'none'`,
 * `view.toSVG()`): pure JavaScript, no canvas package. Text is set in the generic `sans-serif`
 * family and measured with fixed Helvetica metrics (below), not with whatever canvas or fonts a
 * machine has, and every number and date is formatted here from the JSON (no clock, no locale,
 * no time zone): the same results give byte-identical SVG files.
 *
 * Flags: --plots is accepted (and does nothing) so that `npm run bench -- --plots` works when this
 * script is the last step of `npm run bench`; other flags are reported and ignored.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

// ---------------------------------------------------------------------------------------------
// The results files, as far as the charts read them

export interface BenchResults {
  when: string;
  sizes?: { restaurants?: number; users?: number; orders?: number };
  connections?: number;
  duration?: number;
  runs?: number;
  queries?: Record<string, { edges?: number; levels?: number; load?: boolean }>;
  cells: {
    server: string;
    query: string;
    wire?: { statements?: number };
    load?: { peakRssMB?: number; loadPeakRssMB?: number; reqPerSec?: number; serverCpuMsPerReq?: number };
  }[];
}

export interface MlResults {
  date: string;
  quick?: boolean;
  rates?: { threads: number; batch: number; sentencesPerSecond: number }[];
  latency?: { restaurants: number; p50Ms: number; p99Ms: number; indexMB?: number }[];
}

export interface FloodResults {
  when: string;
  quick?: boolean;
  options?: { connections?: number; runs?: number };
  medians?: { peakRssMB?: number };
  worst?: { peakRssMB?: number };
}

/** A results file's repository path (shown in the captions) and its parsed content. */
export interface Source<T> {
  file: string;
  data: T;
}

export interface Plot {
  /** File name under docs/plots/. */
  file: string;
  alt: string;
  /** One sentence of reading, for the document. */
  reading: string;
  svg: string;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const FONT = 'sans-serif';
const SERVERS = ['gateway', 'postgraphile', 'yoga', 'envelop', 'floor', 'naive'];
const SERVER_RANGE = ['#1f77b4', '#2ca02c', '#9467bd', '#d62728', '#7f7f7f', '#ff7f0e'];
/** The colour scale of the servers present, in the bench's order (a server the results lack gets no legend entry). */
function serverScale(present: Iterable<string>) {
  const have = new Set(present);
  const known = SERVERS.filter((s) => have.has(s));
  const domain = [...known, ...[...have].filter((s) => !SERVERS.includes(s)).sort()];
  return {
    domain,
    range: domain.map((s, i) => SERVER_RANGE[SERVERS.indexOf(s)] ?? SERIES_COLORS[i % SERIES_COLORS.length]!),
  };
}
const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
/** The flood's memory target (bench/flood.ts: peak RSS < 300 MB without a loaded model). */
const FLOOD_RSS_TARGET_MB = 300;

const CONFIG = {
  font: FONT,
  background: '#ffffff',
  padding: 12,
  view: { stroke: null },
  title: { anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555555', offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', orient: 'right' },
} as const;

// Helvetica's advance widths (AFM, per 1,000 units of the font size) for ASCII 32–126. Vega measures
// text to place titles, legends and labels; without a canvas package it guesses 0.8 em per
// character, which spaces everything too widely, and with one the result would depend on the
// machine's fonts. These fixed metrics are close to any sans-serif and the same everywhere.
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
  556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
  260, 334, 584,
];
const OTHER_WIDTHS: Record<string, number> = { '×': 584, '–': 556, '—': 1000, '→': 1000, '·': 278, '≥': 549 };

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}

function textWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize ?? 11;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  let units = 0;
  for (const ch of text == null ? '' : String(text).trim()) {
    const code = ch.codePointAt(0)!;
    units += code >= 32 && code <= 126 ? HELVETICA[code - 32]! : (OTHER_WIDTHS[ch] ?? 556);
  }
  return (units / 1000) * size * (bold ? 1.07 : 1);
}

// vega-scenegraph's text measurement is a module-level setting (vega exports it, its typings do not).
(vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics.width =
  textWidth;

/** Compiles a Vega-Lite spec and renders it to an SVG string, offline and deterministically. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vgSpec } = compile(spec);
  vega.resetSVGDefIds(); // clip and gradient ids count up per process otherwise
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return `${svg}\n`;
  } finally {
    view.finalize();
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting (fixed, not the machine's locale)

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** `2026-11-23T03:45:06.762Z` → `2026-11-23 03:45 UTC` (the string as recorded, no clock or zone). */
export function runDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

function caption(source: Source<object>, when: string, extra = ''): string {
  const quick = (source.data as { quick?: boolean }).quick;
  return `Source: ${source.file}, run of ${runDate(when)}${quick ? ' (--quick)' : ''}${extra}`;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

// ---------------------------------------------------------------------------------------------
// The charts

/** One layer of a layered Vega-Lite spec (vega-lite exports only the top-level type). */
type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

/**
 * Value labels for a line chart's points: the lowest series' under its points, the others' above
 * theirs, so that they clear the lines and each other.
 */
function pointLabels(seriesField: string, lowSeries: string, text: { field: string; format?: string }): Layer[] {
  const isLow = `datum[${JSON.stringify(seriesField)}] === ${JSON.stringify(lowSeries)}`;
  const label = (filter: string, below: boolean): Layer => ({
    transform: [{ filter }],
    mark: { type: 'text', align: 'center', fontSize: 11, baseline: below ? 'top' : 'bottom', dy: below ? 8 : -8 },
    encoding: { text: { ...text, type: 'quantitative' }, color: { value: '#333333' } },
  });
  return [label(isLow, true), label(`!(${isLow})`, false)];
}

/** Statements per request at the wire, gateway vs naive, one group of bars per query. */
export async function statementsPlot(bench: Source<BenchResults>): Promise<Plot> {
  const r = bench.data;
  const order = Object.keys(r.queries ?? {});
  const rank = (q: string) => (order.includes(q) ? order.indexOf(q) : order.length);
  const label = (q: string) => {
    const edges = r.queries?.[q]?.edges;
    return edges === undefined ? q : `${q} (${edges} edges)`;
  };
  const rows = r.cells
    .filter((c) => typeof c.wire?.statements === 'number')
    .map((c) => ({ query: label(c.query), q: c.query, server: c.server, statements: c.wire!.statements! }))
    .sort((a, b) => rank(a.q) - rank(b.q) || a.q.localeCompare(b.q) || a.server.localeCompare(b.server));
  if (rows.length === 0) throw new Error(`${bench.file}: no cells with wire.statements`);
  const queries = [...new Set(rows.map((d) => d.query))];
  const scale = serverScale(rows.map((d) => d.server));

  const title = `SQL statements per request: ${scale.domain.join(' vs ')}`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: title, subtitle: [caption(bench, r.when, '; one request after a warm one, counted at the wire')] },
    width: 120 * queries.length,
    height: 260,
    data: { values: rows },
    encoding: {
      x: {
        field: 'query',
        type: 'nominal',
        sort: queries,
        title: 'query (page size)',
        axis: { labelAngle: 0 },
      },
      xOffset: { field: 'server', type: 'nominal', sort: scale.domain },
      y: { field: 'statements', type: 'quantitative', title: 'statements per request (count)' },
      color: { field: 'server', type: 'nominal', title: 'server', scale },
    },
    layer: [
      { mark: { type: 'bar' } },
      {
        mark: { type: 'text', dy: -4, baseline: 'bottom', fontSize: 11, color: '#333333' },
        encoding: { text: { field: 'statements', type: 'quantitative' }, color: { value: '#333333' } },
      },
    ],
  };

  const by = (q: string, s: string) => rows.find((d) => d.q === q && d.server === s)?.statements;
  const pairs = [...new Set(rows.map((d) => d.q))]
    .map((q) => ({ q, g: by(q, 'gateway'), n: by(q, 'naive') }))
    .filter((p): p is { q: string; g: number; n: number } => p.g !== undefined && p.n !== undefined);
  let reading = `Statements per request for each query: ${rows.map((d) => `${d.q} ${d.server} ${d.statements}`).join(', ')}.`;
  if (pairs.length > 0) {
    const worst = pairs.reduce((a, b) => (ratio(b.n, b.g) > ratio(a.n, a.g) ? b : a));
    const gw = pairs.map((p) => `${p.q} ${p.g}`).join(', ');
    const perLevel = pairs.every((p) => p.g <= (r.queries?.[p.q]?.levels ?? 0));
    const gateway = perLevel
      ? `The gateway sends at most one statement per level of the query, whatever the page size (${gw})`
      : `The gateway sends ${gw} statements per request`;
    reading =
      ratio(worst.n, worst.g) > 1
        ? `${gateway}; the naive set sends up to ${worst.n} for ${worst.q} (${one.format(ratio(worst.n, worst.g))}× the gateway's ${worst.g}), one more per row for its N+1.`
        : `Both servers send the same number of statements per request (${gw}).`;
  }
  return {
    file: 'statements-per-request.svg',
    alt: `Bar chart: SQL statements per request, ${scale.domain.join(' vs ')}, per query`,
    reading,
    svg: await renderSvg(spec),
  };
}

/**
 * Peak RSS of the server process in each load scenario, per server, and the flood's against 300 MB. Under load:
 * the RSS sampled during the rounds where the results have it (loadPeakRssMB), else VmHWM (peakRssMB).
 */
export async function peakRssPlot(bench: Source<BenchResults>, flood?: Source<FloodResults>): Promise<Plot> {
  const r = bench.data;
  const conns = r.connections === undefined ? '' : `, ${r.connections} conn.`;
  const sampled = r.cells.some((c) => typeof c.load?.loadPeakRssMB === 'number');
  const peakOf = (l: NonNullable<BenchResults['cells'][number]['load']>) => (sampled ? l.loadPeakRssMB : l.peakRssMB);
  const rows: { scenario: string; server: string; peakRssMB: number }[] = r.cells
    .filter((c) => c.load !== undefined && typeof peakOf(c.load) === 'number')
    .map((c) => ({ scenario: `${c.query} load${conns}`, server: c.server, peakRssMB: Math.round(peakOf(c.load!)!) }))
    .sort((a, b) => a.scenario.localeCompare(b.scenario) || a.server.localeCompare(b.server));
  const floodPeak = flood?.data.medians?.peakRssMB;
  const floodConns = flood?.data.options?.connections;
  const floodScenario = `flood${floodConns === undefined ? '' : `, ${floodConns} conn.`}`;
  if (flood && typeof floodPeak === 'number') {
    rows.push({ scenario: floodScenario, server: 'gateway', peakRssMB: Math.round(floodPeak) });
  }
  if (rows.length === 0) throw new Error(`${bench.file}: no cells with load.peakRssMB`);
  const scenarios = [...new Set(rows.map((d) => d.scenario))];
  const withFlood = flood !== undefined && typeof floodPeak === 'number';
  const scale = serverScale(rows.map((d) => d.server));
  const servers = scale.domain.join(' vs ');

  const subtitle = [
    caption(
      bench,
      r.when,
      sampled
        ? '; server process RSS sampled every 100 ms under load, one fresh process per scenario'
        : '; server process VmHWM, one fresh process per scenario',
    ),
  ];
  if (withFlood) {
    const runs = flood.data.options?.runs;
    subtitle.push(caption(flood, flood.data.when, `; median of ${runs ?? '?'} run${runs === 1 ? '' : 's'}`));
  }
  const title = withFlood ? `Peak RSS under load: ${servers}, and the flood` : `Peak RSS under load: ${servers}`;
  const bars: Layer = {
    data: { values: rows },
    encoding: {
      x: {
        field: 'scenario',
        type: 'nominal',
        sort: scenarios,
        title: 'scenario (concurrent connections)',
        axis: { labelAngle: 0 },
      },
      xOffset: { field: 'server', type: 'nominal', sort: scale.domain },
      y: { field: 'peakRssMB', type: 'quantitative', title: 'peak RSS (MB)' },
      color: { field: 'server', type: 'nominal', title: 'server', scale },
    },
    layer: [
      { mark: { type: 'bar' } },
      {
        mark: { type: 'text', dy: -4, baseline: 'bottom', fontSize: 11 },
        encoding: { text: { field: 'peakRssMB', type: 'quantitative' }, color: { value: '#333333' } },
      },
    ],
  };
  const target: Layer = {
    data: { values: [{ target: FLOOD_RSS_TARGET_MB, label: `${FLOOD_RSS_TARGET_MB} MB target (flood)` }] },
    encoding: { y: { field: 'target', type: 'quantitative' } },
    layer: [
      { mark: { type: 'rule', color: '#d62728', strokeDash: [6, 4], strokeWidth: 1.5 } },
      {
        mark: { type: 'text', align: 'right', baseline: 'bottom', dy: -3, x: 'width', color: '#d62728', fontSize: 11 },
        encoding: { text: { field: 'label', type: 'nominal' } },
      },
    ],
  };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: title, subtitle },
    width: 130 * scenarios.length,
    height: 260,
    layer: withFlood ? [bars, target] : [bars],
  };

  const cell = (s: string, q: string) => rows.find((d) => d.server === s && d.scenario.startsWith(`${q} load`));
  const loadQueries = [...new Set(r.cells.filter((c) => c.load?.peakRssMB !== undefined).map((c) => c.query))];
  const parts = loadQueries.map((q) => `${q} ${scale.domain.map((s) => cell(s, q)?.peakRssMB ?? '–').join(' vs ')} MB`);
  const loadValues = rows.filter((d) => d.scenario !== floodScenario).map((d) => d.peakRssMB);
  const howMany = ['no', 'one', 'two', 'three', 'four', 'five'][scale.domain.length] ?? String(scale.domain.length);
  let reading = `Under load${r.connections === undefined ? '' : ` at ${r.connections} connections`} the ${howMany} servers peak at ${Math.min(...loadValues)}–${Math.max(...loadValues)} MB (${servers}: ${parts.join('; ')})`;
  if (withFlood) {
    const peak = Math.round(floodPeak);
    const margin = FLOOD_RSS_TARGET_MB - peak;
    reading += `; the gateway under the flood${floodConns === undefined ? '' : ` (${floodConns} connections`}${flood.data.quick ? ', --quick data' : ''}${floodConns === undefined ? '' : ')'} peaks at ${peak} MB, ${margin >= 0 ? `${margin} MB under` : `${-margin} MB over`} the ${FLOOD_RSS_TARGET_MB} MB target.`;
  } else {
    reading += '.';
  }
  return {
    file: 'peak-rss.svg',
    alt: withFlood
      ? `Bar chart: peak RSS in MB per load scenario, ${servers}, and the flood against the 300 MB target`
      : `Bar chart: peak RSS in MB per load scenario, ${servers}`,
    reading,
    svg: await renderSvg(spec),
  };
}

/** Throughput (req/s) and server CPU per request, per server and loaded query: two panels side by side. */
export async function throughputPlot(bench: Source<BenchResults>): Promise<Plot> {
  const r = bench.data;
  const rows = r.cells
    .filter((c) => typeof c.load?.reqPerSec === 'number' && typeof c.load?.serverCpuMsPerReq === 'number')
    .map((c) => ({
      query: c.query,
      server: c.server,
      reqPerSec: Math.round(c.load!.reqPerSec!),
      cpuMs: Math.round(c.load!.serverCpuMsPerReq! * 100) / 100,
    }));
  if (rows.length === 0) throw new Error(`${bench.file}: no cells with load.reqPerSec and load.serverCpuMsPerReq`);
  const scale = serverScale(rows.map((d) => d.server));
  const queries = [...new Set(rows.map((d) => d.query))].sort();
  const panel = (field: 'reqPerSec' | 'cpuMs', title: string, format: string) => ({
    width: 70 * queries.length * Math.max(2, scale.domain.length) * 0.6,
    height: 240,
    encoding: {
      x: { field: 'query', type: 'nominal' as const, sort: queries, title: 'query', axis: { labelAngle: 0 } },
      xOffset: { field: 'server', type: 'nominal' as const, sort: scale.domain },
      y: { field, type: 'quantitative' as const, title },
      color: { field: 'server', type: 'nominal' as const, title: 'server', scale },
    },
    layer: [
      { mark: { type: 'bar' as const } },
      {
        mark: { type: 'text' as const, dy: -4, baseline: 'bottom' as const, fontSize: 10 },
        encoding: { text: { field, type: 'quantitative' as const, format }, color: { value: '#333333' } },
      },
    ],
  });
  const runs = r.runs === undefined ? '' : `; medians of ${r.runs} round${r.runs === 1 ? '' : 's'}`;
  const conns = r.connections === undefined ? '' : ` at ${r.connections} connections`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: {
      text: `Throughput and server CPU per request: ${scale.domain.join(' vs ')}`,
      subtitle: [caption(bench, r.when, `${conns}${runs}; CPU of the server process (PostgreSQL's not included)`)],
    },
    data: { values: rows },
    hconcat: [panel('reqPerSec', 'throughput (req/s)', ',d'), panel('cpuMs', 'server CPU per request (ms)', ',.2f')],
  };
  const parts = queries.map((q) => {
    const of = (s: string) => rows.find((d) => d.query === q && d.server === s);
    const g = of('gateway');
    const p = of('postgraphile');
    const vs =
      g && p
        ? `gateway ${int.format(g.reqPerSec)} req/s and ${g.cpuMs} CPU ms/request, PostGraphile ${int.format(p.reqPerSec)} and ${p.cpuMs} (gateway/PostGraphile ${one.format(ratio(g.reqPerSec, p.reqPerSec))}× the req/s, ${one.format(ratio(g.cpuMs, p.cpuMs))}× the CPU)`
        : rows
            .filter((d) => d.query === q)
            .map((d) => `${d.server} ${int.format(d.reqPerSec)} req/s, ${d.cpuMs} ms`)
            .join('; ');
    return `${q}: ${vs}`;
  });
  return {
    file: 'throughput-cpu.svg',
    alt: `Bar charts: requests per second and server CPU ms per request, ${scale.domain.join(' vs ')}, per query`,
    reading: `${parts.join('. ')}.`,
    svg: await renderSvg(spec),
  };
}

/** Recommendation latency (p50, p99) against the number of restaurants. */
export async function recommendationLatencyPlot(ml: Source<MlResults>): Promise<Plot> {
  const latency = [...(ml.data.latency ?? [])].sort((a, b) => a.restaurants - b.restaurants);
  if (latency.length === 0) throw new Error(`${ml.file}: no latency figures`);
  const rows = latency.flatMap((l) => [
    { restaurants: l.restaurants, percentile: 'p50', ms: l.p50Ms },
    { restaurants: l.restaurants, percentile: 'p99', ms: l.p99Ms },
  ]);
  const sizes = latency.map((l) => l.restaurants);
  const logX = sizes.length > 1 && sizes[0]! > 0 && sizes.at(-1)! / sizes[0]! >= 10;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: {
      text: 'Recommendation latency vs catalogue size',
      subtitle: [caption(ml, ml.data.date, '; recommendations(refresh: true), exact in-process index')],
    },
    width: 440,
    height: 260,
    data: { values: rows },
    encoding: {
      x: {
        field: 'restaurants',
        type: 'quantitative',
        title: `catalogue size (restaurants${logX ? ', log scale' : ''})`,
        scale: logX ? { type: 'log', domain: [sizes[0]! / 1.5, sizes.at(-1)! * 1.5] } : { zero: false, nice: true },
        axis: { values: sizes, format: ',d', grid: true },
      },
      y: { field: 'ms', type: 'quantitative', title: 'latency per request (ms)' },
      color: { field: 'percentile', type: 'nominal', title: 'percentile', scale: { range: SERIES_COLORS } },
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 } },
      { mark: { type: 'point', filled: true, size: 60 } },
      ...pointLabels('percentile', 'p50', { field: 'ms', format: ',.1f' }),
    ],
  };

  const first = latency[0]!;
  const last = latency.at(-1)!;
  const reading =
    latency.length === 1
      ? `At ${int.format(first.restaurants)} restaurants a recommendation takes ${one.format(first.p50Ms)} ms at p50 and ${one.format(first.p99Ms)} ms at p99; only one catalogue size is recorded.`
      : `From ${int.format(first.restaurants)} to ${int.format(last.restaurants)} restaurants (×${one.format(last.restaurants / first.restaurants)}) p50 goes from ${one.format(first.p50Ms)} to ${one.format(last.p50Ms)} ms (×${one.format(ratio(last.p50Ms, first.p50Ms))}) and p99 from ${one.format(first.p99Ms)} to ${one.format(last.p99Ms)} ms: the exact scan grows with the catalogue${latency.length === 2 ? '; only these two sizes are recorded, so the lines between them are drawn, not measured' : ''}.`;
  return {
    file: 'recommendation-latency.svg',
    alt: 'Line chart: recommendation latency p50 and p99 in ms against the number of restaurants',
    reading,
    svg: await renderSvg(spec),
  };
}

/** Model inference throughput (sentences/s) against the batch size, one line per intra-op thread count. */
export async function embeddingThroughputPlot(ml: Source<MlResults>): Promise<Plot> {
  const rates = [...(ml.data.rates ?? [])].sort((a, b) => a.threads - b.threads || a.batch - b.batch);
  if (rates.length === 0) throw new Error(`${ml.file}: no throughput figures (rates)`);
  const threadLabel = (t: number) => `${t} thread${t === 1 ? '' : 's'}`;
  const rows = rates.map((r) => ({
    batch: r.batch,
    threads: threadLabel(r.threads),
    sentencesPerSecond: r.sentencesPerSecond,
  }));
  const batches = [...new Set(rates.map((r) => r.batch))].sort((a, b) => a - b);
  const threadCounts = [...new Set(rates.map((r) => r.threads))];
  const logX = batches.length > 1 && batches[0]! > 0 && batches.at(-1)! / batches[0]! >= 8;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: {
      text: 'Embedding throughput vs batch size',
      subtitle: [caption(ml, ml.data.date, '; MiniLM-shaped model, sentences of ~40 tokens, median of 3 runs')],
    },
    width: 440,
    height: 260,
    data: { values: rows },
    encoding: {
      x: {
        field: 'batch',
        type: 'quantitative',
        title: `batch size (sentences per inference call${logX ? ', log scale' : ''})`,
        scale: logX ? { type: 'log', base: 2, domain: [batches[0]! / 1.4, batches.at(-1)! * 1.4] } : { nice: true },
        axis: { values: batches, format: 'd', grid: true },
      },
      y: { field: 'sentencesPerSecond', type: 'quantitative', title: 'throughput (sentences/s)' },
      color: {
        field: 'threads',
        type: 'nominal',
        title: 'intra-op threads',
        sort: threadCounts.map(threadLabel),
        scale: { range: SERIES_COLORS },
      },
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 } },
      { mark: { type: 'point', filled: true, size: 60 } },
      ...pointLabels('threads', threadLabel(threadCounts[0]!), { field: 'sentencesPerSecond' }),
    ],
  };

  const rate = (t: number, b: number) => rates.find((r) => r.threads === t && r.batch === b)?.sentencesPerSecond;
  const t1 = threadCounts[0]!;
  const own = rates.filter((r) => r.threads === t1);
  const best = own.reduce((a, b) => (b.sentencesPerSecond > a.sentencesPerSecond ? b : a));
  let reading = `With ${threadLabel(t1)}, batching takes throughput from ${own[0]!.sentencesPerSecond} sentences/s at batch ${own[0]!.batch} to ${best.sentencesPerSecond} at batch ${best.batch}`;
  const t2 = threadCounts[1];
  if (t2 !== undefined) {
    const gains = batches
      .map((b) => ({ b, gain: ratio(rate(t2, b) ?? Number.NaN, rate(t1, b) ?? Number.NaN) }))
      .filter((g) => Number.isFinite(g.gain));
    if (gains.length > 0) {
      const hi = gains.reduce((a, b) => (b.gain > a.gain ? b : a));
      const lo = gains.reduce((a, b) => (b.gain < a.gain ? b : a));
      reading += `; ${threadLabel(t2)} give ×${one.format(hi.gain)} at batch ${hi.b}${lo.b === hi.b ? '' : ` but only ×${one.format(lo.gain)} at batch ${lo.b}`} on this machine's two shared cores`;
    }
  }
  reading += `. Recorded batch sizes: ${batches.join(', ')}.`;
  return {
    file: 'embedding-throughput.svg',
    alt: 'Line chart: embedding throughput in sentences per second against the batch size, per thread count',
    reading,
    svg: await renderSvg(spec),
  };
}

export interface Results {
  bench: Source<BenchResults>;
  ml: Source<MlResults>;
  flood?: Source<FloodResults>;
}

/** Every chart, in the document's order. */
export async function renderPlots(results: Results): Promise<Plot[]> {
  const loaded = results.bench.data.cells.some((c) => typeof c.load?.reqPerSec === 'number');
  return [
    await statementsPlot(results.bench),
    ...(loaded ? [await throughputPlot(results.bench)] : []),
    await peakRssPlot(results.bench, results.flood),
    await recommendationLatencyPlot(results.ml),
    await embeddingThroughputPlot(results.ml),
  ];
}

// ---------------------------------------------------------------------------------------------
// docs/BENCHMARKS.md

const START = '<!-- bench-plots:start -->';
const END = '<!-- bench-plots:end -->';

/** The markdown between the markers: where the charts come from, then each image and its reading. */
export function plotsSection(results: Results, plots: Plot[]): string {
  const from = [results.bench, results.ml, ...(results.flood ? [results.flood] : [])].map((s) => {
    const data = s.data as { when?: string; date?: string; quick?: boolean };
    return `${s.file} (${runDate(data.when ?? data.date ?? '?')}${data.quick ? ', --quick' : ''})`;
  });
  const lines = [
    `Drawn by \`npm run bench:plots\` (bench/plots.ts, Vega-Lite rendered to SVG) from ${from.slice(0, -1).join(', ')} and ${from.at(-1)}.`,
  ];
  for (const p of plots) lines.push('', `![${p.alt}](plots/${p.file})`, '', p.reading);
  return lines.join('\n');
}

/**
 * Replaces the bench-plots section of the document, or inserts it (with a `## Plots` heading) before
 * the first `## ` heading, i.e. right after the introduction. The rest of the document is kept.
 */
export function withPlotsSection(doc: string, section: string): string {
  const block = `${START}\n${section}\n${END}`;
  const marked = /^<!-- bench-plots:start -->$[\s\S]*?^<!-- bench-plots:end -->$/m;
  if (marked.test(doc)) return doc.replace(marked, () => block);
  const firstHeading = /^## /m.exec(doc);
  if (!firstHeading) return `${doc.replace(/\n*$/, '\n\n')}## Plots\n\n${block}\n`;
  const at = firstHeading.index;
  return `${doc.slice(0, at)}## Plots\n\n${block}\n\n${doc.slice(at)}`;
}

// ---------------------------------------------------------------------------------------------
// CLI

const ROOT = new URL('../', import.meta.url);

async function readResults<T>(file: string): Promise<Source<T>>;
async function readResults<T>(file: string, optional: true): Promise<Source<T> | undefined>;
async function readResults<T>(file: string, optional = false): Promise<Source<T> | undefined> {
  let text: string;
  try {
    text = await readFile(new URL(file, ROOT), 'utf8');
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return { file, data: JSON.parse(text) as T };
}

async function main() {
  const { tokens } = parseArgs({ options: { plots: { type: 'boolean' } }, strict: false, tokens: true });
  for (const t of tokens ?? []) {
    if ((t.kind === 'option' && t.name !== 'plots') || t.kind === 'positional') {
      const arg = t.kind === 'option' ? t.rawName : t.value;
      process.stderr.write(`bench/plots.ts: ignoring ${arg} (it reads the recorded results; only --plots is known)\n`);
    }
  }
  const results: Results = {
    bench: await readResults<BenchResults>('bench/results/latest.json'),
    ml: await readResults<MlResults>('bench/results/ml-latest.json'),
  };
  const flood = await readResults<FloodResults>('bench/results/flood-latest.json', true);
  if (flood) results.flood = flood;
  else process.stderr.write('bench/results/flood-latest.json not found: peak-rss.svg has no flood bar\n');

  const plots = await renderPlots(results);
  const dir = new URL('docs/plots/', ROOT);
  await mkdir(dir, { recursive: true });
  for (const p of plots) {
    await writeFile(new URL(p.file, dir), p.svg);
    process.stderr.write(`wrote docs/plots/${p.file}\n`);
  }
  const docUrl = new URL('docs/BENCHMARKS.md', ROOT);
  const doc = await readFile(docUrl, 'utf8');
  const updated = withPlotsSection(doc, plotsSection(results, plots));
  if (updated !== doc) await writeFile(docUrl, updated);
  process.stderr.write(`docs/BENCHMARKS.md: bench-plots section ${updated === doc ? 'unchanged' : 'updated'}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: Error) => {
    process.stderr.write(`bench:plots failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  });
}
