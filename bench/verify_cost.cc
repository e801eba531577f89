// wharf-verify-cost: the CPU time wharf's own verification of layers takes on this machine,
// for the benchmark's lower bound on a pull (bench/run.py). For each layer file it times,
// on one thread, what a pull does to its bytes besides receiving and storing them: SHA-256
// of the compressed bytes and LayerDigester (inflate + SHA-256 of the tar for the diff_id).
// Files are read into memory first, so no I/O is counted; the best of --runs is reported.
//
//   wharf-verify-cost [--runs N] MEDIA_TYPE:PATH...
//   -> {"layers": [{"path": ..., "cpu_s": ...}], "cpu_s": total}
#include <time.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "wharf/base/digest.h"
#include "wharf/content/layer_digester.h"
#include "wharf/oci/image.h"

namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Feeds the layer in the 512 KiB pieces libcurl hands wharf during a pull.
double VerifyOnce(const std::string& bytes, wharf::oci::Compression compression) {
  constexpr size_t kPiece = 512 << 10;
  double start = ThreadCpuSeconds();
  wharf::Sha256 blob_hash;
  wharf::content::LayerDigester digester(compression);
  for (size_t at = 0; at < bytes.size(); at += kPiece) {
    size_t n = std::min(kPiece, bytes.size() - at);
    blob_hash.Update(bytes.data() + at, n);
    if (!digester.Update(bytes.data() + at, n)) return -1;
  }
  blob_hash.Finish();
  if (!digester.Finish()) return -1;
  return ThreadCpuSeconds() - start;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 3;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string json = "{\"layers\": [";
  double total = 0;
  bool first = true;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--runs" && i + 1 < args.size()) {
      runs = std::max(1, std::atoi(args[++i].c_str()));
      continue;
    }
    size_t colon = args[i].rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "wharf-verify-cost: want MEDIA_TYPE:PATH, got %s\n", args[i].c_str());
      return 2;
    }
    std::string media_type = args[i].substr(0, colon), path = args[i].substr(colon + 1);
    auto compression = wharf::oci::LayerCompression(media_type);
    if (!compression) {
      std::fprintf(stderr, "wharf-verify-cost: %s\n", compression.error().message.c_str());
      return 2;
    }
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "wharf-verify-cost: cannot read %s\n", path.c_str());
      return 2;
    }
    double best = -1;
    for (int r = 0; r < runs; ++r) {
      double s = VerifyOnce(bytes, *compression);
      if (s < 0) {
        std::fprintf(stderr, "wharf-verify-cost: %s does not verify\n", path.c_str());
        return 1;
      }
      if (best < 0 || s < best) best = s;
    }
    total += best;
    json += std::string(first ? "" : ", ") + "{\"path\": \"" + path +
            "\", \"cpu_s\": " + std::to_string(best) + "}";
    first = false;
  }
  json += "], \"cpu_s\": " + std::to_string(total) + "}\n";
  std::fputs(json.c_str(), stdout);
  return 0;
}
