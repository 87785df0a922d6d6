// The live map end to end: the real programs on loopback (rs-mockcluster,
// routesim, routesim-tracker) and two tabs of headless chromium on the
// tracker's page.  Tab A starts a delivery on route 2; both tabs show it;
// it is seen moving through the route's points in order; the tracker is
// stopped and started again mid-delivery, the tabs reconnect by themselves
// and the vehicle goes on to its last point and the finished notice.
//   node test_live.mjs          (ctest: browser_live)
// Environment: RS_BIN, RS_TRACKER_BIN, RS_MOCK (the programs),
// RS_WEB_MODULES, RS_SOURCE_DIR, RS_CHROMIUM (empty: skip, exit 77),
// RS_ARTIFACT_DIR (screenshots, optional).
// Exit: 0 pass, 1 fail, 77 skip.

import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, confinedContext, fail, launch, pageUntil, runMain, screenshot, sleep, until, watch } from "./browser.mjs";

const ROUTE = "2";
const LABEL = "2 · Segundo";
// Slow enough that the restart happens well before the end of the route.
const INTERVAL_MS = 250;
const SAMPLE_MS = 50;
const TOPICS = ["route.new-direction:2", "routesim.progress:2", "route.new-position:4"];
const WAIT = 30000;
// The mock cluster answers a fetch only when fetch.wait.max.ms (500 ms by
// default) is over, so the tracker would get two positions at a time; a
// real broker answers as soon as there is data.
const TRACKER_ARGS = ["-X", "fetch.wait.max.ms=50"];

// The children, each with its log file (stdout and stderr), killed in
// main's finally whatever happened.
const children = [];

function start(name, cmd, args, logDir, stdin = "ignore") {
  const log = join(logDir, `${name}-${children.length}.log`);
  const fd = openSync(log, "w");
  const proc = spawn(cmd, args, { stdio: [stdin, stdin === "pipe" ? "pipe" : fd, fd] });
  closeSync(fd);
  const child = { name, proc, log, exit: null };
  child.exited = new Promise((resolve) => {
    proc.on("exit", (code, signal) => {
      child.exit = { code, signal };
      resolve(child.exit);
    });
    proc.on("error", (e) => {
      child.exit = { code: null, signal: null, error: e.message };
      resolve(child.exit);
    });
  });
  children.push(child);
  return child;
}

// Whatever ends this process, no child outlives it.
function killChildren() {
  for (const c of children) if (!c.exit) c.proc.kill("SIGKILL");
}
process.on("exit", killChildren);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    console.error(`FAIL: ${sig}`);
    process.exit(1);
  });
}

async function stop(child, sig = "SIGTERM", timeout = 20000) {
  if (child.exit) return child.exit;
  child.proc.kill(sig);
  const timer = sleep(timeout).then(() => null);
  const exit = await Promise.race([child.exited, timer]);
  if (exit) return exit;
  child.proc.kill("SIGKILL");
  await child.exited;
  fail(`${child.name} did not stop within ${timeout / 1000} s of ${sig}`);
  return null;
}

