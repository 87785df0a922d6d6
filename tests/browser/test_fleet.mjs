// Unit tests of the page's fleet model (web/src/fleet.js), in node:
//   node --test tests/browser/test_fleet.mjs      (ctest: web_fleet)
import assert from "node:assert/strict";
import { test } from "node:test";
import { Fleet, isMove, isVehicle, worldX, worldY } from "../../web/src/fleet.js";

const v = (id, lat, lng, k, n = 10, fin = false, route = "1") => [id, route, lat, lng, k, n, fin];

test("Leaflet's EPSG:3857 at zoom 0", () => {
  assert.equal(worldX(-180), 0);
  assert.equal(worldX(0), 128);
  assert.equal(worldY(0), 128);
  assert.ok(Math.abs(worldY(85.0511287798)) < 1e-6);
  assert.equal(worldY(90), worldY(85.0511287798)); // clamped
});

test("tuples: bad ones are refused", () => {
  assert.ok(isVehicle(v("a", 1, 2, 1)));
  assert.ok(isVehicle(["a", "", 1, 2, 0, 0, false]));
  for (const bad of [null, [], ["a", "1", 1, 2, 1, 10], ["", "1", 1, 2, 1, 10, false],
    ["a", 1, 1, 2, 1, 10, false], ["a", "1", "1", 2, 1, 10, false], ["a", "1", 1, NaN, 1, 10, false],
    ["a", "1", 1, 2, 1.5, 10, false], ["a", "1", 1, 2, 1, 10, "true"]])
    assert.equal(isVehicle(bad), false, JSON.stringify(bad));
});

test("a move is interpolated over one interval, from where it is drawn", () => {
  const f = new Fleet(500);
  f.update([v("a", 0, 0, 1)], [], 1000, () => {});
  const rec = f.vehicles.get("a");
  f.place(rec, 1000);
  assert.deepEqual([rec.x, rec.y], [128, 128]); // a new vehicle is not animated
  f.update([v("a", 0, 10, 2)], [], 2000, () => {});
  f.place(rec, 2250);
  assert.ok(Math.abs(rec.x - (128 + worldX(10)) / 2) < 1e-9, `half way: ${rec.x}`);
  // A new position half way through: it goes on from the drawn point.
  f.update([v("a", 0, 20, 3)], [], 2250, () => {});
  f.place(rec, 2250);
  assert.ok(Math.abs(rec.x - (128 + worldX(10)) / 2) < 1e-9, "no jump");
  f.place(rec, 2750);
  assert.equal(rec.x, worldX(20));
  f.place(rec, 99999);
  assert.equal(rec.x, worldX(20));
  assert.equal(f.animatingUntil, 2750);
});

test("finished: reported once per vehicle, counted", () => {
  const f = new Fleet(500);
  const done = [];
  const cb = (rec) => done.push(rec.id);
  f.update([v("a", 0, 0, 9), v("b", 0, 0, 10, 10, true)], [], 0, cb);
  assert.deepEqual(done, ["b"]);
  f.update([v("a", 0, 1, 10, 10, true)], [], 1, cb);
  f.update([v("a", 0, 1, 10, 10, true)], [], 2, cb);
  assert.deepEqual(done, ["b", "a"]);
  assert.equal(f.finished, 2);
  f.update([], ["a", "nobody", 7], 3, cb);
  assert.equal(f.finished, 1);
  assert.equal(f.vehicles.size, 1);
});

test("a snapshot replaces the fleet; updates merge", () => {
  const f = new Fleet(500);
  const cb = () => {};
  f.update([v("a", 0, 0, 1), v("b", 0, 0, 1)], [], 0, cb);
  f.snapshot([v("b", 0, 1, 2), v("c", 0, 0, 1), ["bad"]], 10, cb);
  assert.deepEqual([...f.vehicles.keys()], ["b", "c"]);
  assert.equal(f.vehicles.get("b").point, 2);
  f.update([v("d", 0, 0, 1)], [], 20, cb);
  assert.deepEqual([...f.vehicles.keys()], ["b", "c", "d"]);
});

test("moves: [id, lat, lng, point] of a known vehicle keeps its route, n and finished", () => {
  const f = new Fleet(500);
  const cb = () => {};
  assert.ok(isMove(["a", 1, 2, 3]));
  for (const bad of [["a", 1, 2], ["a", "1", 2, 3], [1, 1, 2, 3], ["a", 1, NaN, 3], ["a", 1, 2, 1.5]])
    assert.equal(isMove(bad), false, JSON.stringify(bad));
  f.update([v("a", 0, 0, 1, 9, false, "7")], [], 0, cb);
  assert.equal(f.update([["a", 1, 2, 3]], [], 10, cb), 0);
  const rec = f.vehicles.get("a");
  assert.deepEqual([rec.routeId, rec.lat, rec.lng, rec.point, rec.points, rec.finished], ["7", 1, 2, 3, 9, false]);
  // A move of a vehicle the page does not have: counted, not invented.
  assert.equal(f.update([["zz", 1, 2, 3], ["a", 1, 3, 4]], [], 20, cb), 1);
  assert.equal(f.vehicles.has("zz"), false);
  assert.equal(f.vehicles.get("a").point, 4);
});
