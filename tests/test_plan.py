"""cupola.plan: the Scene's parts (what a search computes at each instant).
"""

from __future__ import annotations

import numpy as np
import pytest

from cupola.errors import InputError
from cupola.scene import SCENE_PARTS, compute_scene
from cupola.timebase import add_seconds


# -- the Scene's parts -----------------------------------------------------------------------------
def test_a_parts_series_equals_the_full_series_on_the_fields_it_computes():
    from test_seam import assert_same

    ts = add_seconds(np.datetime64("2021-05-02T06:00:00", "ns"), 97.0 * np.arange(40))
    full = compute_scene(ts)
    for parts in ({"lighting", "aurora"}, {"places"}, {"stars", "bodies"}, {"airglow", "cities"}, ()):
        s = compute_scene(ts, parts=parts)
        assert_same(s.state, full.state, "state")
        for name in SCENE_PARTS:
            if name in parts:
                assert_same(getattr(s, name), getattr(full, name), name)
            else:
                assert getattr(s, name) is None, name
        assert (s.aurora_note is None) == ("aurora" not in parts)
        one = s[7]  # a Scene of a parts series: the same fields, one instant
        assert (one.aurora is None) == ("aurora" not in parts) and (one.stars is None) == ("stars" not in parts)
    s = compute_scene(ts, parts=("places", "lighting"))
    assert list(s.caption("fr")) == list(full.caption("fr"))
    assert all(getattr(compute_scene(ts[:3], parts=None), n) is not None for n in SCENE_PARTS)
    with pytest.raises(InputError, match="the caption needs the scene's places and lighting") as e:
        compute_scene(ts[:3], parts={"aurora"}).caption()
    assert e.value.param == "parts"
    with pytest.raises(InputError, match="unknown scene part 'sky'; use any of lighting, places") as e:
        compute_scene(ts[:3], parts={"sky"})
    assert e.value.param == "parts"
