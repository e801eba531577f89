// Token expiry on a FakeClock: a token is kept until its margin before expiry, no sleeping.
#include "wharf/registry/token_cache.h"

#include <gtest/gtest.h>

#include "wharf/base/clock.h"

namespace wharf::registry {
namespace {

using std::chrono::seconds;

TEST(TokenCacheTest, ATokenExpiresItsMarginBeforeItsLifetimeOnTheClock) {
  FakeClock clock;
  TokenCache cache(clock);
  cache.Put("r.example", "repository:a:pull", "long", seconds(300));
  cache.Put("r.example", "repository:b:pull", "short", seconds(4));
  EXPECT_EQ(cache.Get("r.example", "repository:a:pull"), "long");
  EXPECT_EQ(cache.Get("r.example", "repository:b:pull"), "short");
  EXPECT_EQ(cache.Get("other.example", "repository:a:pull"), std::nullopt);

  // A 4 s token loses half its life (2 s) as margin; a 300 s one 10 s.
  clock.Advance(seconds(1));
  EXPECT_EQ(cache.Get("r.example", "repository:b:pull"), "short");
  clock.Advance(seconds(1));
  EXPECT_EQ(cache.Get("r.example", "repository:b:pull"), std::nullopt);
  clock.Advance(seconds(287));  // 289 s in
  EXPECT_EQ(cache.Get("r.example", "repository:a:pull"), "long");
  clock.Advance(seconds(1));
  EXPECT_EQ(cache.Get("r.example", "repository:a:pull"), std::nullopt);

  // Only steady time counts: the operator setting the wall clock back changes nothing.
  cache.Put("r.example", "repository:a:pull", "again", seconds(60));
  clock.SetNowSeconds(FakeClock::kDefaultStart - 3600);
  EXPECT_EQ(cache.Get("r.example", "repository:a:pull"), "again");
  cache.Drop("r.example", "repository:a:pull");
  EXPECT_EQ(cache.Get("r.example", "repository:a:pull"), std::nullopt);
}

}  // namespace
}  // namespace wharf::registry
