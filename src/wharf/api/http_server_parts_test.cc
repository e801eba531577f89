// Answers made of memory runs and file ranges (PartsBody), over real HTTP on loopback.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wharf/api/http_server.h"
#include "wharf/api/test_http_server.h"
#include "wharf/base/unique_fd.h"

namespace wharf::api {
namespace {

constexpr uint64_t kFileSize = 9 << 20;

// An unlinked temporary file of kFileSize bytes of BodyByte.
UniqueFd TempFile() {
  char path[] = "/tmp/wharf-parts-XXXXXX";
  UniqueFd fd(::mkstemp(path));
  EXPECT_TRUE(fd);
  ::unlink(path);
  const std::string bytes = BodyBytes(0, kFileSize);
  EXPECT_EQ(::write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  return fd;
}

// GET or HEAD /parts: memory runs and ranges of a temporary file; anything else: "ok".
class PartsHandler : public HttpHandler {
 public:
  PartsHandler() : file_(std::make_shared<UniqueFd>(TempFile())) {}

  // What /parts answers, and its body.
  std::shared_ptr<PartsBody> Parts() const {
    auto body = std::make_shared<PartsBody>();
    const int fd = file_->get();
    body->parts = {{.bytes = "<head>"},
                   {.fd = fd, .offset = 1000, .length = 8 << 20},  // past the socket's buffer
                   {.bytes = std::string(300 << 10, 'm')},
                   {.fd = fd, .offset = 0, .length = 5},
                   {.fd = fd, .offset = 7, .length = 0},
                   {.bytes = ""},
                   {.bytes = "<end>"}};
    body->owner = file_;
    return body;
  }
  static std::string Expected() {
    return "<head>" + BodyBytes(1000, 8 << 20) + std::string(300 << 10, 'm') + BodyBytes(0, 5) +
           "<end>";
  }

  Lane LaneOf(const HttpRequest&) override { return Lane::kFast; }
  std::optional<HttpResponse> Admit(HttpRequest&) override { return std::nullopt; }
  HttpResponse Handle(HttpRequest& request) override {
    HttpResponse answer;
    answer.content_type = "application/x-tar";
    if (request.path == "/parts") {
      answer.parts = Parts();
    } else if (request.path == "/file") {  // a FileBody: bytes 10 to 4 MiB + 10 of the file
      answer.file = std::make_shared<FileBody>(
          FileBody{.fd = UniqueFd(::dup(file_->get())), .offset = 10, .length = 4 << 20});
    } else {
      return Refusal(200, "ok");
    }
    return answer;
  }
  HttpResponse Refusal(int status, const std::string& message) override {
    HttpResponse answer;
    answer.status = status;
    answer.SetBody(message, "text/plain");
    return answer;
  }

 private:
  std::shared_ptr<UniqueFd> file_;
};

// GET `target` twice on one connection: `body` both times, with its Content-Length, and the
// connection kept.
void ExpectTwice(TestClient& client, std::string_view target, const std::string& body) {
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    ASSERT_FALSE(client.Send(RequestHead("GET", target, {})));
    auto answer = client.Read();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->result_int(), 200);
    EXPECT_EQ((*answer)[http::field::content_length], std::to_string(body.size()));
    EXPECT_TRUE(answer->keep_alive());
    EXPECT_TRUE(answer->body() == body) << "a body of " << answer->body().size() << " bytes";
  }
}

class HttpServerPartsTest : public ::testing::TestWithParam<bool> {};

TEST_P(HttpServerPartsTest, PartsAreWrittenInOrderAndTheConnectionIsKept) {
  PartsHandler handler;
  TestServer server(handler, {}, GetParam());
  TestClient client(server);
  const std::string expected = PartsHandler::Expected();
  EXPECT_EQ(handler.Parts()->Length(), expected.size());
  ExpectTwice(client, "/parts", expected);
  ASSERT_FALSE(client.Send(RequestHead("HEAD", "/parts", {})));
  auto head = client.Read(/*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ((*head)[http::field::content_length], std::to_string(expected.size()));
  // Nothing of the body followed the head: the next answer is the next request's.
  ExpectTwice(client, "/other", "ok");
}

TEST_P(HttpServerPartsTest, AFileBodyIsWrittenAsOneFilePart) {
  PartsHandler handler;
  TestServer server(handler, {}, GetParam());
  TestClient client(server);
  ExpectTwice(client, "/file", BodyBytes(10, 4 << 20));
}

TEST_P(HttpServerPartsTest, AnEmptyPartsBodyIsAnEmptyAnswer) {
  struct EmptyHandler : PartsHandler {
    HttpResponse Handle(HttpRequest&) override {
      HttpResponse answer;
      answer.parts = std::make_shared<PartsBody>();
      return answer;
    }
  } handler;
  TestServer server(handler, {}, GetParam());
  TestClient client(server);
  ExpectTwice(client, "/parts", "");
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, HttpServerPartsTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Tls" : "Plain"; });

}  // namespace
}  // namespace wharf::api
