"""Discovery's readers of the compute, network and volume documents (no cloud needed)."""

from __future__ import annotations

from tcup.discovery import _aliases, _microversions, _zones


def test_version_documents_give_the_microversion_range() -> None:
    nova = {
        "versions": [
            {"id": "v2.0", "version": "", "min_version": ""},
            {"id": "v2.1", "version": "2.104", "min_version": "2.1"},
        ]
    }
    assert _microversions(nova, "v2.1") == {"min": "2.1", "max": "2.104"}
    assert _microversions(nova, "v3.0") == {} and _microversions({"versions": "nonsense"}, "v2.1") == {}
    zones = {
        "availabilityZoneInfo": [
            {"zoneName": "nova", "zoneState": {"available": True}},
            {"zoneName": "down", "zoneState": {"available": False}},
        ]
    }
    assert _zones(zones) == ["nova"] and _zones(None) == []
    assert _aliases({"extensions": [{"alias": "trunk"}, {"alias": "router"}, {"name": "x"}]}) == ["router", "trunk"]
