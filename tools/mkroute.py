#!/usr/bin/env python3
"""Writes destinations/1.txt, 2.txt and 3.txt: routes through Brasília.

Each route starts and ends at the points the Code Delivery backend seeds
for routes 1-3 and follows a few street corners in between.  Points are
spaced STEP_M metres apart, what a vehicle at 36 km/h covers between two
positions sent every 0.5 s.  Coordinates are rounded to 5 decimals
(about 1 m), like the original route files.

Usage: tools/mkroute.py [DIR]   (default: destinations)
"""
import math
import os
import sys

STEP_M = 5.0
EARTH_M = 6371000.0

# (lat, lng) waypoints: seeded start, corners of our own choosing, seeded end.
ROUTES = {
    "1": [(-15.82594, -47.92923), (-15.82700, -47.92890),
          (-15.82860, -47.92840), (-15.82942, -47.92765)],
    "2": [(-15.82449, -47.92756), (-15.82560, -47.92760),
          (-15.82700, -47.92690), (-15.8276, -47.92621)],
    "3": [(-15.82331, -47.92588), (-15.82480, -47.92610),
          (-15.82640, -47.92560), (-15.82758, -47.92532)],
}


def metres(a, b):
    """Equirectangular distance; exact enough over a few hundred metres."""
    lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(lat) * EARTH_M
    dy = math.radians(b[0] - a[0]) * EARTH_M
    return math.hypot(dx, dy)


def points(waypoints):
    out = [waypoints[0]]
    for a, b in zip(waypoints, waypoints[1:]):
        steps = max(1, round(metres(a, b) / STEP_M))
        for i in range(1, steps + 1):
            t = i / steps
            out.append((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t))
    return out


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "destinations"
    os.makedirs(folder, exist_ok=True)
    for name, waypoints in ROUTES.items():
        pts = points(waypoints)
        lines = ["%s,%s" % (repr(round(lat, 5)), repr(round(lng, 5)))
                 for lat, lng in pts]
        with open(os.path.join(folder, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print("%s/%s.txt: %d points" % (folder, name, len(pts)))


if __name__ == "__main__":
    main()
