/**
 * report.html: one self-contained page (data, script, styles and uPlot inlined) that opens from disk or
 * a CI artifact with no network. uPlot draws the per-node plots: about 50 KB, and made for tens of
 * thousands of points, which is what a case's writers log; the lanes of the timeline are plain DOM.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readReportData, REPORT_FILE, type ReportData } from './report-data.ts';

const here = dirname(fileURLToPath(import.meta.url));
const uplotDist = join(dirname(createRequire(import.meta.url).resolve('uplot')), '..', 'dist');

/** JSON inside <script>: nothing in it may close the element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

export function renderReport(data: ReportData): string {
  const asset = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>clogtest ${data.runDir.split('/').pop() ?? ''}</title>
<style>${asset(uplotDist, 'uPlot.min.css')}</style>
<style>${asset(join(here, 'page'), 'report.css')}</style>
</head>
<body>
<div id="report"></div>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${asset(uplotDist, 'uPlot.iife.min.js')}</script>
<script>${asset(join(here, 'page'), 'report.js')}</script>
</body>
</html>
`;
}

/** Writes RUN_DIR/report.html from what the run directory holds; returns its path. */
export function writeReport(runDir: string): string {
  const file = join(runDir, REPORT_FILE);
  writeFileSync(file, renderReport(readReportData(runDir)));
  return file;
}
