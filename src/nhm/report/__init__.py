"""Reports: the main job `nhm analyze`, its JSON and figures."""
