#include "wharf/api/connection_limits.h"

#include <gtest/gtest.h>

namespace wharf::api {
namespace {

TEST(ConnectionLimitsTest, PerClientAndTotal) {
  ConnectionLimits limits(/*total=*/3, /*per_client=*/2);
  EXPECT_FALSE(limits.Take("127.0.0.2"));
  EXPECT_FALSE(limits.Take("127.0.0.2"));
  auto over = limits.Take("127.0.0.2");  // a third from the same address
  ASSERT_TRUE(over);
  EXPECT_EQ(*over, "too many connections from 127.0.0.2 (max_connections_per_client is 2)");
  EXPECT_FALSE(limits.Take("127.0.0.1"));  // another address still gets in
  auto full = limits.Take("127.0.0.3");
  ASSERT_TRUE(full);
  EXPECT_EQ(*full, "too many connections (max_connections is 3)");
  EXPECT_EQ(limits.open(), 3u);  // refusals take nothing
  limits.Give("127.0.0.2");
  EXPECT_FALSE(limits.Take("127.0.0.3"));  // a place given back is free again
  limits.Give("127.0.0.1");
  limits.Give("127.0.0.2");
  limits.Give("127.0.0.3");
  EXPECT_EQ(limits.open(), 0u);
  EXPECT_FALSE(limits.Take("127.0.0.2"));  // the address's count went back to zero
  EXPECT_FALSE(limits.Take("127.0.0.2"));
}

}  // namespace
}  // namespace wharf::api
