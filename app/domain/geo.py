"""Distances between places (great-circle, with a road factor for travel estimates)."""

from __future__ import annotations

from functools import lru_cache
from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0
# Roads are longer than the straight line; 1.3 is the usual factor for French départements.
ROAD_FACTOR = 1.3


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Straight-line distance in kilometres."""
    phi1, phi2 = radians(lat1), radians(lat2)
    dphi, dlambda = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(dphi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(a))


@lru_cache(maxsize=65536)
def road_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Estimated road distance in kilometres (remembered: the rules ask it for each start time of a pair)."""
    return haversine_km(lat1, lon1, lat2, lon2) * ROAD_FACTOR
