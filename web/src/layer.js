// The vehicle layer: one <canvas> over the map, redrawn on every animation
// frame while something moves, with every vehicle on it (never one DOM node
// per vehicle).  Vehicles are sorted into one bucket per route colour (and
// finished or not) and each bucket is one canvas path, filled once: far
// cheaper than one drawImage or one fill per vehicle.  Up to
// OUTLINES_UP_TO vehicles on screen are outlined circles; past that they
// are pixel-aligned squares, which a software rasteriser fills several
// times faster than circles (10,000 circles held headless chromium to
// 30 frames/s, squares to 60).  Vehicles off screen are skipped.
// The trail of a vehicle (its route's points 1..point, then the marker) is
// drawn for every vehicle while there are few of them, otherwise for the
// hovered and the selected one only.

import { worldX, worldY } from "./fleet.js";

const RADIUS = 5;
const ALL_TRAILS_UP_TO = 50;
const OUTLINES_UP_TO = 2000; // more on screen: plain squares
const SQUARE = 8;
const HIT_PIXELS = 10;

export class VehicleLayer {
  // routes: Map routeId -> { colour, wx[], wy[] } (route points in world
  // pixels); fallback: the colour of a vehicle whose route is unknown.
  constructor(map, fleet, routes, fallback) {
    this.map = map;
    this.fleet = fleet;
    this.routes = routes;
    this.fallback = fallback;
    this.hovered = null;
    this.selected = null;
    this.mouse = null;
    this.dirty = true;
    this.version = -1; // the fleet's version last drawn
    this.frames = 0;
    this.drawn = 0; // vehicles on screen in the last frame
    this.drawMs = new Float64Array(1024);
    this.drawCount = 0;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "vehicles";
    map.getContainer().appendChild(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.buckets = new Map(); // "routeId|finished" -> { colour, finished, xy, n }
    this.resize();
    map.on("resize", () => this.resize());
    map.on("move zoom viewreset", () => (this.dirty = true));
    map.on("mousemove", (e) => {
      this.mouse = e.containerPoint;
      this.dirty = true;
    });
    map.on("mouseout", () => {
      this.mouse = null;
      this.dirty = true;
    });
    const loop = (now) => {
      this.frame(now);
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  resize() {
    const size = this.map.getSize();
    this.dpr = window.devicePixelRatio || 1;
    this.width = size.x;
    this.height = size.y;
    this.canvas.width = Math.round(size.x * this.dpr);
    this.canvas.height = Math.round(size.y * this.dpr);
    this.canvas.style.width = size.x + "px";
    this.canvas.style.height = size.y + "px";
    this.dirty = true;
  }

  bucketFor(rec) {
    const key = `${rec.routeId}|${rec.finished}`;
    let b = this.buckets.get(key);
    if (!b) {
      const route = this.routes.get(rec.routeId);
      b = { colour: route ? route.colour : this.fallback, finished: rec.finished, xy: [], n: 0 };
      this.buckets.set(key, b);
    }
    rec.bucket = b; // the fleet resets it when the route or finished changes
    return b;
  }

  // One path of circles (or of squares when many), filled (and
  // outlined) at once.
  circles(xy, n, colour, finished, outline, r = RADIUS) {
    const g = this.ctx;
    g.beginPath();
    if (!outline && !finished) {
      const half = SQUARE / 2;
      for (let i = 0; i < n; i += 2)
        g.rect(Math.round(xy[i] - half), Math.round(xy[i + 1] - half), SQUARE, SQUARE);
    } else {
      for (let i = 0; i < n; i += 2) {
        g.moveTo(xy[i] + r, xy[i + 1]);
        g.arc(xy[i], xy[i + 1], r, 0, 2 * Math.PI);
      }
    }
    g.fillStyle = finished ? "#fff" : colour;
    g.fill();
    if (finished || outline) {
      g.lineWidth = finished ? 3 : 1.5;
      g.strokeStyle = finished ? colour : "#fff";
      g.stroke();
    }
  }

  // The vehicle drawn nearest a container point, within HIT_PIXELS.
  vehicleAt(p) {
    let best = null;
    let bestD = HIT_PIXELS * HIT_PIXELS;
    for (const rec of this.fleet.vehicles.values()) {
      const dx = rec.sx - p.x;
      const dy = rec.sy - p.y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = rec;
      }
    }
    return best;
  }

  select(id) {
    this.selected = id;
    this.dirty = true;
  }

  trail(rec, scale, ox, oy) {
    const route = this.routes.get(rec.routeId);
    if (!route || rec.point < 1) return;
    const g = this.ctx;
    const last = Math.min(rec.point, route.wx.length) - 1;
    g.beginPath();
    g.moveTo(route.wx[0] * scale + ox, route.wy[0] * scale + oy);
    for (let i = 1; i < last; i++)
      g.lineTo(route.wx[i] * scale + ox, route.wy[i] * scale + oy);
    g.lineTo(rec.sx, rec.sy);
    g.strokeStyle = route.colour;
    g.lineWidth = 5;
    g.lineCap = g.lineJoin = "round";
    g.stroke();
  }

  frame(now) {
    const fleet = this.fleet;
    if (!this.dirty && fleet.version === this.version && now > fleet.animatingUntil + 50) return;
    this.dirty = false;
    this.version = fleet.version;
    const t = performance.now();
    const map = this.map;
    const scale = Math.pow(2, map.getZoom());
    // The container position of one fixed point gives the offset of the
    // world pixels, whatever the pan (during a drag too).
    const ref = map.latLngToContainerPoint([0, 0]);
    const ox = ref.x - worldX(0) * scale;
    const oy = ref.y - worldY(0) * scale;
    const g = this.ctx;
    const w = this.width;
    const h = this.height;
    g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const d = RADIUS + 2;
    for (const b of this.buckets.values()) b.n = 0;
    let drawn = 0;
    for (const rec of fleet.vehicles.values()) {
      fleet.place(rec, now);
      const sx = rec.x * scale + ox;
      const sy = rec.y * scale + oy;
      rec.sx = sx;
      rec.sy = sy;
      if (sx < -d || sy < -d || sx > w + d || sy > h + d) continue;
      const b = rec.bucket || this.bucketFor(rec);
      b.xy[b.n++] = sx;
      b.xy[b.n++] = sy;
      drawn++;
    }
    const outline = drawn <= OUTLINES_UP_TO;
    for (const b of this.buckets.values())
      if (b.n) this.circles(b.xy, b.n, b.colour, b.finished, outline);
    this.drawn = drawn;
    this.hovered = this.mouse ? this.vehicleAt(this.mouse) : null;
    const trails = [];
    if (fleet.vehicles.size <= ALL_TRAILS_UP_TO) trails.push(...fleet.vehicles.values());
    else {
      if (this.hovered) trails.push(this.hovered);
      const sel = this.selected && fleet.vehicles.get(this.selected);
      if (sel && sel !== this.hovered) trails.push(sel);
    }
    if (trails.length) {
      g.globalAlpha = 0.6;
      for (const rec of trails) this.trail(rec, scale, ox, oy);
      g.globalAlpha = 1;
      // Markers again on top of the trails.
      for (const rec of trails)
        this.circles([rec.sx, rec.sy], 2, this.bucketFor(rec).colour, rec.finished, true);
    }
    for (const rec of [this.hovered, this.selected && fleet.vehicles.get(this.selected)]) {
      if (!rec) continue;
      g.beginPath();
      g.arc(rec.sx, rec.sy, RADIUS + 4, 0, 2 * Math.PI);
      g.lineWidth = 2;
      g.strokeStyle = "#1d2329";
      g.stroke();
    }
    this.frames++;
    this.drawMs[this.drawCount++ % this.drawMs.length] = performance.now() - t;
  }
}
