#include "wharf/service/imports.h"

#include <spdlog/spdlog.h>

#include "wharf/service/archive_import.h"

namespace wharf::service {

namespace {

class QueuedImport final : public Import {
 public:
  QueuedImport(pull::PullQueue& queue, pull::PullQueue::Attached job, metadata::ImageStore& images,
               Clock& clock, std::unique_ptr<ArchiveImport> archive)
      : queue_(queue),
        job_(std::move(job)),
        images_(images),
        clock_(clock),
        archive_(std::move(archive)) {}

  ~QueuedImport() override {
    if (!ended_) End({}, Status{Code::kCancelled, "the upload ended before its end"});
  }

  Result<void> Feed(std::string_view bytes) override {
    if (failed_) return Error(*failed_);
    job_.progress().bytes_done += static_cast<int64_t>(bytes.size());
    if (auto fed = archive_->Feed(bytes); !fed) {
      failed_ = fed.error();
      End({}, *failed_);
      return fed;
    }
    return {};
  }

  Result<std::vector<metadata::ImageRecord>> Finish() override {
    if (failed_) return Error(*failed_);
    auto images = archive_->Finish();
    if (images) {
      for (auto& image : *images) {
        image.created_at = clock_.NowSeconds();
        if (auto put = images_.Put(image); !put) {
          images = Error(put.error());
          break;
        }
        committed_.push_back(image);
      }
    }
    if (!images) {
      failed_ = images.error();
      // Images recorded before a failure stay: each is whole and consistent.
      End(committed_, *failed_);
      return images;
    }
    End(*images, {});
    return images;
  }

  void Abandon(const std::string& why) override {
    if (!ended_) End({}, Status{Code::kCancelled, why});
  }

 private:
  // Releases the blobs' pins (the archive goes) before the queue collects what is unused.
  void End(const std::vector<metadata::ImageRecord>& images, const Status& error) {
    ended_ = true;
    archive_.reset();
    queue_.Finish(job_, images, error.ok() ? nullptr : &error);
  }

  pull::PullQueue& queue_;
  pull::PullQueue::Attached job_;
  metadata::ImageStore& images_;
  Clock& clock_;
  std::unique_ptr<ArchiveImport> archive_;
  std::vector<metadata::ImageRecord> committed_;
  std::optional<Status> failed_;
  bool ended_ = false;
};

}  // namespace

std::string ImportLabel(const std::string& file) {
  std::string base = file.substr(file.find_last_of("/\\") + 1);
  std::string out;
  for (char c : base.substr(0, 100)) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out.push_back(safe ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") return "archive.tar";
  return out;
}

Imports::Imports(ImportOptions options, content::BlobStore& store, pull::BlobPins& pins,
                 metadata::ImageStore& images, pull::PullQueue& queue)
    : options_(std::move(options)), store_(store), pins_(pins), images_(images), queue_(queue) {}

Result<std::unique_ptr<Import>> Imports::Begin(const std::string& label,
                                               std::optional<uint64_t> declared_size,
                                               const std::string& name) {
  ArchiveImportOptions archive_options{
      .max_bytes = options_.max_bytes, .platform = options_.platform, .unpack = options_.unpack};
  if (!name.empty()) {
    auto ref = reference::Parse(name);
    if (!ref || ref->tag.empty()) {
      return InvalidArgument("tag: " + name + " is not a NAME:TAG" +
                             (ref ? "" : " (" + ref.error().message + ")"));
    }
    archive_options.untagged_name = *ref;
  }
  auto job = queue_.Attach("docker", ImportLabel(label), "import-" + std::to_string(++count_));
  if (declared_size) job.progress().bytes_total = static_cast<int64_t>(*declared_size);
  archive_options.cancelled = &job.progress().cancel;
  auto archive = std::make_unique<ArchiveImport>(store_, pins_, archive_options);
  return std::unique_ptr<Import>(
      new QueuedImport(queue_, std::move(job), images_, *options_.clock, std::move(archive)));
}

}  // namespace wharf::service
