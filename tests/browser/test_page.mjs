// Browser tests of the live map: Debian's chromium, headless, driven by
// playwright-core, against server.mjs (a scripted stand-in for the
// tracker).  Nothing leaves loopback: chromium resolves no other name and
// every request is checked.
//   node test_page.mjs CASE     (ctest: browser_CASE)
// Environment: RS_PAGE_HTML (the built index.html), RS_WEB_MODULES (the
// node_modules with playwright-core and ws), RS_SOURCE_DIR, RS_CHROMIUM
// (empty: skip, exit 77), RS_ARTIFACT_DIR (screenshots, optional).
// Exit: 0 pass, 1 fail, 77 skip.

import { join } from "node:path";
import { startServer } from "./server.mjs";
import { check, confinedContext, launch, pageUntil, runMain, screenshot, until, watch } from "./browser.mjs";

const TITLES = { 1: "Primeiro", 2: "Segundo", 3: "Terceiro" };
const ROUTE1_COLOUR = [0xd9, 0x30, 0x25]; // the page's first palette colour

// The vehicle tuple of client id on route index r at point k (1-based).
function vehicle(srv, id, r, k) {
  const route = srv.routes[r];
  const n = route.points.length;
  const [lat, lng] = route.points[k - 1];
  return [id, route.id, lat, lng, k, n, k === n];
}

async function ready(t) {
  await t.page.goto(t.srv.url);
  await pageUntil(t.page, "the page to connect and take a snapshot",
    () => window.routesimMap && routesimMap.state === "connected" && routesimMap.snapshots >= 1);
}

const hook = (page, expr) => page.evaluate(expr);

