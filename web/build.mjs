// Builds the live map into ONE self-contained index.html (JS and CSS
// inlined, nothing fetched from elsewhere at load).
//   node build.mjs [--modules DIR] OUTDIR
// --modules: the node_modules folder holding esbuild and leaflet (default:
// this folder's), so that the build can run from a copy of package.json
// elsewhere and leave the source tree clean.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let modules = join(here, "node_modules");
if (args[0] === "--modules") {
  modules = resolve(args[1]);
  args.splice(0, 2);
}
if (args.length !== 1) {
  console.error("usage: node build.mjs [--modules DIR] OUTDIR");
  process.exit(2);
}
const outdir = resolve(args[0]);
const require = createRequire(join(modules, "noop.js"));
const esbuild = require("esbuild");

const result = await esbuild.build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: join(outdir, "assets"),
  write: false,
  nodePaths: [modules],
  // Leaflet's CSS names marker and layer-switcher images the page never
  // uses: they become nothing instead of files or URLs.
  loader: { ".png": "empty", ".svg": "empty" },
  legalComments: "inline",
  logLevel: "warning",
});
let js = "";
let css = "";
for (const f of result.outputFiles) {
  if (f.path.endsWith(".js")) js = f.text;
  else if (f.path.endsWith(".css")) css = f.text;
}
if (!js || !css) throw new Error("esbuild produced no JS or no CSS");
if (/<\/script/i.test(js) || /<\/style/i.test(css))
  throw new Error("the bundle contains a closing tag that would end its element");
// Left: url() (an empty image, never fetched) and IE's url(#default#VML).
const urls = (css.match(/url\([^)]*\)/gi) || []).filter((u) => !/^url\((#[^)]*)?\)$/i.test(u));
if (urls.length) throw new Error(`the CSS still refers to files: ${urls.join(" ")}`);
const template = readFileSync(join(here, "src", "index.html"), "utf8");
const html = template
  .replace("<!--CSS-->", () => `<style>\n${css}</style>`)
  .replace("<!--JS-->", () => `<script>\n${js}</script>`);
mkdirSync(outdir, { recursive: true });
writeFileSync(join(outdir, "index.html"), html);
console.log(`routesim page: ${join(outdir, "index.html")} (${html.length} bytes)`);
