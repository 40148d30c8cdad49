/**
 * bench/plots.ts on small fixture results: every chart is an SVG document with its title, caption
 * and one mark per data point, the output is byte-identical from one rendering to the next, nothing
 * is fetched, and the document's bench-plots section is inserted once and then replaced in place.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type BenchResults,
  embeddingThroughputPlot,
  type FloodResults,
  type MlResults,
  peakRssPlot,
  plotsSection,
  type Results,
  recommendationLatencyPlot,
  renderPlots,
  statementsPlot,
  throughputPlot,
  withPlotsSection,
} from '../bench/plots.ts';

const bench: BenchResults = {
  when: '2026-01-02T03:04:05.678Z',
  connections: 10,
  queries: { Q1: { edges: 50, levels: 1 }, Q2: { edges: 50, levels: 3 }, Q2_5: { edges: 5, levels: 3 } },
  cells: [
    { server: 'naive', query: 'Q2', wire: { statements: 52 }, load: { peakRssMB: 179.2 } },
    { server: 'gateway', query: 'Q1', wire: { statements: 1 }, load: { peakRssMB: 203.5 } },
    { server: 'gateway', query: 'Q2', wire: { statements: 3 }, load: { peakRssMB: 205.1 } },
    { server: 'naive', query: 'Q1', wire: { statements: 1 }, load: { peakRssMB: 201.4 } },
    { server: 'gateway', query: 'Q2_5', wire: { statements: 3 } },
    { server: 'naive', query: 'Q2_5', wire: { statements: 7 } },
  ],
};
/** A run with the four servers' load figures (bench/run.ts since PostGraphile and the floor joined). */
const loaded: BenchResults = {
  when: '2026-01-03T04:05:06.000Z',
  connections: 10,
  runs: 3,
  queries: { Q1: { edges: 50, levels: 1 }, Q2: { edges: 50, levels: 3 } },
  cells: [
    ['gateway', 'Q1', 600, 1.5, 140, 120],
    ['postgraphile', 'Q1', 800, 1.2, 150, 118],
    ['floor', 'Q1', 2500, 0.25, 66, 55],
    ['naive', 'Q1', 300, 4, 156, 78],
    ['gateway', 'Q2', 300, 3, 145, 120],
    ['postgraphile', 'Q2', 600, 1.5, 131, 117],
    ['floor', 'Q2', 1600, 0.5, 65, 55],
    ['naive', 'Q2', 30, 30, 112, 75],
  ].map(([server, query, reqPerSec, serverCpuMsPerReq, loadPeakRssMB, peakRssMB]) => ({
    server: server as string,
    query: query as string,
    wire: { statements: 1 },
    load: {
      reqPerSec: reqPerSec as number,
      serverCpuMsPerReq: serverCpuMsPerReq as number,
      loadPeakRssMB: loadPeakRssMB as number,
      peakRssMB: peakRssMB as number,
    },
  })),
};
const ml: MlResults = {
  date: '2026-01-02T05:06:07.000Z',
  rates: [
    { threads: 2, batch: 8, sentencesPerSecond: 199 },
    { threads: 1, batch: 1, sentencesPerSecond: 75 },
    { threads: 1, batch: 8, sentencesPerSecond: 123 },
    { threads: 2, batch: 1, sentencesPerSecond: 115 },
  ],
  latency: [
    { restaurants: 100_000, p50Ms: 106.3, p99Ms: 175.2 },
    { restaurants: 1_000, p50Ms: 1.5, p99Ms: 4.1 },
    { restaurants: 10_000, p50Ms: 13.3, p99Ms: 24.5 },
  ],
};
const flood: FloodResults = {
  when: '2026-01-02T08:09:10.000Z',
  quick: true,
  options: { connections: 50, runs: 1 },
  medians: { peakRssMB: 206.4 },
};
const results: Results = {
  bench: { file: 'bench/results/latest.json', data: bench },
  ml: { file: 'bench/results/ml-latest.json', data: ml },
  flood: { file: 'bench/results/flood-latest.json', data: flood },
};

const count = (svg: string, s: string) => svg.split(s).length - 1;
const marks = (svg: string, kind: string) => count(svg, `aria-roledescription="${kind}"`);

