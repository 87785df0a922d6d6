// The fleet: every vehicle the tracker reported, and where to draw it now.
//
// A vehicle arrives as the tracker's 7-element tuple
// [clientId, routeId, lat, lng, point, points, finished], or, in an
// update, as a move [clientId, lat, lng, point] of a vehicle the page
// already has (its route, length and finished are as they were).  Positions are
// kept in Web Mercator "world" pixels at zoom 0 (what Leaflet's
// map.project(latlng, 0) gives), so drawing at any zoom is one multiply and
// one add.  A vehicle moves in a straight line from where it was drawn when
// a new position came to that position, over one position interval: the
// marker glides along the route instead of jumping every interval.

export const V_ID = 0;
export const V_ROUTE = 1;
export const V_LAT = 2;
export const V_LNG = 3;
export const V_POINT = 4;
export const V_POINTS = 5;
export const V_FINISHED = 6;

const MAX_LAT = 85.0511287798;

// Leaflet's EPSG:3857 projection at zoom 0 (256 pixels around the world).
export function worldX(lng) {
  return 256 * (lng / 360 + 0.5);
}

export function worldY(lat) {
  const phi = (Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180;
  const s = Math.sin(phi);
  return 256 * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI));
}

export function isVehicle(v) {
  return (
    Array.isArray(v) &&
    v.length >= 7 &&
    typeof v[V_ID] === "string" &&
    v[V_ID] !== "" &&
    typeof v[V_ROUTE] === "string" &&
    Number.isFinite(v[V_LAT]) &&
    Number.isFinite(v[V_LNG]) &&
    Number.isInteger(v[V_POINT]) &&
    Number.isInteger(v[V_POINTS]) &&
    typeof v[V_FINISHED] === "boolean"
  );
}

export function isMove(v) {
  return (
    Array.isArray(v) &&
    v.length === 4 &&
    typeof v[0] === "string" &&
    Number.isFinite(v[1]) &&
    Number.isFinite(v[2]) &&
    Number.isInteger(v[3])
  );
}

export class Fleet {
  constructor(intervalMs) {
    this.intervalMs = intervalMs > 0 ? intervalMs : 500;
    this.vehicles = new Map(); // clientId -> record, in arrival order
    this.animatingUntil = 0; // no vehicle moves after this time
    this.version = 0; // bumped on every change the list shows
    this.finished = 0; // vehicles currently finished
  }

  // Where the vehicle is drawn at time now, into rec.x / rec.y.
  place(rec, now) {
    let f = (now - rec.t0) / this.intervalMs;
    if (f >= 1 || f < 0) f = 1;
    rec.x = rec.x0 + (rec.x1 - rec.x0) * f;
    rec.y = rec.y0 + (rec.y1 - rec.y0) * f;
  }

  // One vehicle tuple; returns true when it has just finished.
  apply(v, now) {
    const id = v[V_ID];
    const x = worldX(v[V_LNG]);
    const y = worldY(v[V_LAT]);
    let rec = this.vehicles.get(id);
    let justFinished = v[V_FINISHED];
    if (rec) {
      justFinished = v[V_FINISHED] && !rec.finished;
      if (rec.finished) this.finished--;
      this.place(rec, now);
      rec.x0 = rec.x;
      rec.y0 = rec.y;
    } else {
      rec = { id, x0: x, y0: y, x, y, sx: NaN, sy: NaN, bucket: null };
      this.vehicles.set(id, rec);
    }
    // The layer's drawing bucket depends on these two.
    if (rec.routeId !== v[V_ROUTE] || rec.finished !== v[V_FINISHED]) rec.bucket = null;
    rec.routeId = v[V_ROUTE];
    rec.lat = v[V_LAT];
    rec.lng = v[V_LNG];
    rec.point = v[V_POINT];
    rec.points = v[V_POINTS];
    rec.finished = v[V_FINISHED];
    if (rec.finished) this.finished++;
    rec.x1 = x;
    rec.y1 = y;
    rec.t0 = now;
    if (rec.x0 !== x || rec.y0 !== y)
      this.animatingUntil = Math.max(this.animatingUntil, now + this.intervalMs);
    this.version++;
    return justFinished;
  }

  remove(id) {
    const rec = this.vehicles.get(id);
    if (!rec) return false;
    if (rec.finished) this.finished--;
    this.vehicles.delete(id);
    this.version++;
    return true;
  }

  // A snapshot replaces the state: vehicles it lacks are forgotten, the
  // others move on from where they are drawn.  Calls onFinished(rec) for
  // each vehicle that has just finished.
  snapshot(list, now, onFinished) {
    const seen = new Set();
    for (const v of list) {
      if (!isVehicle(v)) continue;
      seen.add(v[V_ID]);
      if (this.apply(v, now)) onFinished(this.vehicles.get(v[V_ID]));
    }
    for (const id of [...this.vehicles.keys()])
      if (!seen.has(id)) this.remove(id);
    this.version++;
  }

  // Returns how many moves named a vehicle the page does not have (frames
  // were lost: the caller asks for a snapshot).
  update(list, removed, now, onFinished) {
    let strangers = 0;
    for (let v of list) {
      if (isMove(v)) {
        const rec = this.vehicles.get(v[0]);
        if (!rec) {
          strangers++;
          continue;
        }
        v = [v[0], rec.routeId, v[1], v[2], v[3], rec.points, rec.finished];
      }
      if (!isVehicle(v)) continue;
      if (this.apply(v, now)) onFinished(this.vehicles.get(v[V_ID]));
    }
    for (const id of removed) if (typeof id === "string") this.remove(id);
    return strangers;
  }
}