const CASES = {
  // The catalogue: every route drawn, in the legend and the start control
  // with its title.
  async routes(t) {
    await ready(t);
    const { routes, routesDrawn } = await hook(t.page, () => ({
      routes: routesimMap.routes, routesDrawn: routesimMap.routesDrawn }));
    check(routes === 3 && routesDrawn === 3, `routes ${routes}, drawn ${routesDrawn}, want 3`);
    const legend = await t.page.textContent(".legend");
    for (const label of ["1 · Primeiro", "2 · Segundo", "3 · Terceiro"])
      check(legend.includes(label), `legend lacks "${label}": ${legend}`);
    const options = await t.page.$$eval("#start-route option", (os) => os.map((o) => o.textContent));
    check(JSON.stringify(options) === JSON.stringify(["1 · Primeiro", "2 · Segundo", "3 · Terceiro"]),
      `start control options ${JSON.stringify(options)}`);
    check((await t.page.textContent("#conn")) === "live", "indicator does not say live");
  },

  // A snapshot makes N vehicles, drawn on the canvas in their route's
  // colour; a second snapshot replaces them.
  async snapshot(t) {
    const first = [];
    for (let i = 0; i < 25; i++) first.push(vehicle(t.srv, `a-${i}`, i % 3, 1 + i));
    t.srv.setFleet(first);
    await ready(t);
    await pageUntil(t.page, "25 vehicles drawn", () => routesimMap.vehicles === 25 &&
      Number.isFinite(routesimMap.vehicle("a-0").drawn.x));
    const pixel = await t.page.evaluate(() => {
      const v = routesimMap.vehicle("a-0");
      const c = document.querySelector("canvas.vehicles");
      const dpr = c.width / c.clientWidth;
      return [...c.getContext("2d").getImageData(Math.round(v.drawn.x * dpr),
        Math.round(v.drawn.y * dpr), 1, 1).data];
    });
    check(pixel[3] === 255 && pixel.slice(0, 3).every((c, i) => Math.abs(c - ROUTE1_COLOUR[i]) < 12),
      `vehicle a-0 not drawn in route 1's colour on the canvas: pixel ${pixel}`);
    const second = [];
    for (let i = 0; i < 10; i++) second.push(vehicle(t.srv, `b-${i}`, i % 3, 2));
    t.srv.setFleet(second);
    t.srv.snapshot();
    await pageUntil(t.page, "the second snapshot to replace the first",
      () => routesimMap.vehicles === 10 && routesimMap.vehicle("a-0") === null &&
        routesimMap.vehicle("b-9") !== null);
    await pageUntil(t.page, "10 rows", () => document.querySelectorAll("#list li").length === 10);
  },

  // An update moves a vehicle: the drawn marker passes through points
  // between the two positions, in order, on the segment, and ends on the
  // new position (interval_ms 2000 here).
  async smooth(t) {
    t.srv.setFleet([vehicle(t.srv, "s-1", 0, 10)]);
    await ready(t);
    check((await hook(t.page, () => routesimMap.intervalMs)) === 2000, "interval_ms not taken from /api/config");
    const [a, b] = [t.srv.routes[0].points[9], t.srv.routes[0].points[10]];
    const sampling = t.page.evaluate((ms) => new Promise((resolve) => {
      const samples = [];
      const t0 = performance.now();
      const step = () => {
        const d = routesimMap.vehicle("s-1").drawn;
        samples.push([d.lat, d.lng]);
        window.samplerStarted = true;
        if (performance.now() - t0 > ms) resolve(samples);
        else requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }), CONFIGS.smooth.interval_ms + 1000);
    await pageUntil(t.page, "the sampler to start", () => window.samplerStarted === true);
    t.srv.update([vehicle(t.srv, "s-1", 0, 11)]);
    const samples = await sampling;
    const [dy, dx] = [b[0] - a[0], b[1] - a[1]];
    const len2 = dx * dx + dy * dy;
    check(samples.length > 0 && Math.abs(samples[0][0] - a[0]) < 1e-9, "the first sample is not at the old position");
    const fractions = samples.map(([lat, lng]) => {
      const f = ((lat - a[0]) * dy + (lng - a[1]) * dx) / len2;
      const off = Math.abs((lat - a[0]) * dx - (lng - a[1]) * dy) / Math.sqrt(len2);
      check(off < 0.01 * Math.sqrt(len2), `drawn position ${lat},${lng} is off the segment`);
      return f;
    });
    const between = new Set(fractions.filter((f) => f > 0.02 && f < 0.98).map((f) => f.toFixed(6)));
    check(between.size >= 5, `only ${between.size} intermediate positions drawn: ${fractions.slice(0, 40).join(" ")}`);
    for (let i = 1; i < fractions.length; i++)
      check(fractions[i] >= fractions[i - 1] - 1e-9, `marker moved backwards: ${fractions.slice(0, 40).join(" ")}`);
    // On a loaded machine the update may arrive late in the sampling
    // window: the marker still has to end exactly on the new position.
    await pageUntil(t.page, "the marker to end on the new position", (p) => {
      const d = routesimMap.vehicle("s-1").drawn;
      return Math.abs(d.lat - p[0]) < 1e-9 && Math.abs(d.lng - p[1]) < 1e-9;
    }, b);
    console.log(`smooth: ${between.size} intermediate positions in ${samples.length} frames`);
  },

  // The last position: a "finished" notice, the row says finished n/n.
  async finished(t) {
    const n = t.srv.routes[0].points.length;
    t.srv.setFleet([vehicle(t.srv, "f-1", 0, n - 1), vehicle(t.srv, "f-2", 1, 3)]);
    await ready(t);
    check((await t.page.$$("#notices li")).length === 0, "a notice before anything finished");
    t.srv.update([vehicle(t.srv, "f-1", 0, n)]);
    await pageUntil(t.page, "the finished notice", () =>
      [...document.querySelectorAll("#notices li")].some((li) => /f-1 finished route 1 · Primeiro/.test(li.textContent)));
    await pageUntil(t.page, "the row to say finished", (n) =>
      [...document.querySelectorAll("#list li")].some((li) => li.dataset.id === "f-1" &&
        li.textContent.includes(`finished ${n}/${n}`)), n);
    const s = await hook(t.page, () => [routesimMap.finished, routesimMap.finishedNotices]);
    check(s[0] === 1 && s[1] === 1, `finished ${s[0]}, notices ${s[1]}, want 1 and 1`);
    // The same last position again raises no second notice.
    t.srv.update([vehicle(t.srv, "f-1", 0, n)]);
    await pageUntil(t.page, "the repeated update", (seq) => routesimMap.lastSeq === seq, t.srv.seq);
    check((await hook(t.page, () => routesimMap.finishedNotices)) === 1, "a second notice for one vehicle");
  },

  // "removed" forgets a vehicle: gone from the fleet and the list.
  async removed(t) {
    t.srv.setFleet([vehicle(t.srv, "r-1", 0, 5), vehicle(t.srv, "r-2", 1, 5)]);
    await ready(t);
    await pageUntil(t.page, "two rows", () => document.querySelectorAll("#list li").length === 2);
    t.srv.update([], ["r-1"]);
    await pageUntil(t.page, "r-1 to be removed", () =>
      routesimMap.vehicles === 1 && routesimMap.vehicle("r-1") === null);
    await pageUntil(t.page, "one row, r-2's", () => {
      const rows = document.querySelectorAll("#list li");
      return rows.length === 1 && rows[0].dataset.id === "r-2";
    });
  },

  // The list: point k of n per vehicle, bounded to 100 rows and a count.
  async list(t) {
    const fleet = [];
    for (let i = 0; i < 150; i++) fleet.push(vehicle(t.srv, `l-${i}`, i % 3, 1 + (i % 50)));
    t.srv.setFleet(fleet);
    await ready(t);
    await pageUntil(t.page, "100 rows", () => document.querySelectorAll("#list li").length === 100);
    const more = await t.page.textContent("#list-more");
    check(more === "showing the first 100 of 150", `list count "${more}"`);
    check(await t.page.isVisible("#list-more"), "the count is hidden");
    const title = await t.page.textContent("#list-title");
    check(title === "Deliveries: 150 moving, 0 finished", `list title "${title}"`);
    const rows = await t.page.$$eval("#list li", (ls) => ls.map((li) => [li.dataset.id, li.querySelector(".progress").textContent]));
    for (const [id, text] of rows) {
      const v = fleet.find((x) => x[0] === id);
      check(v && text === `${v[4]}/${v[5]}`, `row ${id} shows "${text}"`);
    }
    t.srv.update([vehicle(t.srv, "l-0", 0, 40)]);
    await pageUntil(t.page, "row l-0 at 40/87", () =>
      document.querySelector('#list li[data-id="l-0"] .progress').textContent === "40/87");
  },

  // Selecting a vehicle in the list draws its trail (route points 1..k)
  // on the vehicle canvas, which with more than 50 vehicles has no other
  // trails; a vehicle of a route the tracker never saw is listed too.
  async select(t) {
    const fleet = [];
    for (let i = 0; i < 60; i++) fleet.push(vehicle(t.srv, `t-${i}`, i % 3, 30 + (i % 20)));
    const [lat, lng] = t.srv.routes[0].points[40];
    fleet.push(["u-1", "", lat, lng, 3, 0, false]);
    t.srv.setFleet(fleet);
    await ready(t);
    // The alpha of the vehicle canvas between route 1's points 1 and 2,
    // where no marker is.
    const alpha = ([a, b]) => {
      const c = document.querySelector("canvas.vehicles");
      const dpr = c.width / c.clientWidth;
      const p = routesimMap.containerPoint((a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
      return c.getContext("2d").getImageData(Math.round(p.x * dpr), Math.round(p.y * dpr), 1, 1).data[3];
    };
    const ab = [t.srv.routes[0].points[0], t.srv.routes[0].points[1]];
    await pageUntil(t.page, "61 vehicles drawn", () => routesimMap.vehicles === 61 && routesimMap.frames > 0);
    check((await t.page.evaluate(alpha, ab)) === 0, "a trail drawn before anything was selected");
    await t.page.click('#list li[data-id="t-0"]');
    await pageUntil(t.page, "t-0 selected", () => routesimMap.selected === "t-0" &&
      document.querySelector('#list li[data-id="t-0"]').classList.contains("selected"));
    await pageUntil(t.page, "the trail on the vehicle canvas",
      `(${alpha.toString()})(${JSON.stringify(ab)}) > 0`);
    const row = await t.page.textContent('#list li[data-id="u-1"]');
    check(row.includes("u-1 · route ?") && row.includes("point 3"), `unknown route's row "${row}"`);
  },

  // The start control POSTs {"routeId": ...} and shows the clientId, or
  // the tracker's error.
  async start_delivery(t) {
    await ready(t);
    await t.page.selectOption("#start-route", "2");
    await t.page.click("#start-button");
    await pageUntil(t.page, "the clientId", () =>
      document.getElementById("start-result").textContent.startsWith("started "));
    check(t.srv.deliveries.length === 1, `${t.srv.deliveries.length} POSTs`);
    const d = t.srv.deliveries[0];
    check(d.body === '{"routeId":"2"}', `body ${d.body}`);
    check(d.contentType === "application/json", `content type ${d.contentType}`);
    const text = await t.page.textContent("#start-result");
    check(text === "started web-0000000000000001", `result "${text}"`);
    t.allowed = /status of 503/; // chromium logs the 503 itself
    t.srv.deliveryAnswer = { status: 503, body: { error: "producer queue full" } };
    await t.page.selectOption("#start-route", "3");
    await t.page.click("#start-button");
    await pageUntil(t.page, "the error", () =>
      document.getElementById("start-result").textContent === "error 503: producer queue full");
    check(t.srv.deliveries[1].body === '{"routeId":"3"}', `body ${t.srv.deliveries[1].body}`);
  },

  // The tracker restarts: the indicator shows disconnected, the page
  // reconnects by itself and the new snapshot replaces the fleet.
  async reconnect(t) {
    t.srv.setFleet([vehicle(t.srv, "c-1", 0, 5)]);
    await ready(t);
    await t.srv.stop();
    await pageUntil(t.page, "the indicator to show disconnected", () =>
      document.getElementById("conn").dataset.state === "disconnected" &&
      document.getElementById("conn").textContent.startsWith("disconnected"));
    t.srv.setFleet([vehicle(t.srv, "c-1", 0, 9), vehicle(t.srv, "c-2", 2, 2)]);
    t.srv.seq = 0;
    await t.srv.start();
    await pageUntil(t.page, "the page to reconnect by itself", () =>
      routesimMap.state === "connected" && routesimMap.connections === 2 &&
      document.getElementById("conn").textContent === "live", undefined, 30000);
    await pageUntil(t.page, "the new snapshot", () =>
      routesimMap.vehicles === 2 && routesimMap.vehicle("c-1").point === 9 && routesimMap.lastSeq === 0);
  },

  // A gap in seq (a lost update): the page asks for a snapshot.
  async seq_gap(t) {
    t.srv.setFleet([vehicle(t.srv, "g-1", 0, 5)]);
    await ready(t);
    t.srv.update([vehicle(t.srv, "g-1", 0, 6)], [], 3);
    await until("the page to ask for a snapshot", () => t.srv.received.includes('{"type":"snapshot"}'));
    await pageUntil(t.page, "the second snapshot", () => routesimMap.snapshots === 2 && routesimMap.seqGaps === 1);
    check(t.srv.received.length === 1, `page sent ${JSON.stringify(t.srv.received)}`);
  },

  // A catch-up update (since the page's generation, several behind the
  // new seq, as the tracker sends a browser that fell behind) is no gap.
  async catch_up(t) {
    t.srv.setFleet([vehicle(t.srv, "u-1", 0, 5), vehicle(t.srv, "u-2", 0, 2)]);
    await ready(t);
    const had = t.srv.seq;
    t.srv.update([vehicle(t.srv, "u-1", 0, 7)], ["u-2"], 4, had);
    await pageUntil(t.page, "the catch-up", (seq) =>
      routesimMap.lastSeq === seq && routesimMap.vehicle("u-1").point === 7 && routesimMap.vehicles === 1, t.srv.seq);
    t.srv.update([vehicle(t.srv, "u-1", 0, 8)]);
    await pageUntil(t.page, "the next update", () => routesimMap.vehicle("u-1").point === 8);
    check((await t.page.evaluate(() => routesimMap.seqGaps)) === 0, "a catch-up counted as a gap");
    check(t.srv.received.length === 0, `page sent ${JSON.stringify(t.srv.received)}`);
  },

  // A move [id, lat, lng, point] moves a vehicle the page has, keeping
  // its route and length; one of a vehicle it lacks makes it ask for a
  // snapshot.
  async moves(t) {
    t.srv.setFleet([vehicle(t.srv, "m-1", 0, 5)]);
    await ready(t);
    const [, , lat, lng, k] = vehicle(t.srv, "m-1", 0, 6);
    t.srv.update([["m-1", lat, lng, k]]);
    await pageUntil(t.page, "the move", () => routesimMap.vehicle("m-1").point === 6);
    const v = await t.page.evaluate(() => routesimMap.vehicle("m-1"));
    check(v.lat === lat && v.lng === lng && v.routeId === t.srv.routes[0].id &&
      v.points === t.srv.routes[0].points.length,
    `moved: ${JSON.stringify(v)}`);
    check((await t.page.evaluate(() => routesimMap.seqGaps)) === 0, "a move counted as a gap");
    t.srv.update([["m-2", lat, lng, k]]);
    await until("the page to ask for a snapshot", () => t.srv.received.includes('{"type":"snapshot"}'));
    await pageUntil(t.page, "the second snapshot", () => routesimMap.snapshots === 2 && routesimMap.vehicles === 1);
  },

  // Tiles "": a plain background, routes and vehicles drawn, and no
  // request leaves loopback.
  async offline(t) {
    t.srv.setFleet([vehicle(t.srv, "o-1", 0, 5)]);
    await ready(t);
    t.srv.update([vehicle(t.srv, "o-1", 0, 6)]);
    await pageUntil(t.page, "the update", () => routesimMap.vehicle("o-1").point === 6);
    await pageUntil(t.page, "the move to be drawn", () => {
      const v = routesimMap.vehicle("o-1");
      return Math.abs(v.drawn.lat - v.lat) < 1e-9 && Math.abs(v.drawn.lng - v.lng) < 1e-9;
    });
    check((await t.page.$$(".leaflet-tile")).length === 0, "tiles without a tiles URL");
    check((await hook(t.page, () => routesimMap.routesDrawn)) === 3, "routes not drawn");
    const origin = new URL(t.srv.url).origin;
    const outside = t.requests.filter((u) => !u.startsWith(origin + "/") && u !== `ws://127.0.0.1:${t.srv.port}/ws`);
    check(outside.length === 0, `requests beyond the tracker: ${outside.join(" ")}`);
    check(t.blocked.length === 0, `requests beyond loopback: ${t.blocked.join(" ")}`);
    const seen = t.requests.map((u) => new URL(u).pathname).sort().join(" ");
    check(seen === "/ /api/config /api/routes /ws", `requests: ${seen}`);
  },

  // A tiles URL: a Leaflet tile layer fetching that template, with the
  // attribution (tiles answered here, nothing leaves the machine).
  async tiles(t) {
    await ready(t);
    await pageUntil(t.page, "tiles", () => document.querySelectorAll(".leaflet-tile-loaded").length > 0);
    check(t.tiles.length > 0 && t.tiles.every((u) => /^https:\/\/tiles\.invalid\/\d+\/\d+\/\d+\.png$/.test(u)),
      `tile requests ${t.tiles.join(" ")}`);
    const attribution = await t.page.textContent(".leaflet-control-attribution");
    check(attribution.includes("© Test tiles contributors"), `attribution "${attribution}"`);
    check((await hook(t.page, () => routesimMap.routesDrawn)) === 3, "routes not drawn");
  },

  // 10,000 vehicles in one snapshot, then all of them moving: every one
  // drawn, each arrives, no error.  Frame counts and draw times are
  // printed, not asserted (bench/page-bench.mjs measures).
  async scale_10000(t) {
    const N = 10000;
    const at = (i, step) => {
      const r = i % 3;
      const n = t.srv.routes[r].points.length;
      return vehicle(t.srv, `web-${i.toString(16).padStart(16, "0")}`, r, 1 + ((i * 7 + step) % (n - 1)));
    };
    const fleet = [];
    for (let i = 0; i < N; i++) fleet.push(at(i, 0));
    t.srv.setFleet(fleet);
    await ready(t);
    await pageUntil(t.page, "10,000 vehicles", (n) => routesimMap.vehicles === n, N);
    const moved = [];
    for (let i = 0; i < N; i++) moved.push(at(i, 1));
    const frames = await hook(t.page, () => routesimMap.frames);
    t.srv.update(moved);
    const last = moved[N - 1];
    await pageUntil(t.page, "the last vehicle to arrive", (v) => {
      const d = routesimMap.vehicle(v[0]);
      return d.point === v[4] && Math.abs(d.drawn.lat - v[2]) < 1e-9 && Math.abs(d.drawn.lng - v[3]) < 1e-9;
    }, last, 30000);
    await pageUntil(t.page, "a frame with every vehicle", (f) =>
      routesimMap.frames > f && routesimMap.drawnVehicles === 10000, frames);
    const s = await hook(t.page, () => ({ frames: routesimMap.frames, times: routesimMap.drawTimes(),
      rows: document.querySelectorAll("#list li").length }));
    check(s.rows === 100, `${s.rows} rows`);
    const times = s.times.sort((a, b) => a - b);
    const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
    console.log(`scale_10000: ${s.frames - frames} frames while moving; draw time p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (not asserted)`);
  },
};

const CONFIGS = {
  // A longer position interval: more frames inside one move, even on a
  // loaded machine; the page must take it from /api/config.
  smooth: { interval_ms: 2000 },
  tiles: { tiles: "https://tiles.invalid/{z}/{x}/{y}.png", attribution: "© Test tiles contributors" },
};

// A 1x1 PNG for the tile requests of the tiles case.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64");

async function main() {
  const name = process.argv[2];
  if (!CASES[name]) {
    console.error(`usage: node test_page.mjs ${Object.keys(CASES).join("|")}`);
    return 2;
  }
  const env = process.env;
  if (!env.RS_CHROMIUM) {
    console.log("SKIP: chromium not found (scripts/deps.sh installs it)");
    return 77;
  }
  const srv = await startServer({
    html: env.RS_PAGE_HTML,
    modules: env.RS_WEB_MODULES,
    destinations: join(env.RS_SOURCE_DIR, "destinations"),
    titles: TITLES,
    config: CONFIGS[name] || {},
  });
  const browser = await launch(env);
  const t = { srv, requests: [], blocked: [], tiles: [], errors: [] };
  try {
    const context = await confinedContext(browser, t, {
      "tiles.invalid": (route) => {
        t.tiles.push(route.request().url());
        return route.fulfill({ status: 200, contentType: "image/png", body: PNG });
      },
    });
    const page = await context.newPage();
    t.page = page;
    watch(page, t);
    await CASES[name](t);
    check(t.errors.length === 0, t.errors.join("\n"));
    await screenshot(env, page, name);
  } finally {
    await browser.close();
    await srv.close();
  }
  console.log(`ok: browser_${name}`);
  return 0;
}

runMain(main);
