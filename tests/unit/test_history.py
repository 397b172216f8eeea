"""History payloads: JSON text exactly as json.dumps writes it compactly."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.asl import history

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_to_json_is_compact_json_dumps(value):
    assert history.to_json(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_to_json_refuses_what_json_refuses():
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        history.to_json({"a": object()})