// rs-mockcluster: its first line is "bootstrap HOST:PORT"; it ends when
// its stdin closes.
async function startCluster(env, logDir) {
  const c = start("rs-mockcluster", env.RS_MOCK, ["-b", "1", ...TOPICS], logDir, "pipe");
  let out = "";
  c.proc.stdout.setEncoding("utf8");
  c.proc.stdout.on("data", (d) => { out += d; }); // read to the end: the pipe never fills
  await until("the mock cluster's bootstrap line", () => out.includes("\n") || c.exit, WAIT);
  const m = /^bootstrap (\S+)\n/.exec(out);
  check(m, `mock cluster did not start: ${JSON.stringify(out)} ${JSON.stringify(c.exit)}`);
  c.bootstrap = m[1];
  return c;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function readyz(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function startDaemon(name, bin, cluster, env, logDir, port, extra = []) {
  const d = start(name, bin, ["-b", cluster.bootstrap, "-d", join(env.RS_SOURCE_DIR, "destinations"),
    "--env-file", "/dev/null", "--interval", String(INTERVAL_MS), "--shutdown-timeout", "5000",
    "--http-listen", `127.0.0.1:${port}`, ...extra], logDir);
  await until(`${name} to be ready`, async () => {
    if (d.exit) fail(`${name} exited early: ${JSON.stringify(d.exit)}`);
    return readyz(port);
  }, WAIT);
  return d;
}

function routePoints(env) {
  return readFileSync(join(env.RS_SOURCE_DIR, "destinations", `${ROUTE}.txt`), "utf8")
    .split("\n").filter((l) => l.trim() !== "").map((l) => l.split(",").map(Number));
}

// What a tab shows of the vehicle (its last reported state, not where
// it is drawn), and of the connection.
const look = (page, id) => page.evaluate((id) => {
  const v = routesimMap.vehicle(id);
  return {
    v: v && { routeId: v.routeId, lat: v.lat, lng: v.lng, point: v.point, points: v.points, finished: v.finished },
    connections: routesimMap.connections,
    state: routesimMap.state,
    conn: document.getElementById("conn").textContent,
  };
}, id);

async function connected(page, what, n) {
  // routesimMap is there once the page has its catalogue.
  await pageUntil(page, what, (n) => window.routesimMap && routesimMap.state === "connected" &&
    routesimMap.connections === n && document.getElementById("conn").textContent === "live", n, WAIT, SAMPLE_MS);
}

// The samples of each tab must go through the route's points in order.
function checkSamples(tab, samples, points) {
  const n = points.length;
  let last = 0;
  for (const s of samples) {
    check(s.routeId === ROUTE && s.points === n, `${tab}: vehicle on route ${s.routeId} of ${s.points} points`);
    check(Number.isInteger(s.point) && s.point >= 1 && s.point <= n, `${tab}: point ${s.point} of ${n}`);
    check(s.point >= last, `${tab}: the vehicle went back from point ${last} to ${s.point}`);
    const [lat, lng] = points[s.point - 1];
    check(Math.abs(s.lat - lat) < 1e-6 && Math.abs(s.lng - lng) < 1e-6,
      `${tab}: at point ${s.point} shown at ${s.lat},${s.lng}, the route's point is ${lat},${lng}`);
    check(s.finished === (s.point === n), `${tab}: finished ${s.finished} at point ${s.point} of ${n}`);
    last = s.point;
  }
  return new Set(samples.map((s) => s.point)).size;
}

async function run(env, logDir, t) {
  const points = routePoints(env);
  const n = points.length;
  const cluster = await startCluster(env, logDir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  let tracker = await startDaemon("routesim-tracker", env.RS_TRACKER_BIN, cluster, env, logDir, port, TRACKER_ARGS);
  await startDaemon("routesim", env.RS_BIN, cluster, env, logDir, await freePort());

  const browser = await launch(env);
  t.browser = browser;
  const context = await confinedContext(browser, t);
  const tabs = [await context.newPage(), await context.newPage()];
  const names = ["tab A", "tab B"];
  for (const page of tabs) {
    watch(page, t);
    await page.goto(url);
    await connected(page, "the page to connect", 1);
  }
  const [a] = tabs;

  await a.selectOption("#start-route", ROUTE);
  await a.click("#start-button");
  await pageUntil(a, "the clientId", () =>
    document.getElementById("start-result").textContent.startsWith("started "), undefined, WAIT, SAMPLE_MS);
  const result = await a.textContent("#start-result");
  const id = result.slice("started ".length);
  check(/^web-[0-9a-f]{16}$/.test(id), `start result "${result}"`);
  for (const [i, page] of tabs.entries())
    await pageUntil(page, `${names[i]} to show ${id}`, (id) => routesimMap.vehicle(id) !== null, id, WAIT, SAMPLE_MS);

  // Samples both tabs every SAMPLE_MS (what each shows of the vehicle)
  // until `sampling` is false.
  const samples = [[], []];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const [i, page] of tabs.entries()) {
        const s = await look(page, id);
        // Never missing: a restarted tracker sends its first snapshot
        // only once it has read its history.
        if (s.v) samples[i].push(s.v);
        else fail(`${names[i]} lost vehicle ${id} (connection ${s.state}, ${s.connections} opened)`);
      }
      await sleep(SAMPLE_MS);
    }
  })();
  const lastPoint = () => (samples[0].length ? samples[0][samples[0].length - 1].point : 0);
  sampler.catch(() => {}); // awaited below; never an unhandled rejection
  const failed = sampler.then(() => new Promise(() => {})); // rejects when the sampler fails
  failed.catch(() => {});
  const waitFor = (what, fn) => Promise.race([until(what, fn, WAIT), failed]);

  const third = Math.ceil(n / 3);
  await waitFor(`the vehicle at point ${third} of ${n}`, () => lastPoint() >= third);
  const before = [lastPoint(), samples[1][samples[1].length - 1].point];
  const exit = await stop(tracker);
  check(exit.code === 0, `the tracker's exit on SIGTERM: ${JSON.stringify(exit)}`);
  console.log(`tracker stopped at point ${before[0]} of ${n}`);
  const stoppedAt = samples[0].length;
  for (const [i, page] of tabs.entries())
    await pageUntil(page, `${names[i]}'s indicator to show disconnected`, () =>
      document.getElementById("conn").dataset.state !== "connected", undefined, WAIT, SAMPLE_MS);
  tracker = await startDaemon("routesim-tracker", env.RS_TRACKER_BIN, cluster, env, logDir, port, TRACKER_ARGS);
  for (const [i, page] of tabs.entries())
    await Promise.race([connected(page, `${names[i]} to reconnect by itself`, 2), failed]);
  for (const [i, page] of tabs.entries())
    await pageUntil(page, `${names[i]} to show ${id} again`, (id) => routesimMap.vehicle(id) !== null, id, WAIT, SAMPLE_MS);
  const back = [(await look(tabs[0], id)).v.point, (await look(tabs[1], id)).v.point];
  console.log(`reconnected at point ${back[0]} of ${n}`);
  for (const i of [0, 1])
    check(back[i] >= before[i], `${names[i]}: point ${back[i]} after the restart, ${before[i]} before`);

  await waitFor("the vehicle to finish", () => samples.every((s) => s.length && s[s.length - 1].finished));
  sampling = false;
  await sampler;
  // The end, before the tracker forgets the finished vehicle (10 s).
  const end = await Promise.all(tabs.map((page) => look(page, id)));

  for (const [i, page] of tabs.entries()) {
    const distinct = checkSamples(names[i], samples[i], points);
    const after = new Set(samples[i].slice(stoppedAt).map((s) => s.point)).size;
    console.log(`${names[i]}: ${samples[i].length} samples, ${distinct} distinct points, ${after} after the restart`);
    console.log(`${names[i]}: points seen ${[...new Set(samples[i].map((s) => s.point))].join(" ")}`);
    check(samples[i][0].point < third, `${names[i]}: first seen at point ${samples[i][0].point}`);
    check(distinct >= n / 2, `${names[i]}: only ${distinct} distinct points of ${n} seen`);
    check(after >= 3, `${names[i]}: only ${after} distinct points after the restart`);
    await pageUntil(page, `${names[i]}'s finished notice`, (want) =>
      [...document.querySelectorAll("#notices li")].some((li) => li.textContent === want),
    `${id} finished route ${LABEL}`, WAIT, SAMPLE_MS);
    await pageUntil(page, `${names[i]}'s row to say finished`, ([id, n]) =>
      [...document.querySelectorAll("#list li")].some((li) => li.dataset.id === id &&
        li.textContent.includes(`finished ${n}/${n}`)), [id, n], WAIT, SAMPLE_MS);
    const notices = await page.evaluate(() => routesimMap.finishedNotices);
    check(notices === 1, `${names[i]}: ${notices} finished notices`);
  }
  const [lat, lng] = points[n - 1];
  check(JSON.stringify(end[0].v) === JSON.stringify({ routeId: ROUTE, lat, lng, point: n, points: n, finished: true }),
    `tab A ends with ${JSON.stringify(end[0].v)}`);
  check(JSON.stringify(end[0]) === JSON.stringify(end[1]), `the tabs differ: ${JSON.stringify(end)}`);
  check(t.errors.length === 0, t.errors.join("\n"));
  check(t.blocked.length === 0, `requests beyond loopback: ${t.blocked.join(" ")}`);
  await screenshot(env, tabs[0], "live-a");
  await screenshot(env, tabs[1], "live-b");
  const exitEnd = await stop(tracker);
  check(exitEnd.code === 0, `the tracker's exit on SIGTERM: ${JSON.stringify(exitEnd)}`);
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch (e) {
    return `(${e.message})`;
  }
}

