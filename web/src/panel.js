// The side panel and header controls: the list of deliveries (a bounded
// number of rows, reused), the "finished" notices, the start control and
// the connection indicator.  Text from the tracker is only ever set with
// textContent.

const LIST_ROWS = 100;
const NOTICES = 5;
const NOTICE_MS = 10000;
const LIST_EVERY_MS = 250;

export function routeLabel(route) {
  return route.title ? `${route.id} · ${route.title}` : route.id;
}

function el(tag, className) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  return e;
}

// "k/n"; the tracker sends 0 for what it does not know.
function progress(rec) {
  if (rec.points > 0) return `${rec.point || "?"}/${rec.points}`;
  return rec.point > 0 ? `point ${rec.point}` : "";
}

export class DeliveryList {
  // routes: Map routeId -> { label, colour }; onSelect(clientId).
  constructor(fleet, routes, fallback, onSelect) {
    this.fleet = fleet;
    this.routes = routes;
    this.fallback = fallback;
    this.list = document.getElementById("list");
    this.title = document.getElementById("list-title");
    this.more = document.getElementById("list-more");
    this.rows = [];
    this.shown = -1;
    this.selected = null;
    this.list.addEventListener("click", (e) => {
      const li = e.target.closest("li");
      if (li && li.dataset.id) onSelect(li.dataset.id);
    });
    setInterval(() => this.render(), LIST_EVERY_MS);
  }

  row(i) {
    while (this.rows.length <= i) {
      const li = el("li");
      const r = {
        li,
        swatch: el("span", "swatch"),
        who: el("span", "who"),
        progress: el("span", "progress"),
        bar: el("span"),
      };
      const bar = el("div", "bar");
      bar.appendChild(r.bar);
      li.append(r.swatch, r.who, r.progress, bar);
      this.rows.push(r);
    }
    return this.rows[i];
  }

  select(id) {
    this.selected = id;
    this.shown = -1;
    this.render();
  }

  render() {
    const fleet = this.fleet;
    if (fleet.version === this.shown) return;
    this.shown = fleet.version;
    const total = fleet.vehicles.size;
    const moving = total - fleet.finished;
    this.title.textContent = `Deliveries: ${moving} moving, ${fleet.finished} finished`;
    let i = 0;
    for (const rec of fleet.vehicles.values()) {
      if (i === LIST_ROWS) break;
      const r = this.row(i++);
      const route = this.routes.get(rec.routeId);
      const colour = route ? route.colour : this.fallback;
      r.li.dataset.id = rec.id;
      r.li.className = (rec.finished ? "finished" : "") + (rec.id === this.selected ? " selected" : "");
      r.swatch.style.background = colour;
      r.who.textContent = `${rec.id} · route ${route ? route.label : rec.routeId || "?"}`;
      r.progress.textContent = (rec.finished ? "finished " : "") + progress(rec);
      r.bar.style.background = colour;
      r.bar.style.width = rec.points > 0 ? `${(100 * rec.point) / rec.points}%` : "0";
      if (r.li.parentNode !== this.list) this.list.appendChild(r.li);
    }
    for (let j = i; j < this.rows.length && this.rows[j].li.parentNode; j++) this.rows[j].li.remove();
    this.more.hidden = total <= LIST_ROWS;
    this.more.textContent = `showing the first ${LIST_ROWS} of ${total}`;
  }
}

export class Notices {
  constructor(routes) {
    this.routes = routes;
    this.ul = document.getElementById("notices");
    this.count = 0; // finished notices raised so far
  }

  finished(rec) {
    this.count++;
    const route = this.routes.get(rec.routeId);
    const li = el("li");
    li.dataset.id = rec.id;
    li.textContent = `${rec.id} finished route ${route ? route.label : rec.routeId || "?"}`;
    this.ul.prepend(li);
    while (this.ul.children.length > NOTICES) this.ul.lastElementChild.remove();
    setTimeout(() => li.remove(), NOTICE_MS);
  }
}

// The indicator in the header.
export function showConnection(state, retryMs) {
  const conn = document.getElementById("conn");
  conn.dataset.state = state;
  if (state === "connected") conn.textContent = "live";
  else if (state === "connecting") conn.textContent = "connecting…";
  else conn.textContent = `disconnected, retrying in ${(retryMs / 1000).toFixed(1)} s`;
}

// The start control: POST /api/deliveries {"routeId": ...}; shows the
// clientId the tracker returns, or its error.
export function startControl(routes, onStarted) {
  const form = document.getElementById("start");
  const select = document.getElementById("start-route");
  const button = document.getElementById("start-button");
  const out = document.getElementById("start-result");
  for (const route of routes) {
    const o = el("option");
    o.value = route.id;
    o.textContent = routeLabel(route);
    select.appendChild(o);
  }
  select.disabled = button.disabled = routes.length === 0;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    out.className = "";
    out.textContent = "starting…";
    try {
      const res = await fetch("api/deliveries", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ routeId: select.value }),
      });
      let body = null;
      try {
        body = await res.json();
      } catch {
        body = null;
      }
      if (res.ok && body && typeof body.clientId === "string") {
        out.textContent = `started ${body.clientId}`;
        onStarted(body.clientId);
      } else {
        out.className = "error";
        const reason = body && typeof body.error === "string" ? body.error : res.statusText;
        out.textContent = `error ${res.status}: ${reason}`;
      }
    } catch (err) {
      out.className = "error";
      out.textContent = `error: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
}
