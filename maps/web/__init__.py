"""Offline web maps: folium pages with Leaflet and plugins inlined, tiled parcel layers."""
