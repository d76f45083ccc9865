"""Journeys' writes: versions (publish, move), the engine (enter, run), the triggers
(moments and daily sweeps), the tick, gold price alerts."""
