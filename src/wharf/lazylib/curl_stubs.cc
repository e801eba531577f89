// libcurl's C API as wharf uses it, each function forwarding to the real one in libcurl.so.4,
// which is loaded by the first call (see lazy_library.h). A function wharf starts to call
// needs a line here, or the link fails with an undefined reference.
#define CURL_DISABLE_TYPECHECK  // curl_easy_setopt/getinfo are macros otherwise
#include <curl/curl.h>

#include <cstdarg>

#include "wharf/lazylib/lazy_library.h"

using wharf::lazylib::Curl;
using wharf::lazylib::Resolve;

#define WHARF_CURL_STUB(ret, name, params, args) \
  WHARF_LAZY_STUB(::wharf::lazylib::Curl, ret, name, params, args)

WHARF_CURL_STUB(CURLcode, curl_global_init, (long flags), (flags))
WHARF_CURL_STUB(void, curl_global_cleanup, (void), ())
WHARF_CURL_STUB(CURL*, curl_easy_init, (void), ())
WHARF_CURL_STUB(CURLcode, curl_easy_perform, (CURL * h), (h))
WHARF_CURL_STUB(void, curl_easy_cleanup, (CURL * h), (h))
WHARF_CURL_STUB(void, curl_easy_reset, (CURL * h), (h))
WHARF_CURL_STUB(const char*, curl_easy_strerror, (CURLcode code), (code))
WHARF_CURL_STUB(curl_slist*, curl_slist_append, (curl_slist * list, const char* s), (list, s))
WHARF_CURL_STUB(void, curl_slist_free_all, (curl_slist * list), (list))
WHARF_CURL_STUB(curl_version_info_data*, curl_version_info, (CURLversion v), (v))
WHARF_CURL_STUB(time_t, curl_getdate, (const char* s, const time_t* unused), (s, unused))
WHARF_CURL_STUB(void, curl_free, (void* p), (p))
WHARF_CURL_STUB(CURLU*, curl_url, (void), ())
WHARF_CURL_STUB(void, curl_url_cleanup, (CURLU * u), (u))
WHARF_CURL_STUB(CURLUcode, curl_url_get,
                (CURLU * u, CURLUPart what, char** part, unsigned int flags),
                (u, what, part, flags))
WHARF_CURL_STUB(CURLUcode, curl_url_set,
                (CURLU * u, CURLUPart what, const char* part, unsigned int flags),
                (u, what, part, flags))
WHARF_CURL_STUB(CURLM*, curl_multi_init, (void), ())
WHARF_CURL_STUB(CURLMcode, curl_multi_cleanup, (CURLM * m), (m))
WHARF_CURL_STUB(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL* h), (m, h))
WHARF_CURL_STUB(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL* h), (m, h))
WHARF_CURL_STUB(CURLMcode, curl_multi_perform, (CURLM * m, int* running), (m, running))
WHARF_CURL_STUB(CURLMcode, curl_multi_poll,
                (CURLM * m, curl_waitfd extra[], unsigned int n, int timeout_ms, int* numfds),
                (m, extra, n, timeout_ms, numfds))
WHARF_CURL_STUB(CURLMcode, curl_multi_wakeup, (CURLM * m), (m))
WHARF_CURL_STUB(CURLMsg*, curl_multi_info_read, (CURLM * m, int* left), (m, left))

// The variadic two take exactly one argument after the option. Its type follows from the
// option's number (curl.h: CURLOPTTYPE_*, CURLINFO_* masks), and is read as that type.
extern "C" CURLcode curl_easy_setopt(CURL* h, CURLoption option, ...) {
  static const auto real = Resolve<decltype(&curl_easy_setopt)>(Curl(), "curl_easy_setopt");
  va_list ap;
  va_start(ap, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = real(h, option, va_arg(ap, long));
  } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
    rc = real(h, option, va_arg(ap, void*));
  } else if (option < CURLOPTTYPE_OFF_T) {
    // Function pointers travel as such: a void* is not guaranteed to hold one.
    rc = real(h, option, va_arg(ap, void (*)()));
  } else if (option < CURLOPTTYPE_BLOB) {
    rc = real(h, option, va_arg(ap, curl_off_t));
  } else {
    rc = real(h, option, va_arg(ap, void*));
  }
  va_end(ap);
  return rc;
}

extern "C" CURLcode curl_easy_getinfo(CURL* h, CURLINFO info, ...) {
  static const auto real = Resolve<decltype(&curl_easy_getinfo)>(Curl(), "curl_easy_getinfo");
  va_list ap;
  va_start(ap, info);
  void* out = va_arg(ap, void*);  // every CURLINFO_* takes a pointer to its result
  va_end(ap);
  return real(h, info, out);
}