async function main() {
  const env = process.env;
  if (!env.RS_CHROMIUM) {
    console.log("SKIP: chromium not found (scripts/deps.sh installs it)");
    return 77;
  }
  for (const v of ["RS_BIN", "RS_TRACKER_BIN", "RS_MOCK", "RS_WEB_MODULES", "RS_SOURCE_DIR"])
    if (!env[v]) fail(`${v} is not set`);
  const logDir = mkdtempSync(join(tmpdir(), "rs-browser-live-"));
  const t = { requests: [], blocked: [], errors: [] };
  const began = Date.now();
  let ok = false;
  try {
    await run(env, logDir, t);
    ok = true;
  } finally {
    if (t.browser) await t.browser.close().catch(() => {});
    // The daemons first, then the cluster they talk to.
    for (const c of children.slice().reverse()) {
      if (c.exit) continue;
      if (c.proc.stdin) c.proc.stdin.end();
      else c.proc.kill("SIGTERM");
      const exit = await Promise.race([c.exited, sleep(10000).then(() => null)]);
      if (!exit) {
        c.proc.kill("SIGKILL");
        await c.exited;
      }
    }
    if (!ok) {
      for (const c of children)
        console.error(`--- ${c.name} (${c.proc.spawnargs.join(" ")}), exit ${JSON.stringify(c.exit)}:\n${tail(c.log)}`);
    }
    rmSync(logDir, { recursive: true, force: true });
  }
  console.log(`ok: browser_live (${((Date.now() - began) / 1000).toFixed(1)} s)`);
  return 0;
}

runMain(main);
