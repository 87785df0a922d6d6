// Page benchmark (not a test): the live map in headless chromium with
// 10,000 vehicles, each moving one route point every 500 ms, sent the way
// the tracker sends them (an update frame every 100 ms carrying the
// vehicles that moved), through tests/browser/server.mjs.  Measures, in
// the page, the time between animation frames (p50, p99, dropped frames
// at 60 Hz) and the time the vehicle layer takes to draw one frame.
//
//   node bench/page-bench.mjs [--build DIR] [--vehicles N] [--seconds S]
//                             [--interval MS] [--chromium PATH]
// DIR: a build directory where the page was built (default build/).
// Headless chromium renders in software here: a desktop browser with a
// GPU draws faster.  Figures are printed, nothing is asserted.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../tests/browser/server.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const opt = { build: join(root, "build"), vehicles: 10000, seconds: 20, interval: 500, chromium: "/usr/bin/chromium" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, "");
  if (!(key in opt) || argv[i + 1] === undefined) {
    console.error("usage: node bench/page-bench.mjs [--build DIR] [--vehicles N] [--seconds S] [--interval MS] [--chromium PATH]");
    process.exit(2);
  }
  opt[key] = typeof opt[key] === "number" ? Number(argv[i + 1]) : resolve(argv[i + 1]);
}
const html = join(opt.build, "web", "dist", "index.html");
const modules = join(opt.build, "web", "node_modules");
if (!existsSync(html)) {
  console.error(`page-bench: ${html} missing: cmake --build ${opt.build} --target routesim_page`);
  process.exit(1);
}
const require = createRequire(join(modules, "noop.js"));
const { chromium } = require("playwright-core");

const TICK_MS = 100;
const srv = await startServer({
  html, modules, destinations: join(root, "destinations"),
  titles: { 1: "Primeiro", 2: "Segundo", 3: "Terceiro" },
  config: { interval_ms: opt.interval },
});
const routes = srv.routes;
const state = []; // [route index, point] per vehicle
const tuple = (i) => {
  const [r, k] = state[i];
  const route = routes[r];
  const [lat, lng] = route.points[k - 1];
  return [`web-${i.toString(16).padStart(16, "0")}`, route.id, lat, lng, k, route.points.length, false];
};
for (let i = 0; i < opt.vehicles; i++) {
  const r = i % routes.length;
  state.push([r, 1 + ((i * 7) % (routes[r].points.length - 1))]);
}
srv.setFleet(state.map((_, i) => tuple(i)));

const browser = await chromium.launch({
  executablePath: opt.chromium, headless: true,
  args: ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
await page.goto(srv.url);
await page.waitForFunction((n) => window.routesimMap && routesimMap.vehicles === n, opt.vehicles, { timeout: 60000 });

// Every tick, the vehicles of one slot move one point (so each vehicle
// moves once per interval), routes cycling through points 1..n-1.
const slots = Math.max(1, Math.round(opt.interval / TICK_MS));
let tick = 0;
let sent = 0;
let bytes = 0;
const timer = setInterval(() => {
  const slot = tick++ % slots;
  const moved = [];
  for (let i = slot; i < opt.vehicles; i += slots) {
    const s = state[i];
    s[1] = (s[1] % (routes[s[0]].points.length - 1)) + 1;
    moved.push(tuple(i));
  }
  srv.update(moved);
  sent++;
  bytes += JSON.stringify(moved).length;
}, TICK_MS);

const updatesBefore = await page.evaluate(() => routesimMap.updates);
const measured = await page.evaluate((ms) => new Promise((resolve) => {
  const deltas = [];
  let longTasks = 0;
  try {
    new PerformanceObserver((l) => (longTasks += l.getEntries().length)).observe({ type: "longtask" });
  } catch { /* no long task timing */ }
  let last = null;
  const t0 = performance.now();
  const step = (now) => {
    if (last !== null) deltas.push(now - last);
    last = now;
    if (now - t0 < ms) requestAnimationFrame(step);
    else resolve({ deltas, longTasks, draw: routesimMap.drawTimes(), updates: routesimMap.updates });
  };
  requestAnimationFrame(step);
}), opt.seconds * 1000);
clearInterval(timer);
await browser.close();
await srv.close();

const q = (arr, p) => {
  const s = [...arr].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
const FRAME = 1000 / 60;
const dropped = measured.deltas.reduce((n, d) => n + Math.max(0, Math.round(d / FRAME) - 1), 0);
const expected = Math.round((opt.seconds * 1000) / FRAME);
console.log(`page-bench: ${opt.vehicles} vehicles, each moving every ${opt.interval} ms, ${opt.seconds} s`);
console.log(`  updates sent ${sent} (every ${TICK_MS} ms, ${Math.round(bytes / sent / 1024)} KiB each), received by the page ${measured.updates - updatesBefore}`);
console.log(`  frames ${measured.deltas.length + 1} (60 Hz would be ${expected}), dropped ${dropped}`);
console.log(`  frame interval p50 ${q(measured.deltas, 0.5).toFixed(1)} ms, p99 ${q(measured.deltas, 0.99).toFixed(1)} ms, max ${Math.max(...measured.deltas).toFixed(1)} ms`);
console.log(`  vehicle layer draw p50 ${q(measured.draw, 0.5).toFixed(1)} ms, p99 ${q(measured.draw, 0.99).toFixed(1)} ms (last ${measured.draw.length} frames)`);
console.log(`  long tasks (> 50 ms) ${measured.longTasks}; page errors ${errors.length}`);
if (errors.length) console.log(errors.join("\n"));
