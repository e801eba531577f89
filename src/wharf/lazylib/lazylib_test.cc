#define CURL_DISABLE_TYPECHECK
#include <archive.h>
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "wharf/lazylib/lazy_library.h"

namespace wharf::lazylib {
namespace {

// "Not loaded yet" needs a process that has called neither library: each check runs in a
// freshly started copy of this test binary (the "threadsafe" death-test style re-executes it).
void InFreshProcess(void (*check)()) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        check();
        std::exit(::testing::Test::HasFailure() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(LazyLibrary, CurlLoadsOnFirstCallOnly) {
  InFreshProcess([] {
    EXPECT_FALSE(Curl().loaded());
    curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    ASSERT_NE(info, nullptr);
    EXPECT_TRUE(Curl().loaded());
    EXPECT_FALSE(Archive().loaded());
    // The loaded library is the one the headers describe (same major version).
    EXPECT_EQ(info->version_num >> 16, LIBCURL_VERSION_NUM >> 16);
  });
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// curl_easy_setopt is variadic: each kind of argument (long, object pointer, function
// pointer, curl_off_t) must reach libcurl as what it is.
TEST(LazyLibrary, SetoptPassesEveryArgumentKind) {
  auto path = std::filesystem::temp_directory_path() / ("lazylib-" + std::to_string(getpid()));
  std::ofstream(path) << std::string(1000, 'x');
  std::string url = "file://" + path.string();

  CURL* h = curl_easy_init();
  ASSERT_NE(h, nullptr);
  std::string body;
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_URL, url.c_str()), CURLE_OK);        // pointer
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect), CURLE_OK);  // function
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_WRITEDATA, &body), CURLE_OK);
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L), CURLE_OK);  // long
  ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
  EXPECT_EQ(body, std::string(1000, 'x'));
  char* effective = nullptr;
  ASSERT_EQ(curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective), CURLE_OK);
  EXPECT_EQ(std::string(effective), url);

  body.clear();
  curl_off_t from = 990;
  ASSERT_EQ(curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, from), CURLE_OK);  // curl_off_t
  ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
  EXPECT_EQ(body, std::string(10, 'x'));
  curl_easy_cleanup(h);
  std::filesystem::remove(path);
}

TEST(LazyLibrary, ArchiveLoadsOnFirstCallOnly) {
  InFreshProcess([] {
    EXPECT_FALSE(Archive().loaded());
    archive* a = archive_read_new();
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(Archive().loaded());
    EXPECT_FALSE(Curl().loaded());
    archive_read_free(a);
  });
}

// archive_set_error is printf-like: the stub formats the message itself.
TEST(LazyLibrary, ArchiveSetErrorFormats) {
  archive* a = archive_read_new();
  ASSERT_NE(a, nullptr);
  archive_set_error(a, 22, "entry %s is %d bytes too long", "etc/passwd", 7);
  EXPECT_STREQ(archive_error_string(a), "entry etc/passwd is 7 bytes too long");
  archive_read_free(a);
}

}  // namespace
}  // namespace wharf::lazylib
