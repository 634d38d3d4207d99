"""The case builder: one simulated incident, its world and its events."""

from __future__ import annotations

import numpy as np

from detector.simulate.events import Events
from detector.simulate.model import (
    SimParams,
    _Chat,
    _Clock,
    _Notice,
    _Post,
)
from detector.simulate.world import World

# --------------------------------------------------------------------------------------------
# the case builder

class _Case(World, Events):
    def __init__(self, seed: int, scenario: str, p: SimParams):
        self.seed = seed
        self.scenario = scenario
        self.p = p
        self.rng = np.random.default_rng(seed)
        self.clock = _Clock(p.tz, p.start, p.days)
        self._seq = 0
        self.notices: list[_Notice] = []
        self.down: dict[int, list[list[int]]] = {}   # video -> [[from, until], …] (until may be t1+)
        self.suspensions: list[list[int]] = []       # [from, until, channel]
        self.suspension_causes: list[str] = []       # campaign id or "organic", one per suspension
        self.strikes: dict[int, int] = {}            # channel -> strikes so far
        self.linked: dict[int, None] = {}            # videos linked in any post (ordered)
        self.campaigns: list[dict] = []
        self.organic: list[dict] = []
        self.failed: list[dict] = []
        self.other_calls: list[_Post] = []
        self.reactions: list[dict] = []              # posts reacting to an organic removal wave
        self.quotes: list[dict] = []                 # news posts quoting a call
        self.hidden: list[_Chat] = []                # chats with calls that are not exported
        self.spike_views: dict[int, dict[int, float]] = {}
        self.used: dict[int, None] = {}              # event targets, never removed by background
        self._make_subject()
        self._make_chats()

