"""Fake Plex and Jellyfin servers for tests: real aiohttp HTTP servers on loopback, each in its
own thread and event loop (the importers' client is blocking), answering like the real APIs
and recording every request they had no answer for, so a test can fail on it."""
