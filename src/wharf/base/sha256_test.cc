// Both SHA-256 engines (SHA-NI where the CPU has it, OpenSSL) on the FIPS 180-4 test
// vectors, and against each other on random data cut at every place a block boundary
// matters, with UpdateCopy's copies checked byte for byte.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "wharf/base/digest.h"
#include "wharf/base/sha256_ni.h"

namespace wharf {
namespace {

using Engine = Sha256::Engine;

std::string RandomText(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// Hashes `data` in pieces of the given lengths (the rest in one), alternating Update and
// UpdateCopy; the copies must reproduce `data`.
Digest HashInPieces(Engine engine, const std::string& data, const std::vector<size_t>& cuts) {
  Sha256 h(engine);
  std::string copy(data.size(), '\0');
  size_t at = 0;
  bool copying = false;
  auto piece = [&](size_t n) {
    if (copying) {
      h.UpdateCopy(data.data() + at, n, copy.data() + at);
    } else {
      h.Update(data.data() + at, n);
      copy.replace(at, n, data, at, n);
    }
    copying = !copying;
    at += n;
  };
  for (size_t cut : cuts) piece(std::min(cut, data.size() - at));
  piece(data.size() - at);
  EXPECT_EQ(copy, data);
  return h.Finish();
}

TEST(Sha256Test, SaysWhichEngineRuns) {
  // Informational: on a CPU without the extensions only the OpenSSL engine is tested.
  std::cout << "SHA-NI " << (sha256_ni::Supported() ? "in use" : "not available") << "\n";
}

TEST(Sha256Test, FipsVectors) {
  const std::string million_a(1000000, 'a');
  const std::pair<std::string, std::string> vectors[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrl"
       "mnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {million_a, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (Engine engine : {Engine::kBest, Engine::kOpenSsl}) {
    for (const auto& [text, hex] : vectors) {
      Sha256 h(engine);
      h.Update(text);
      EXPECT_EQ(h.Finish().hex(), hex) << text.substr(0, 20);
      // Byte by byte through the unfinished-block path.
      for (char c : text.substr(0, 200)) h.Update(&c, 1);
      EXPECT_EQ(h.Finish(), Digest::Of(text.substr(0, 200)));
    }
  }
}

// Every length around the padding's edges (55, 56, 63, 64 bytes into a block), each cut at
// every place.
TEST(Sha256Test, EnginesAgreeAtEveryLengthAndCut) {
  for (size_t n = 0; n <= 200; ++n) {
    const std::string data = RandomText(n, n);
    const Digest want = HashInPieces(Engine::kOpenSsl, data, {});
    for (size_t cut = 0; cut <= n; ++cut) {
      ASSERT_EQ(HashInPieces(Engine::kBest, data, {cut}), want) << n << " cut at " << cut;
      ASSERT_EQ(HashInPieces(Engine::kBest, data, {cut, 1, 63}), want) << n << " cut at " << cut;
    }
  }
}

TEST(Sha256Test, EnginesAgreeOnLargeRandomPieces) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    const std::string data = RandomText(rng() % (3 << 20), round);
    std::vector<size_t> cuts;
    for (size_t total = 0; total < data.size();) {
      cuts.push_back(rng() % (300 << 10));
      total += cuts.back();
    }
    EXPECT_EQ(HashInPieces(Engine::kBest, data, cuts), Digest::Of(data));
    EXPECT_EQ(HashInPieces(Engine::kOpenSsl, data, cuts), Digest::Of(data));
  }
}

TEST(Sha256Test, PeekAndReuse) {
  for (Engine engine : {Engine::kBest, Engine::kOpenSsl}) {
    Sha256 h(engine);
    const std::string data = RandomText(1000, 3);
    h.Update(data.substr(0, 130));
    EXPECT_EQ(h.Peek(), Digest::Of(data.substr(0, 130)));
    h.Update(data.substr(130));
    EXPECT_EQ(h.Peek(), Digest::Of(data));
    EXPECT_EQ(h.Finish(), Digest::Of(data));
    EXPECT_EQ(h.Finish(), Digest::Of(""));  // reset after Finish
    Sha256 moved = std::move(h);
    moved.Update("abc");
    EXPECT_EQ(moved.Finish(), Digest::Of("abc"));
  }
}

}  // namespace
}  // namespace wharf
