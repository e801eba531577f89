// reference::Parse and ParseNameAndTag. Input: a reference, or "name\ntag".
#include "fuzz_input.h"
#include "wharf/reference/reference.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsText(data, size);
  if (auto ref = reference::Parse(text)) {
    // The normalised form is a reference too, and reads back as the same one.
    auto again = reference::Parse(ref->String());
    fuzz::Require(again.has_value() && *again == *ref);
    fuzz::Require(ref->tag.empty() || reference::IsValidTag(ref->tag));
    (void)ref->FamiliarString();
  }
  auto [name, tag] = fuzz::SplitFirstLine(text);
  if (auto ref = reference::ParseNameAndTag(name, tag)) {
    (void)ref->Familiar();
    (void)ref->String();
  }
  return 0;
}
