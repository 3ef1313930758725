"""Annotate real photographs taken from the station (issue 11).

This package sits above the seam: it consumes Scenes (`cupola.scene.compute_scene`) and the
camera model (`cupola.camera`), never what lies below them directly. Its modules:

- `metadata`   EXIF/TIFF capture time, camera body, lens, exposure and image size
  (`read_photo`, `PhotoMeta`, `load_pixels`, `camera_for`);
- `stars`      the sky mask and star detection on the photograph's pixels (`sky_mask`,
  `detect_stars`, `Sources`);
- `solve`      the plate solve of the detected stars (`solve_field`, `Solution`);
- `tracking`   whether the exposure was tracked on the stars (`tracking_verdict`, `Tracking`);
- `geolocate`  the camera's attitude in TEME from the solve, per-pixel latitude/longitude and
  the predicted limb (`attitude_from_icrs`, `pixel_latlon`, `predicted_limb`);
- `clock`      the camera-clock offset fitted on the limb (`fit_clock_offset`, `ClockFit`);
- `outputs`    the FITS WCS header, per-pixel lat/lon files, the overlay and the side-by-side;
- `annotate`   the pipeline that joins them (`annotate`, `Annotation`).

Nothing heavy is imported here: import the module you need.
"""
