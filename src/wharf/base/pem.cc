#include "wharf/base/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

namespace wharf {

namespace {

constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "not a certificate";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

Result<int> CountPemCertificates(std::string_view pem) {
  int count = 0;
  for (size_t at = pem.find(kBegin); at != std::string_view::npos; at = pem.find(kBegin, at + 1)) {
    ++count;
    std::string_view block = pem.substr(at);
    BIO* bio = BIO_new_mem_buf(block.data(), static_cast<int>(block.size()));
    if (bio == nullptr) return Internal("out of memory reading a certificate");
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (cert == nullptr) {
      return InvalidArgument("certificate " + std::to_string(count) +
                             " does not parse: " + OpenSslError());
    }
    X509_free(cert);
  }
  if (count == 0) return InvalidArgument("no certificate (-----BEGIN CERTIFICATE----- block)");
  return count;
}

}  // namespace wharf
