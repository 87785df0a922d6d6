// A stand-in for routesim-tracker, for the browser tests and the page
// benchmark: serves the built index.html, /api/config, /api/routes (from
// destinations/*.txt, as tracker-spec says), /api/deliveries and the
// WebSocket /ws, and sends the frames a test scripts.  Loopback only.
//
//   const srv = await startServer({ html, destinations, modules, ... });
//   srv.update([[id, route, lat, lng, k, n, false]], ["gone-id"]);
//   await srv.stop(); await srv.start();   // a restart on the same port

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";

// Routes as GET /api/routes serves them: sorted by id, numeric ids first.
export function loadRoutes(dir, titles = {}) {
  const ids = readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .map((f) => f.slice(0, -4));
  const numeric = (s) => /^[0-9]+$/.test(s);
  ids.sort((a, b) => {
    if (numeric(a) && numeric(b)) return Number(a) - Number(b);
    if (numeric(a) !== numeric(b)) return numeric(a) ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return ids.map((id) => {
    const points = readFileSync(join(dir, `${id}.txt`), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l)
      .map((l) => l.split(",").map(Number));
    const side = join(dir, `${id}.title`);
    const title = existsSync(side)
      ? readFileSync(side, "utf8").split("\n")[0].trim()
      : titles[id] || "";
    return { id, title, start: points[0], end: points[points.length - 1], points };
  });
}

export async function startServer(opts) {
  const require = createRequire(join(opts.modules, "noop.js"));
  const { WebSocketServer } = require("ws");
  const html = readFileSync(opts.html);
  const routes = loadRoutes(opts.destinations, opts.titles);
  const config = { tiles: "", attribution: "", interval_ms: 500, ...opts.config };
  const srv = {
    port: opts.port || 0,
    routes,
    config,
    seq: 0,
    fleet: new Map(), // clientId -> vehicle tuple: what a snapshot sends
    requests: [], // "METHOD /path" of every HTTP request
    deliveries: [], // { contentType, body } of every POST /api/deliveries
    received: [], // text of every WebSocket message from a page
    connections: 0,
    // Answer of POST /api/deliveries: null for the tracker's behaviour,
    // or { status, body } to script an error.
    deliveryAnswer: null,
    nextClient: 1,
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const sendAll = (obj) => {
    const text = JSON.stringify(obj);
    for (const ws of wss.clients) if (ws.readyState === 1) ws.send(text);
  };
  const snapshotFrame = () => ({ type: "snapshot", seq: srv.seq, vehicles: [...srv.fleet.values()] });
  wss.on("connection", (ws) => {
    srv.connections++;
    ws.send(JSON.stringify(snapshotFrame()));
    ws.on("message", (data, binary) => {
      const text = data.toString();
      srv.received.push(text);
      let msg = null;
      try {
        msg = JSON.parse(text);
      } catch {
        msg = null;
      }
      if (binary || !msg || msg.type !== "snapshot") ws.close(1008, "unexpected message");
      else ws.send(JSON.stringify(snapshotFrame()));
    });
  });

  const json = (res, status, obj) => {
    const body = JSON.stringify(obj);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  };
  const handler = (req, res) => {
    const path = req.url.split("?")[0];
    srv.requests.push(`${req.method} ${path}`);
    if (req.method === "GET" && path === "/") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": html.length });
      res.end(html);
    } else if (req.method === "GET" && path === "/api/config") {
      json(res, 200, config);
    } else if (req.method === "GET" && path === "/api/routes") {
      json(res, 200, routes);
    } else if (req.method === "POST" && path === "/api/deliveries") {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        srv.deliveries.push({ contentType: req.headers["content-type"], body });
        if (srv.deliveryAnswer) return json(res, srv.deliveryAnswer.status, srv.deliveryAnswer.body);
        let msg = null;
        try {
          msg = JSON.parse(body);
        } catch {
          return json(res, 400, { error: "body is not JSON" });
        }
        if (!msg || typeof msg.routeId !== "string") return json(res, 400, { error: "no routeId" });
        if (!routes.some((r) => r.id === msg.routeId)) return json(res, 400, { error: "unknown route" });
        const clientId = `web-${(srv.nextClient++).toString(16).padStart(16, "0")}`;
        json(res, 202, { clientId, routeId: msg.routeId });
      });
    } else {
      json(res, 404, { error: "not found" });
    }
  };

  let http = null;
  srv.start = () =>
    new Promise((resolve, reject) => {
      http = createServer(handler);
      http.on("upgrade", (req, socket, head) => {
        if (req.url !== "/ws") return socket.destroy();
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
      });
      http.once("error", reject);
      http.listen(srv.port, "127.0.0.1", () => {
        srv.port = http.address().port;
        srv.url = `http://127.0.0.1:${srv.port}/`;
        resolve(srv);
      });
    });
  srv.stop = () =>
    new Promise((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      http.close(() => resolve());
      http.closeAllConnections();
    });
  srv.clients = () => [...wss.clients].filter((ws) => ws.readyState === 1).length;
  // Vehicles the next snapshot carries, without sending anything.
  srv.setFleet = (vehicles) => {
    srv.fleet = new Map(vehicles.map((v) => [v[0], v]));
  };
  srv.snapshot = () => {
    srv.seq++;
    sendAll(snapshotFrame());
  };
  // An update to generation seq + seqStep, made for a page that has
  // `since`: by default the one before it, so a seqStep over 1 is a gap
  // (frames lost); since = the page's seq is a tracker's catch-up frame.
  srv.update = (vehicles, removed = [], seqStep = 1, since = srv.seq + seqStep - 1) => {
    for (const v of vehicles) {
      const had = srv.fleet.get(v[0]);
      if (v.length === 4) {
        // A move [id, lat, lng, point]: the stored tuple moves.
        if (had) srv.fleet.set(v[0], [v[0], had[1], v[1], v[2], v[3], had[5], had[6]]);
      } else {
        srv.fleet.set(v[0], v);
      }
    }
    for (const id of removed) srv.fleet.delete(id);
    srv.seq += seqStep;
    sendAll({ type: "update", seq: srv.seq, since, vehicles, removed });
  };
  srv.close = async () => {
    await srv.stop();
    wss.close();
  };
  return srv.start();
}
