// What the browser tests share: chromium launched headless with no name
// resolving but loopback's, a context whose every request is checked (a
// request beyond loopback is recorded and aborted), the page's errors
// collected, and the waits and checks.

import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

export const TIMEOUT = 15000;

export function fail(msg) {
  throw new Error(msg);
}

export function check(cond, msg) {
  if (!cond) fail(msg);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits for a condition in this process.
export async function until(what, fn, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  while (!(await fn())) {
    if (Date.now() > end) fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// Waits for a condition in the page; polling "raf" (every animation
// frame) unless told otherwise.
export async function pageUntil(page, what, fn, arg, timeout = TIMEOUT, polling = "raf") {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling });
  } catch (e) {
    fail(`timed out waiting in the page for ${what}: ${e.message.split("\n")[0]}`);
  }
}

// Debian's chromium, headless, from playwright-core in the page's
// node_modules (RS_WEB_MODULES).
export async function launch(env) {
  const require = createRequire(join(env.RS_WEB_MODULES, "noop.js"));
  const { chromium } = require("playwright-core");
  return chromium.launch({
    executablePath: env.RS_CHROMIUM,
    headless: true,
    // No name resolves but loopback's: nothing can leave the machine.
    args: ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--disable-background-networking", "--disable-component-update"],
  });
}

// A context in which requests to 127.0.0.1 go through, those a handler
// in `answer` (hostname -> route => ...) takes are answered by it, and any
// other is pushed on t.blocked and aborted.
export async function confinedContext(browser, t, answer = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    const host = new URL(url).hostname;
    if (host === "127.0.0.1") return route.continue();
    if (answer[host]) return answer[host](route);
    t.blocked.push(url);
    return route.abort();
  });
  return context;
}

// Records a page's requests on t.requests and its errors on t.errors (the
// failed WebSocket attempts while the tracker is down are expected, and
// console errors matching t.allowed).
export function watch(page, t) {
  page.on("request", (r) => t.requests.push(r.url()));
  page.on("websocket", (ws) => t.requests.push(ws.url()));
  page.on("pageerror", (e) => t.errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/WebSocket connection to .* failed/.test(m.text()) &&
        !(t.allowed && t.allowed.test(m.text())))
      t.errors.push(`console error: ${m.text()}`);
  });
}

// A screenshot into RS_ARTIFACT_DIR, when set.
export async function screenshot(env, page, name) {
  if (!env.RS_ARTIFACT_DIR) return;
  mkdirSync(env.RS_ARTIFACT_DIR, { recursive: true });
  await page.screenshot({ path: join(env.RS_ARTIFACT_DIR, `${name}.png`) });
}

// Runs a test's main(): its result is the exit status (77: skipped), a
// failure prints FAIL and exits 1.
export function runMain(main) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`FAIL: ${err.message}`);
      process.exit(1);
    },
  );
}
