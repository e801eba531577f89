#include "wharf/api/imports.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "wharf/api/views.h"

namespace wharf::api {

namespace {

HttpResponse ErrorOf(const Status& error) {
  const int status = HttpStatus(error.code);
  return JsonAnswer(status, ErrorView(status, error.message));
}

class ImportSink final : public HttpBodySink {
 public:
  ImportSink(std::unique_ptr<service::Import> import, uint64_t limit)
      : import_(std::move(import)), limit_(limit) {}

  uint64_t Limit() const override { return limit_; }

  std::optional<HttpResponse> Take(std::string_view bytes) override {
    auto fed = import_->Feed(bytes);
    if (fed) return std::nullopt;
    HttpResponse answer = ErrorOf(fed.error());
    answer.close = true;
    return answer;
  }

  void Abandon() override { import_->Abandon("the upload ended before the whole archive came"); }

  HttpResponse Finish() {
    auto images = import_->Finish();
    if (!images) return ErrorOf(images.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& image : *images) {
      out.push_back({{"name", image.display_name},
                     {"tag", image.tag},
                     {"id", image.config_digest},
                     {"digest", image.manifest_digest}});
    }
    return JsonAnswer(200, {{"images", out}});
  }

 private:
  std::unique_ptr<service::Import> import_;
  uint64_t limit_;
};

std::optional<uint64_t> DeclaredSize(const HttpRequest& req) {
  const std::string* length = req.Header("content-length");
  if (length == nullptr) return std::nullopt;
  uint64_t size = 0;
  auto [end, ec] = std::from_chars(length->data(), length->data() + length->size(), size);
  if (ec != std::errc() || end != length->data() + length->size()) return std::nullopt;
  return size;
}

}  // namespace

Result<void> AdmitImport(HttpRequest& req, service::Imports* imports) {
  if (imports == nullptr) return NotFound("imports are off on this server");
  WHARF_ASSIGN_OR_RETURN(auto import,
                         imports->Begin(req.Param("file"), DeclaredSize(req), req.Param("tag")));
  req.body_sink = std::make_shared<ImportSink>(std::move(import), imports->max_bytes());
  return {};
}

HttpResponse FinishImport(HttpRequest& req) {
  auto* sink = dynamic_cast<ImportSink*>(req.body_sink.get());
  if (sink == nullptr) {
    return ErrorOf(
        Status{Code::kInvalidArgument, "an import needs the archive as the request body"});
  }
  return sink->Finish();
}

}  // namespace wharf::api
