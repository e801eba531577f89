#include "wharf/registry/host_directory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "wharf/registry/client.h"
#include "wharf/registry/endpoints.h"

namespace wharf::registry {
namespace {

HostOptions Credentials(const std::string& user, const std::string& password) {
  HostOptions o;
  o.username = user;
  o.password = password;
  return o;
}

std::vector<std::string> Hosts(const std::vector<HostEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    out.push_back(e.host + (e.source == HostSource::kConfig ? " config" : " api"));
  }
  return out;
}

TEST(HostDirectoryTest, ConfigWinsAndRuntimeChangesAreSeenAtOnce) {
  HostDirectory directory({{"a.example", Credentials("config", "c")}}, {});
  EXPECT_FALSE(directory.Find("b.example"));
  directory.SetHost("b.example:5000", Credentials("api", "p1"));
  directory.SetHost("a.example", Credentials("api", "p2"));  // shadowed by the config's
  ASSERT_TRUE(directory.Find("b.example:5000"));
  EXPECT_EQ(directory.Find("b.example:5000")->password, "p1");
  EXPECT_EQ(directory.Find("a.example")->username, "config");
  EXPECT_TRUE(directory.InConfig("a.example"));
  EXPECT_FALSE(directory.InConfig("b.example:5000"));
  EXPECT_EQ(Hosts(directory.List()),
            (std::vector<std::string>{"a.example config", "b.example:5000 api"}));

  directory.SetHost("b.example:5000", Credentials("api", "p3"));
  EXPECT_EQ(directory.Find("b.example:5000")->password, "p3");
  EXPECT_TRUE(directory.RemoveHost("b.example:5000"));
  EXPECT_FALSE(directory.RemoveHost("b.example:5000"));
  EXPECT_FALSE(directory.Find("b.example:5000"));
  // The run-time settings of a configured host can go; the configuration's stay.
  EXPECT_TRUE(directory.RemoveHost("a.example"));
  EXPECT_EQ(directory.Find("a.example")->username, "config");
}

TEST(HostDirectoryTest, MirrorsOfTheConfigurationComeFirstWithoutRepeats) {
  HostDirectory directory({}, {"https://m1.example", "https://m2.example"});
  EXPECT_EQ(directory.Mirrors(), directory.ConfigMirrors());
  directory.SetMirrors({"http://m3.example:5000", "https://m1.example"});
  EXPECT_EQ(directory.Mirrors(),
            (std::vector<std::string>{"https://m1.example", "https://m2.example",
                                      "http://m3.example:5000"}));
  EXPECT_EQ(directory.RuntimeMirrors(),
            (std::vector<std::string>{"http://m3.example:5000", "https://m1.example"}));
  directory.SetMirrors({});
  EXPECT_EQ(directory.Mirrors(), directory.ConfigMirrors());
}

TEST(HostDirectoryTest, ListenersHearEachChangedHostUntilTheirSubscriptionEnds) {
  HostDirectory directory;
  std::vector<std::string> heard;
  {
    auto subscription =
        directory.Subscribe([&](const std::string& host) { heard.push_back(host); });
    directory.SetHost("a.example", {});
    EXPECT_FALSE(directory.RemoveHost("b.example"));  // nothing changed: nothing heard
    EXPECT_TRUE(directory.RemoveHost("a.example"));
    HostDirectory::Subscription moved = std::move(subscription);
    directory.SetHost("c.example", {});
  }
  directory.SetHost("d.example", {});
  EXPECT_EQ(heard, (std::vector<std::string>{"a.example", "a.example", "c.example"}));
}

TEST(HostDirectoryTest, EndpointsAndHostSettingsReadTheLiveDirectory) {
  Options options;
  options.hosts["ignored.example"] = Credentials("ignored", "x");
  options.directory = std::make_shared<HostDirectory>();
  Endpoints endpoints(options);
  EXPECT_EQ(endpoints.Host("ignored.example").username, "");
  options.directory->SetHost("docker.io", Credentials("hub", "h"));
  options.directory->SetHost("r.example", Credentials("r", "x"));
  // "docker.io" settings are Docker Hub's own.
  EXPECT_EQ(endpoints.Host("registry-1.docker.io").username, "hub");
  EXPECT_EQ(endpoints.Host("r.example").username, "r");
  EXPECT_EQ(HostSettings(options, "r.example").username, "r");
  options.directory->RemoveHost("r.example");
  EXPECT_EQ(endpoints.Host("r.example").username, "");
  EXPECT_EQ(HostSettings(options, "r.example").username, "");
  options.directory->SetMirrors({"https://m.example"});
  EXPECT_EQ(endpoints.Mirrors(), (std::vector<std::string>{"https://m.example"}));
}

TEST(HostDirectoryTest, WithoutADirectoryTheOptionsHostsAndMirrorsServe) {
  Options options;
  options.hosts["r.example"] = Credentials("r", "x");
  options.mirrors = {"https://m.example"};
  Endpoints endpoints(options);
  EXPECT_EQ(endpoints.Host("r.example").username, "r");
  EXPECT_EQ(HostSettings(options, "r.example").username, "r");
  EXPECT_EQ(endpoints.Mirrors(), options.mirrors);
}

TEST(HostDirectoryTest, ConcurrentReadersSeeWholeSettings) {
  HostDirectory directory;
  std::atomic<bool> stop = false;
  std::atomic<int> torn = 0;
  std::thread reader([&] {
    while (!stop) {
      if (auto found = directory.Find("h.example"); found && found->username != found->password) {
        ++torn;
      }
    }
  });
  for (int i = 0; i < 2000; ++i) {
    std::string v = "v" + std::to_string(i);
    directory.SetHost("h.example", Credentials(v, v));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn, 0);
}

}  // namespace
}  // namespace wharf::registry
