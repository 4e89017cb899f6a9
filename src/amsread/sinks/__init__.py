"""Destinations that ``amsread run`` feeds: MQTT (with Home Assistant discovery) and friends."""
