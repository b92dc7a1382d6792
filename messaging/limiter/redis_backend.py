"""The Redis backend: one Lua script per acquire, atomic across every process and machine.

Each rule keeps two keys under the prefix: `<prefix><key>:z`, a sorted set of admissions
(member "<seq>:<cost>", score = admission time in ms), and `<prefix><key>:h`, a hash holding the
live total and the member sequence. The script drops the admissions that left the window
(subtracting them from the total), refuses with the longest wait if any rule lacks room, and
otherwise records the admission under every rule. Both keys expire twice the window after the
last admission (hosts' clocks may disagree a little), so nothing lingers. All keys of one
acquire are touched by one script, so a Redis Cluster would need them in one hash slot.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis
from django.conf import settings

from core.redis import redis_client

from .base import ALLOWED, Decision, LimiterUnavailable, Rule, RuleUsage, check_acquire, now_ms

logger = logging.getLogger(__name__)

# KEYS: per rule its zset and its hash. ARGV: now_ms, then per rule limit, window_ms, cost.
# Returns {1} when admitted, else {0, index of the blocking rule (1-based), wait in ms}.
ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local n = #KEYS / 2
local totals = {}
local worst, worst_wait = 0, -1
local function cost_of(member) return tonumber(string.match(member, ':(%d+)$')) end
for i = 1, n do
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, window = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local cost = tonumber(ARGV[3 * i + 1])
  local total = tonumber(redis.call('HGET', h, 'total') or '0')
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', now - window)
  if #gone > 0 then
    for _, member in ipairs(gone) do total = total - cost_of(member) end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now - window)
    redis.call('HSET', h, 'total', total)
  end
  totals[i] = total
  if total + cost > limit then
    local need, freed, wait, start = total + cost - limit, 0, window, 0
    while freed < need do
      local batch = redis.call('ZRANGE', z, start, start + 99, 'WITHSCORES')
      if #batch == 0 then break end
      for j = 1, #batch, 2 do
        freed = freed + cost_of(batch[j])
        if freed >= need then wait = tonumber(batch[j + 1]) + window - now; break end
      end
      start = start + 100
    end
    if wait > worst_wait then worst, worst_wait = i, wait end
  end
end
if worst > 0 then return {0, worst, worst_wait} end
for i = 1, n do
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local window, cost = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local seq = redis.call('HINCRBY', h, 'seq', 1)
  redis.call('ZADD', z, now, seq .. ':' .. cost)
  redis.call('HSET', h, 'total', totals[i] + cost)
  redis.call('PEXPIRE', z, 2 * window + 1000)
  redis.call('PEXPIRE', h, 2 * window + 1000)
end
return {1}
"""

# Read-only: KEYS are the rules' zsets, ARGV now_ms then each window_ms. Returns per rule
# {units in the window, oldest admission still in it or -1}: the members the acquire script
# would keep (score > now - window), whether or not an acquire has trimmed the rest yet.
USAGE_LUA = """
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local live = redis.call('ZRANGEBYSCORE', KEYS[i], '(' .. (now - tonumber(ARGV[i + 1])),
                          '+inf', 'WITHSCORES')
  local used, oldest = 0, -1
  for j = 1, #live, 2 do
    used = used + tonumber(string.match(live[j], ':(%d+)$'))
    if oldest < 0 then oldest = tonumber(live[j + 1]) end
  end
  out[i] = {used, oldest}
end
return out
"""


class RedisLimiter:
    """Sliding-window limits in Redis; fails closed (not allowed, retry soon) when Redis is
    down or hung, within the limiter's own short timeout, so no worker ever blocks on it.

    A timed-out script may still run when a hung Redis wakes (it was sent): that refusal then
    took its amount after all. The error is always towards sending less, never more.
    """

    def __init__(self, *, url: str | None = None, prefix: str | None = None,
                 timeout_s: float | None = None):
        timeout = (timeout_s if timeout_s is not None
                   else settings.MESSAGING_LIMITER_REDIS_TIMEOUT_S)
        self.client = redis_client(url, connect_timeout=timeout, socket_timeout=timeout)
        self.prefix = prefix if prefix is not None else settings.MESSAGING_LIMITER_REDIS_PREFIX
        self._script = self.client.register_script(ACQUIRE_LUA)
        self._usage_script = self.client.register_script(USAGE_LUA)

    def redis_keys(self, rule_key: str) -> tuple[str, str]:
        return f"{self.prefix}{rule_key}:z", f"{self.prefix}{rule_key}:h"

    def acquire(self, rules: Sequence[Rule], amount: int = 1) -> Decision:
        check_acquire(rules, amount)
        if not rules:
            return ALLOWED
        keys, args = [], [now_ms()]
        for rule in rules:
            keys.extend(self.redis_keys(rule.key))
            args.extend((rule.limit, rule.window_ms, rule.cost(amount)))
        try:
            answer = self._script(keys=keys, args=args)
        except redis.RedisError as exc:
            logger.warning("limiter: Redis did not answer (%s); refusing for now",
                           type(exc).__name__)
            return Decision(False, settings.MESSAGING_LIMITER_UNAVAILABLE_RETRY_S, None)
        if int(answer[0]) == 1:
            return ALLOWED
        return Decision(False, int(answer[2]) / 1000, rules[int(answer[1]) - 1].key)

    def usage(self, rules: Sequence[Rule]) -> list[RuleUsage]:
        """Each rule's units in its window now, read in one script that writes nothing;
        LimiterUnavailable when Redis does not answer within the limiter's timeout."""
        if not rules:
            return []
        now = now_ms()
        keys = [self.redis_keys(rule.key)[0] for rule in rules]
        try:
            answer = self._usage_script(keys=keys, args=[now, *(r.window_ms for r in rules)])
        except redis.RedisError as exc:
            raise LimiterUnavailable(f"Redis did not answer ({type(exc).__name__})") from exc
        return [RuleUsage(rule.key, rule.limit, rule.window_seconds, int(used),
                          None if int(oldest) < 0 else (int(oldest) + rule.window_ms - now) / 1000)
                for rule, (used, oldest) in zip(rules, answer, strict=True)]
