"""core.cache.ProcessCache: a hit within max_age, a reload after it or after forget."""

from core.cache import ProcessCache


def test_core_cache_hits_then_reloads_after_forget_and_age():
    cache = ProcessCache(max_age=60.0)
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert cache.get_or_load("k", load) == (1, False)
    assert cache.get_or_load("k", load) == (1, True)
    cache.forget("k")
    assert cache.get_or_load("k", load) == (2, False)
    cache.max_age = 0.0  # everything is older than no time at all
    assert cache.get_or_load("k", load) == (3, False)


def test_core_cache_a_failed_load_caches_nothing():
    cache = ProcessCache()

    def fail():
        raise LookupError("nothing here")

    for _ in range(2):
        try:
            cache.get_or_load("k", fail)
        except LookupError:
            pass
    assert cache.get_or_load("k", lambda: "v") == ("v", False)
