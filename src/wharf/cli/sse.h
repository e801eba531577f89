// An incremental parser for text/event-stream (the Server-Sent Events wire format of the
// WHATWG HTML standard), fed whatever chunks the network delivers. Pure, not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wharf::cli {

struct SseEvent {
  std::string id;    // the last id seen on the stream (ids persist across events)
  std::string type;  // the `event:` field; "message" when absent
  std::string data;  // `data:` lines joined with '\n'
};

class SseParser {
 public:
  // Consumes bytes and returns the events they complete. Lines end with "\n", "\r\n" or
  // "\r"; comment lines (": ping") and unknown fields are ignored; an event without data is
  // not dispatched.
  std::vector<SseEvent> Feed(std::string_view bytes);
  // The id to send as Last-Event-ID when reconnecting; empty before any.
  const std::string& last_event_id() const { return last_id_; }

 private:
  void Line(std::string_view line, std::vector<SseEvent>& out);

  std::string pending_;   // an incomplete line
  bool skip_lf_ = false;  // the previous chunk ended with '\r'
  std::string last_id_;
  std::string type_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace wharf::cli