/** Tags balance and nest (a well-formedness check without an XML parser). */
function assertBalanced(svg: string) {
  const stack: string[] = [];
  for (const [tag, close, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (close) expect(stack.pop(), tag).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

function assertSvg(svg: string, title: string, caption: string[]) {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  assertBalanced(svg);
  expect(svg).toContain(`>${title}</text>`);
  for (const c of caption) expect(svg).toContain(c);
  expect(svg).toContain('font-family="sans-serif"');
  expect(svg).not.toMatch(/NaN|undefined|Infinity/);
}

describe('bench plots', () => {
  const fetch = vi.fn(() => Promise.reject(new Error('no network in bench plots')));
  beforeAll(() => {
    vi.stubGlobal('fetch', fetch);
  });
  afterAll(() => {
    vi.unstubAllGlobals();
  });

  it('statements per request: a bar per query and server, labelled, with axis titles and legend', async () => {
    const plot = await statementsPlot(results.bench);
    assertSvg(plot.svg, 'SQL statements per request: gateway vs naive', [
      'Source: bench/results/latest.json, run of 2026-01-02 03:04 UTC',
    ]);
    expect(marks(plot.svg, 'bar')).toBe(bench.cells.length);
    expect(count(plot.svg, '<path')).toBeGreaterThanOrEqual(bench.cells.length);
    expect(plot.svg).toContain('statements per request (count): 52; server: naive');
    expect(plot.svg).toContain('>statements per request (count)</text>');
    expect(plot.svg).toContain('>query (page size)</text>');
    expect(plot.svg).toContain('>Q2_5 (5 edges)</text>');
    expect(marks(plot.svg, 'legend')).toBe(1);
    expect(plot.reading).toBe(
      "The gateway sends at most one statement per level of the query, whatever the page size (Q1 1, Q2 3, Q2_5 3); the naive set sends up to 52 for Q2 (17.3× the gateway's 3), one more per row for its N+1.",
    );
  });

  it('peak RSS: gateway vs naive per load scenario, the flood against the 300 MB line when present', async () => {
    const plot = await peakRssPlot(results.bench, results.flood);
    assertSvg(plot.svg, 'Peak RSS under load: gateway vs naive, and the flood', [
      'Source: bench/results/latest.json, run of 2026-01-02 03:04 UTC',
      'Source: bench/results/flood-latest.json, run of 2026-01-02 08:09 UTC (--quick); median of 1 run',
    ]);
    expect(marks(plot.svg, 'bar')).toBe(5); // Q1 and Q2 × 2 servers, and the flood
    expect(marks(plot.svg, 'rule mark')).toBe(1);
    expect(plot.svg).toContain('>300 MB target (flood)</text>');
    expect(plot.svg).toContain('>peak RSS (MB)</text>');
    expect(plot.svg).toContain('>flood, 50 conn.</text>');
    expect(plot.reading).toContain('peaks at 206 MB, 94 MB under the 300 MB target');

    const alone = await peakRssPlot(results.bench);
    assertSvg(alone.svg, 'Peak RSS under load: gateway vs naive', ['bench/results/latest.json']);
    expect(marks(alone.svg, 'bar')).toBe(4);
    expect(alone.svg).not.toContain('300 MB');
    expect(alone.svg).not.toContain('flood');
  });

  it('throughput and CPU per request: a bar per server and query in each panel, the gateway/PostGraphile ratios read', async () => {
    const plot = await throughputPlot({ file: 'bench/results/latest.json', data: loaded });
    assertSvg(plot.svg, 'Throughput and server CPU per request: gateway vs postgraphile vs floor vs naive', [
      'Source: bench/results/latest.json, run of 2026-01-03 04:05 UTC at 10 connections; medians of 3 rounds',
    ]);
    expect(marks(plot.svg, 'bar')).toBe(2 * loaded.cells.length);
    expect(plot.svg).toContain('>throughput (req/s)</text>');
    expect(plot.svg).toContain('>server CPU per request (ms)</text>');
    expect(plot.svg).toContain('>2,500</text>');
    expect(plot.reading).toContain(
      'Q2: gateway 300 req/s and 3 CPU ms/request, PostGraphile 600 and 1.5 (gateway/PostGraphile 0.5× the req/s, 2× the CPU)',
    );
    await expect(throughputPlot(results.bench)).rejects.toThrow('no cells with load.reqPerSec');
  });

  it('peak RSS of four servers: the RSS sampled under load when recorded, one bar per server and query', async () => {
    const plot = await peakRssPlot({ file: 'bench/results/latest.json', data: loaded });
    assertSvg(plot.svg, 'Peak RSS under load: gateway vs postgraphile vs floor vs naive', [
      'RSS sampled every 100 ms under load',
    ]);
    expect(marks(plot.svg, 'bar')).toBe(loaded.cells.length);
    expect(plot.reading).toContain('the four servers peak at 65–156 MB');
    expect(plot.reading).toContain('Q2 145 vs 131 vs 65 vs 112 MB');
  });

  it('recommendation latency: p50 and p99 points per catalogue size, log x across decades', async () => {
    const plot = await recommendationLatencyPlot(results.ml);
    assertSvg(plot.svg, 'Recommendation latency vs catalogue size', [
      'Source: bench/results/ml-latest.json, run of 2026-01-02 05:06 UTC',
    ]);
    expect(marks(plot.svg, 'point')).toBe(2 * ml.latency!.length);
    expect(marks(plot.svg, 'line mark')).toBe(2);
    expect(plot.svg).toContain('>catalogue size (restaurants, log scale)</text>');
    expect(plot.svg).toContain('>latency per request (ms)</text>');
    for (const tick of ['1,000', '10,000', '100,000']) expect(plot.svg).toContain(`>${tick}</text>`);
    for (const label of ['>p50</text>', '>p99</text>', '>175.2</text>']) expect(plot.svg).toContain(label);
    expect(plot.reading).toContain('From 1,000 to 100,000 restaurants');
  });

  it('embedding throughput: a point per batch size and thread count', async () => {
    const plot = await embeddingThroughputPlot(results.ml);
    assertSvg(plot.svg, 'Embedding throughput vs batch size', ['Source: bench/results/ml-latest.json']);
    expect(marks(plot.svg, 'point')).toBe(ml.rates!.length);
    expect(plot.svg).toContain('>throughput (sentences/s)</text>');
    expect(plot.svg).toContain('>batch size (sentences per inference call, log scale)</text>');
    for (const label of ['>1 thread</text>', '>2 threads</text>', '>199</text>']) expect(plot.svg).toContain(label);
    expect(plot.reading).toContain('2 threads give ×1.6 at batch 8');
  });

  it('is deterministic: the same results give byte-identical SVG, whatever was rendered before', async () => {
    const withLoad = await renderPlots({ ...results, bench: { file: 'bench/results/latest.json', data: loaded } });
    expect(withLoad.map((p) => p.file)).toContain('throughput-cpu.svg');
    const first = await renderPlots(results);
    expect(first.map((p) => p.file)).not.toContain('throughput-cpu.svg');
    await renderPlots({ bench: results.bench, ml: results.ml });
    const again = await renderPlots(structuredClone(results));
    expect(again.map((p) => p.file)).toEqual(first.map((p) => p.file));
    for (const [i, p] of first.entries()) expect(again[i]!.svg).toBe(p.svg);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('writes the bench-plots section once, after the introduction, and replaces it in place', async () => {
    const plots = await renderPlots(results);
    const section = plotsSection(results, plots);
    for (const p of plots) expect(section).toContain(`](plots/${p.file})\n\n${p.reading}`);
    expect(section).toContain('bench/results/flood-latest.json (2026-01-02 08:09 UTC, --quick)');

    const doc = '# Benchmarks\n\nIntro.\n\n## Latest run\n\n<!-- bench:start -->\nx\n<!-- bench:end -->\n';
    const once = withPlotsSection(doc, section);
    expect(once).toBe(
      `# Benchmarks\n\nIntro.\n\n## Plots\n\n<!-- bench-plots:start -->\n${section}\n<!-- bench-plots:end -->\n\n## Latest run\n\n<!-- bench:start -->\nx\n<!-- bench:end -->\n`,
    );
    expect(withPlotsSection(once, section)).toBe(once);
    expect(withPlotsSection(once, 'new')).toBe(once.replace(section, 'new'));
  });
});
