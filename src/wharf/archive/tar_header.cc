#include "wharf/archive/tar_header.h"

#include <cstdio>
#include <cstring>

namespace wharf::archive {

namespace {

// An octal number of width-1 digits and a NUL, as ustar writes its numeric fields.
void PutOctal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

// GNU's base-256 form of a number too large for the octal field: the first byte's high bit
// set, then the value big-endian.
void PutBase256(char* field, size_t width, uint64_t value) {
  for (size_t i = width; i-- > 0;) {
    field[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  field[0] = static_cast<char>(static_cast<unsigned char>(field[0]) | 0x80);
}

}  // namespace

Result<std::string> TarHeader(std::string_view name, int64_t size, TarEntry type) {
  if (name.empty() || name.size() > 100) {
    return InvalidArgument("tar entry name must have 1 to 100 bytes: " + std::string(name));
  }
  if (size < 0) return InvalidArgument("tar entry size is negative: " + std::string(name));
  std::string h(kTarBlock, '\0');
  char* p = h.data();
  std::memcpy(p, name.data(), name.size());
  PutOctal(p + 100, 8, type == TarEntry::kDirectory ? 0755 : 0644);
  PutOctal(p + 108, 8, 0);                             // uid
  PutOctal(p + 116, 8, 0);                             // gid
  constexpr uint64_t kOctalLimit = uint64_t{1} << 33;  // 11 octal digits
  if (static_cast<uint64_t>(size) < kOctalLimit) {
    PutOctal(p + 124, 12, static_cast<uint64_t>(size));
  } else {
    PutBase256(p + 124, 12, static_cast<uint64_t>(size));
  }
  PutOctal(p + 136, 12, 0);  // mtime
  p[156] = type == TarEntry::kDirectory ? '5' : '0';
  std::memcpy(p + 257, "ustar", 6);  // magic with its NUL
  std::memcpy(p + 263, "00", 2);     // version
  // The checksum is computed with its own field as spaces, then written as six octal
  // digits, a NUL and a space.
  std::memset(p + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(p + 148, 7, "%06o", sum);
  p[155] = ' ';
  return h;
}

}  // namespace wharf::archive
