// libarchive's C API as wharf uses it (LXC images and their tests), each function forwarding
// to the real one in libarchive.so.13, which is loaded by the first call (see
// lazy_library.h). A function wharf starts to call needs a line here, or the link fails.
#include <archive.h>
#include <archive_entry.h>

#include <cstdarg>
#include <cstdio>

#include "wharf/lazylib/lazy_library.h"

using wharf::lazylib::Archive;
using wharf::lazylib::Resolve;

#define WHARF_ARCHIVE_STUB(ret, name, params, args) \
  WHARF_LAZY_STUB(::wharf::lazylib::Archive, ret, name, params, args)

using Entry = archive_entry;

WHARF_ARCHIVE_STUB(archive*, archive_read_new, (void), ())
WHARF_ARCHIVE_STUB(int, archive_read_free, (archive * a), (a))
WHARF_ARCHIVE_STUB(int, archive_read_support_format_tar, (archive * a), (a))
WHARF_ARCHIVE_STUB(int, archive_read_open,
                   (archive * a, void* data, archive_open_callback* open,
                    archive_read_callback* read, archive_close_callback* close),
                   (a, data, open, read, close))
WHARF_ARCHIVE_STUB(int, archive_read_next_header, (archive * a, Entry** e), (a, e))
WHARF_ARCHIVE_STUB(la_ssize_t, archive_read_data, (archive * a, void* buf, size_t n), (a, buf, n))
WHARF_ARCHIVE_STUB(int, archive_read_data_skip, (archive * a), (a))
WHARF_ARCHIVE_STUB(const char*, archive_error_string, (archive * a), (a))
WHARF_ARCHIVE_STUB(archive*, archive_write_new, (void), ())
WHARF_ARCHIVE_STUB(int, archive_write_free, (archive * a), (a))
WHARF_ARCHIVE_STUB(int, archive_write_close, (archive * a), (a))
WHARF_ARCHIVE_STUB(int, archive_write_set_format_pax_restricted, (archive * a), (a))
WHARF_ARCHIVE_STUB(int, archive_write_add_filter_xz, (archive * a), (a))
WHARF_ARCHIVE_STUB(int, archive_write_open_filename, (archive * a, const char* file), (a, file))
WHARF_ARCHIVE_STUB(int, archive_write_header, (archive * a, Entry* e), (a, e))
WHARF_ARCHIVE_STUB(la_ssize_t, archive_write_data, (archive * a, const void* buf, size_t n),
                   (a, buf, n))
WHARF_ARCHIVE_STUB(Entry*, archive_entry_new, (void), ())
WHARF_ARCHIVE_STUB(void, archive_entry_free, (Entry * e), (e))
WHARF_ARCHIVE_STUB(const char*, archive_entry_pathname, (Entry * e), (e))
WHARF_ARCHIVE_STUB(const char*, archive_entry_hardlink, (Entry * e), (e))
WHARF_ARCHIVE_STUB(mode_t, archive_entry_filetype, (Entry * e), (e))
WHARF_ARCHIVE_STUB(mode_t, archive_entry_perm, (Entry * e), (e))
WHARF_ARCHIVE_STUB(la_int64_t, archive_entry_size, (Entry * e), (e))
WHARF_ARCHIVE_STUB(void, archive_entry_set_pathname, (Entry * e, const char* s), (e, s))
WHARF_ARCHIVE_STUB(void, archive_entry_set_hardlink, (Entry * e, const char* s), (e, s))
WHARF_ARCHIVE_STUB(void, archive_entry_set_symlink, (Entry * e, const char* s), (e, s))
WHARF_ARCHIVE_STUB(void, archive_entry_set_filetype, (Entry * e, unsigned int type), (e, type))
WHARF_ARCHIVE_STUB(void, archive_entry_set_perm, (Entry * e, mode_t perm), (e, perm))
WHARF_ARCHIVE_STUB(void, archive_entry_set_size, (Entry * e, la_int64_t size), (e, size))

// printf-style: formatted here, passed on as a plain string.
extern "C" void archive_set_error(archive* a, int err, const char* fmt, ...) {
  static const auto real = Resolve<decltype(&archive_set_error)>(Archive(), "archive_set_error");
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  real(a, err, "%s", message);
}
