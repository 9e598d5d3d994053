"""Enrichers: what fills in what an asset is (ffprobe, the file name, its sidecar files)."""
