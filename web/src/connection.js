// The WebSocket to the tracker (/ws on the page's own host), reconnecting
// by itself: after a close it waits 0.5 s, 1 s, 2 s, ... up to 10 s (each
// with +-20 % jitter so that many pages do not come back at once), and
// starts again from 0.5 s once a connection has opened.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;

export class Connection {
  // onState(state, retryMs): "connecting" | "connected" | "disconnected";
  // onMessage(text).
  constructor(url, onState, onMessage) {
    this.url = url;
    this.onState = onState;
    this.onMessage = onMessage;
    this.attempt = 0;
    this.ws = null;
    this.state = "connecting";
    this.opened = 0; // connections opened so far
  }

  start() {
    this.setState("connecting", 0);
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.opened++;
      this.setState("connected", 0);
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") this.onMessage(e.data);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.retry();
    };
  }

  retry() {
    const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.attempt++;
    this.setState("disconnected", delay);
    setTimeout(() => this.start(), delay);
  }

  setState(state, retryMs) {
    this.state = state;
    this.onState(state, retryMs);
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }
}
