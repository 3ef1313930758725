"""Physical constants and conventions used across cupola: one place for each.

Units follow the house style: km, km/s, rad/s, degrees where the name says ``_deg``.
"""

from __future__ import annotations

# -- the Earth ----------------------------------------------------------------------------------
R_EARTH_KM = 6371.0088  # IUGG mean radius (Moritz 2000, "Geodetic Reference System 1980")
# WGS84 ellipsoid (NIMA TR8350.2).
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
# Opaque atmosphere above the ellipsoid that stars, planets and the Moon set behind. Rayleigh extinction along a
# tangent ray is ~ tau_zenith(h) * sqrt(2 pi R / H) with scale height H ~ 7 km: about one
# magnitude at a 20 km tangent height and several below 15 km, where refraction also
# flattens and dims stars (the "setting" seen by astronauts). 20 km is the edge used here.
ATMOSPHERE_KM = 20.0
# skyfield.constants.ERAD in km (IERS 2010 equatorial radius): the sphere of skyfield's
# is_sunlit, so cupola's geometric shadow model reproduces skyfield's orbital sunrise/sunset.
SKYFIELD_ERAD_KM = 6378.1366
EARTH_ROTATION_RAD_S = 7.2921150e-5  # IERS conventional mean angular velocity

# -- the Sun, the Moon, light ---------------------------------------------------------------------
AU_KM = 149_597_870.700  # IAU 2012 Resolution B2
C_KM_S = 299_792.458  # speed of light
C_AU_DAY = C_KM_S * 86_400.0 / AU_KM
SUN_RADIUS_KM = 695_700.0  # IAU 2015 Resolution B3 nominal
MOON_MEAN_DISTANCE_KM = 384_400.0
# Refractive index of sea water in the visible (fresh water 1.333 at 589 nm, sea water of salinity
# 35 about 1.339: Quan & Fry 1995, Appl. Opt. 34, 3477); the value of Cox & Munk's glint work.
WATER_REFRACTIVE_INDEX = 1.34

# -- darkness on the ground (Sun elevation at the point, geometric, deg) --------------------------
CIVIL_DARK_SUN_ELEV_DEG = -6.0  # end of civil twilight: city lights on, the ground "dark"
NAUTICAL_DARK_SUN_ELEV_DEG = -12.0  # end of nautical twilight: dark enough for aurora to show

ISS_NORAD_ID = 25544  # the International Space Station (Zarya, 1998-067A)

# -- element sets -------------------------------------------------------------------------------
STALE_AFTER_DAYS = 3.0  # answers warn beyond this age (the position is then uncertain by > ~25 km)
STALE_REFUSE_KM = 100.0  # and refuse where the position's uncertainty exceeds this (~4.8 days)

# -- units ----------------------------------------------------------------------------------------
KM_PER_MILE = 1.609344  # international statute mile

__all__ = [
    "R_EARTH_KM", "WGS84_A_KM", "WGS84_F", "WGS84_B_KM", "WGS84_E2", "SKYFIELD_ERAD_KM",
    "EARTH_ROTATION_RAD_S", "AU_KM", "C_KM_S", "C_AU_DAY", "SUN_RADIUS_KM", "MOON_MEAN_DISTANCE_KM", "WATER_REFRACTIVE_INDEX",
    "CIVIL_DARK_SUN_ELEV_DEG", "NAUTICAL_DARK_SUN_ELEV_DEG", "ISS_NORAD_ID", "STALE_AFTER_DAYS", "STALE_REFUSE_KM", "KM_PER_MILE",
]
