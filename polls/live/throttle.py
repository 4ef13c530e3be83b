"""The sign-in throttle: back-off per account and a limit per address, counted in Redis."""

from __future__ import annotations

from redis.asyncio import Redis

# One step, so concurrent attempts cannot all pass the check before any of them is counted:
# check the address's window and the account's back-off, then count the attempt against both.
# KEYS: account failures, account's next allowed time (ms), address failures.
# ARGV: free attempts, window (s), longest back-off (s), address limit.
# Returns 0 when the attempt may go ahead, else the seconds to wait (nothing counted).
_ADMIT = """
local free, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap, address_limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(redis.call('GET', KEYS[3]) or '0') >= address_limit then
  return math.max(redis.call('TTL', KEYS[3]), 1)
end
local fails = tonumber(redis.call('GET', KEYS[1]) or '0')
local next_at = tonumber(redis.call('GET', KEYS[2]) or '0')
if fails >= free and now < next_at then
  return math.ceil((next_at - now) / 1000)
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], window) end
if redis.call('INCR', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], window) end
if fails + 1 >= free then
  local delay = math.min(cap, 2 ^ (fails + 1 - free)) * 1000
  redis.call('SET', KEYS[2], now + delay, 'PX', window * 1000)
end
return 0
"""

# A success: clear the account's back-off and take back the address's count (if its window
# has not ended meanwhile, which would leave a count of -1 that never expires).
_SUCCEEDED = """
redis.call('DEL', KEYS[1], KEYS[2])
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then redis.call('DECR', KEYS[3]) end
return 0
"""


class SignInThrottle:
    """Slows password guessing without letting anyone lock an officer out.

    Per account: the first ``free`` failures within ``window`` seconds are checked at once;
    after that each attempt waits 1, 2, 4 ... seconds after the one before, never more than
    ``longest_wait``, so a guesser gets about one guess a minute and the officer waits no
    more than that. Per address: at most ``address_limit`` failures within ``window`` (that
    only stops the sender). Attempts are counted before the password is checked; a success
    takes its count back and clears the account's back-off.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        free: int,
        window: int,
        address_limit: int,
        longest_wait: int = 60,
    ) -> None:
        self.redis = redis
        self.free = free
        self.window = window
        self.address_limit = address_limit
        self.longest_wait = longest_wait
        self._admit = redis.register_script(_ADMIT)
        self._succeeded = redis.register_script(_SUCCEEDED)

    @staticmethod
    def _keys(account: str, address: str) -> list[str]:
        prefix = "throttle:signin:"
        return [f"{prefix}email:{account}", f"{prefix}next:{account}", f"{prefix}ip:{address}"]

    async def admit(self, account: str, address: str) -> int:
        """0 when this attempt may go ahead (it is counted), else the seconds to wait."""
        args = [self.free, self.window, self.longest_wait, self.address_limit]
        wait = await self._admit(keys=self._keys(account, address), args=args, client=self.redis)
        return int(wait)

    async def succeeded(self, account: str, address: str) -> None:
        """Only failures count: an office signing many officers in from one address is fine."""
        await self._succeeded(keys=self._keys(account, address), client=self.redis)


# Count the request against every key at once, unless one is at its limit already (then nothing
# is counted): a burst gets no more than the limit, however many arrive together.
# KEYS: the counters. ARGV: limit, window (s). Returns 0, else the seconds to wait.
_TAKE = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[1]) then
    return math.max(redis.call('TTL', key), 1)
  end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, tonumber(ARGV[2])) end
end
return 0
"""


class LinkThrottle:
    """At most ``limit`` requests per key within ``window`` seconds (a fixed window shared by
    the instances): for links sent by email or text message, so nobody can flood an inbox or
    use the service to send messages to strangers."""

    def __init__(self, redis: Redis, name: str, *, limit: int, window: int) -> None:
        self.redis = redis
        self.name = name
        self.limit = limit
        self.window = window
        self._take = redis.register_script(_TAKE)

    async def take(self, *keys: str) -> int:
        """0 when the request may go ahead (it is counted against every key), else the
        seconds to wait."""
        names = [f"throttle:{self.name}:{key}" for key in keys]
        wait = await self._take(keys=names, args=[self.limit, self.window], client=self.redis)
        return int(wait)
