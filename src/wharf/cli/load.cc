#include "wharf/cli/load.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "wharf/base/unique_fd.h"
#include "wharf/cli/terminal.h"
#include "wharf/cli/transfer_progress.h"

namespace wharf::cli {

namespace {

// The server may take a while after the last byte (checks, the engine's load of the images).
constexpr long kIdleTimeoutS = 900;

struct Input {
  UniqueFd owned;
  int fd = STDIN_FILENO;
  int64_t size = -1;  // known for a regular file
  std::string label;
};

Result<Input> OpenInput(const std::string& path) {
  Input in;
  if (path.empty() || path == "-") {
    if (IsTerminal(STDIN_FILENO)) {
      return InvalidArgument(
          "cowardly refusing to read an archive from a terminal; use -i FILE or redirect stdin");
    }
    in.label = "stdin";
  } else {
    in.owned = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.owned) {
      return InvalidArgument("cannot open " + path + ": " + std::strerror(errno));
    }
    in.fd = in.owned.get();
    in.label = std::filesystem::path(path).filename().string();
  }
  struct stat st {};
  if (::fstat(in.fd, &st) == 0 && S_ISREG(st.st_mode)) {
    in.size = static_cast<int64_t>(st.st_size) - ::lseek(in.fd, 0, SEEK_CUR);
  }
  return in;
}

Result<size_t> ReadSome(int fd, char* buf, size_t n, const std::string& label) {
  for (;;) {
    ssize_t got = ::read(fd, buf, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno == EINTR && !InterruptCatcher::Take()) continue;
    if (errno == EINTR) return Cancelled("wharf load was interrupted");
    return InvalidArgument("cannot read " + label + ": " + std::strerror(errno));
  }
}

}  // namespace

std::string ImportPath(const std::string& file, const std::string& tag) {
  std::string path = "/api/v1/image/import?file=" + EscapeQuery(file);
  if (!tag.empty()) path += "&tag=" + EscapeQuery(tag);
  return path;
}

Result<void> Load(const ApiClient& api, const LoadRequest& r) {
  WHARF_ASSIGN_OR_RETURN(Input in, OpenInput(r.input));
  InterruptCatcher catcher;  // Ctrl-C stops the upload; the server then records nothing
  TransferProgress progress("Loading " + in.label, IsTerminal(STDERR_FILENO));
  progress.SetTotal(in.size);
  bool interrupted = false;
  ApiClient::UploadSource source;
  source.size = in.size;
  source.read = [&](char* buf, size_t n) { return ReadSome(in.fd, buf, n, in.label); };
  source.on_sent = [&](int64_t sent) { progress.Set(sent); };
  source.should_stop = [&] { return interrupted = interrupted || InterruptCatcher::Take(); };
  auto answer = api.Upload(ImportPath(in.label, r.tag), source, kIdleTimeoutS);
  progress.Finish();
  if (interrupted) return Cancelled("wharf load was interrupted");
  if (!answer) return Error(answer.error());
  if (r.json) {
    std::printf("%s\n", answer->dump(2).c_str());
    return {};
  }
  for (const auto& image : (*answer)["images"]) {
    std::printf("Loaded image: %s:%s\n", image.value("name", "").c_str(),
                image.value("tag", "").c_str());
  }
  return {};
}

}  // namespace wharf::cli
