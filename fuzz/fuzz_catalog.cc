// depot::ParseCatalog. Input: a catalog JSON document.
#include "fuzz_input.h"
#include "wharf/depot/catalog.h"

using namespace wharf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto catalog = depot::ParseCatalog(fuzz::AsText(data, size), "fuzz");
  if (!catalog) return 0;
  for (const depot::CatalogEntry& entry : catalog->entries) {
    fuzz::Require(catalog->Find(entry.type, entry.name) != nullptr);
  }
  return 0;
}
