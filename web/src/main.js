// routesim live map: fetches /api/config and /api/routes, draws the routes
// with Leaflet, then follows the fleet over the WebSocket /ws (protocol in
// the README, "Live map").  window.routesimMap is a read-only view of the
// page's state for tests and for the curious.

import "leaflet/dist/leaflet.css";
import "./style.css";
import L from "leaflet";
import { Connection } from "./connection.js";
import { Fleet, worldX, worldY } from "./fleet.js";
import { VehicleLayer } from "./layer.js";
import { DeliveryList, Notices, routeLabel, showConnection, startControl } from "./panel.js";

const PALETTE = [
  "#d93025", "#1a73e8", "#188038", "#e37400", "#9334e6", "#00838f",
  "#c2185b", "#5d4037", "#3949ab", "#7cb342", "#f4511e", "#546e7a",
];
const UNKNOWN_ROUTE = "#80868b";
const SNAPSHOT_ASK_EVERY_MS = 5000;
const LEGEND_ROWS = 12;

// Text for a Leaflet tooltip, which would take a string as HTML.
function text(s) {
  const span = document.createElement("span");
  span.textContent = s;
  return span;
}

// ws(s)://host/ws, relative to the page like the other requests, so that
// the page also works behind a reverse proxy's path prefix.
function wsURL() {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

async function getJSON(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function validRoute(r) {
  return (
    r && typeof r.id === "string" && Array.isArray(r.points) &&
    r.points.every((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]))
  );
}

async function loadCatalogue() {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10000)) {
    try {
      const [config, routes] = await Promise.all([getJSON("api/config"), getJSON("api/routes")]);
      return { config, routes: Array.isArray(routes) ? routes.filter(validRoute) : [] };
    } catch (err) {
      showConnection("disconnected", delay);
      console.warn("routesim:", err.message);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function drawRoutes(map, list, byId) {
  const renderer = L.canvas({ padding: 0.2 });
  const bounds = L.latLngBounds([]);
  let drawn = 0;
  list.forEach((route, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const label = routeLabel(route);
    byId.set(route.id, {
      id: route.id, label, colour,
      wx: route.points.map((p) => worldX(p[1])),
      wy: route.points.map((p) => worldY(p[0])),
    });
    if (route.points.length === 0) return;
    L.polyline(route.points, { color: colour, weight: 4, opacity: 0.55, renderer, interactive: true })
      .bindTooltip(text(label), { sticky: true })
      .addTo(map);
    L.circleMarker(route.points[route.points.length - 1], {
      radius: 6, color: colour, weight: 2, fillColor: "#fff", fillOpacity: 1, renderer,
    }).bindTooltip(text(`${label}: destination`)).addTo(map);
    bounds.extend(route.points);
    drawn++;
  });
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
  else map.setView([0, 0], 2);
  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    let shown = 0;
    for (const r of byId.values()) {
      if (shown++ === LEGEND_ROWS) {
        L.DomUtil.create("div", "", div).textContent = `and ${byId.size - LEGEND_ROWS} more`;
        break;
      }
      const row = L.DomUtil.create("div", "", div);
      const sw = L.DomUtil.create("i", "", row);
      sw.style.background = r.colour;
      row.append(r.label);
    }
    return div;
  };
  if (byId.size) legend.addTo(map);
  return drawn;
}

async function main() {
  const { config, routes } = await loadCatalogue();
  const interval = Number.isFinite(config.interval_ms) && config.interval_ms > 0 ? config.interval_ms : 500;
  const map = L.map("map", { zoomAnimation: false, preferCanvas: true });
  const tiles = typeof config.tiles === "string" ? config.tiles : "";
  if (tiles) {
    L.tileLayer(tiles, {
      attribution: typeof config.attribution === "string" ? config.attribution : "",
      maxZoom: 19,
    }).addTo(map);
  }
  const byId = new Map();
  const routesDrawn = drawRoutes(map, routes, byId);
  const fleet = new Fleet(interval);
  const layer = new VehicleLayer(map, fleet, byId, UNKNOWN_ROUTE);
  const notices = new Notices(byId);
  const select = (id) => {
    layer.select(id);
    list.select(id);
  };
  const list = new DeliveryList(fleet, byId, UNKNOWN_ROUTE, (id) => {
    select(id);
    const rec = fleet.vehicles.get(id);
    if (rec) map.panTo([rec.lat, rec.lng]);
  });
  map.on("click", (e) => {
    const rec = layer.vehicleAt(e.containerPoint);
    select(rec ? rec.id : null);
  });
  startControl(routes, (clientId) => select(clientId));

  const stats = { lastSeq: null, snapshots: 0, updates: 0, bad: 0, gaps: 0, asked: 0 };
  let askedAt = -Infinity;
  const onFinished = (rec) => notices.finished(rec);
  const conn = new Connection(
    wsURL(),
    showConnection,
    (text) => {
      let msg;
      try {
        msg = JSON.parse(text);
      } catch {
        stats.bad++;
        return;
      }
      if (!msg || !Array.isArray(msg.vehicles)) {
        stats.bad++;
        return;
      }
      const now = performance.now();
      if (msg.type === "snapshot") {
        fleet.snapshot(msg.vehicles, now, onFinished);
        stats.snapshots++;
      } else if (msg.type === "update") {
        // An update is made for a page that has generation `since`
        // (older trackers: seq - 1); from any other, frames were lost:
        // ask for a snapshot (rarely).
        // A move of a vehicle the page does not have means the same.
        const since = Number.isInteger(msg.since) ? msg.since : msg.seq - 1;
        const strangers = fleet.update(msg.vehicles, Array.isArray(msg.removed) ? msg.removed : [], now, onFinished);
        if ((stats.lastSeq !== null && since !== stats.lastSeq) || strangers > 0) {
          stats.gaps++;
          if (now - askedAt > SNAPSHOT_ASK_EVERY_MS && conn.send({ type: "snapshot" })) {
            askedAt = now;
            stats.asked++;
          }
        }
        stats.updates++;
      } else {
        stats.bad++;
        return;
      }
      if (Number.isInteger(msg.seq)) stats.lastSeq = msg.seq;
    },
  );
  conn.start();

  const drawnOf = (rec) => {
    const ll = map.unproject([rec.x, rec.y], 0);
    return { lat: ll.lat, lng: ll.lng, x: rec.sx, y: rec.sy };
  };
  const hook = {
    get routes() { return byId.size; },
    get routesDrawn() { return routesDrawn; },
    get vehicles() { return fleet.vehicles.size; },
    get finished() { return fleet.finished; },
    get state() { return conn.state; },
    get connections() { return conn.opened; },
    get lastSeq() { return stats.lastSeq; },
    get snapshots() { return stats.snapshots; },
    get updates() { return stats.updates; },
    get badFrames() { return stats.bad; },
    get seqGaps() { return stats.gaps; },
    get finishedNotices() { return notices.count; },
    get frames() { return layer.frames; },
    get drawnVehicles() { return layer.drawn; }, // on screen, last frame
    get intervalMs() { return interval; },
    get tiles() { return tiles; },
    get selected() { return layer.selected; },
    // A vehicle's last reported state and where the last frame drew it
    // (lat/lng of the marker's centre, and its container pixel x/y).
    vehicle(id) {
      const rec = fleet.vehicles.get(id);
      if (!rec) return null;
      return {
        id: rec.id, routeId: rec.routeId, lat: rec.lat, lng: rec.lng,
        point: rec.point, points: rec.points, finished: rec.finished,
        drawn: drawnOf(rec),
      };
    },
    // Where a lat/lng is in the map's container, in CSS pixels.
    containerPoint(lat, lng) {
      const p = map.latLngToContainerPoint([lat, lng]);
      return { x: p.x, y: p.y };
    },
    // The last (up to 1024) times one frame took to draw, in ms.
    drawTimes() {
      const n = Math.min(layer.drawCount, layer.drawMs.length);
      return Array.from(layer.drawMs.subarray(0, n));
    },
  };
  Object.freeze(hook);
  Object.defineProperty(window, "routesimMap", { value: hook, enumerable: true });
}

main();
