#include "config/support/certificates.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace mesoscaf {

namespace {

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, freer<X509_EXTENSION, X509_EXTENSION_free>>;

struct file_closer {
  void operator()(FILE* f) const { std::fclose(f); }
};
using file_ptr = std::unique_ptr<FILE, file_closer>;

pkey_ptr new_key() {
  return pkey_ptr{EVP_EC_gen("P-256")};
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Creates the file exclusively with `mode`, so a key is never readable by others, not even for a moment.
file_ptr create_exclusive(const std::string& path, mode_t mode, std::string& err) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    err = path + ": cannot create (" + (errno == EEXIST ? "it exists; remove it first" : "errno " + std::to_string(errno)) + ")";
    return nullptr;
  }
  auto* f = ::fdopen(fd, "w");
  if (f == nullptr) {
    ::close(fd);
    err = path + ": cannot open";
  }
  return file_ptr{f};
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ext_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str())};
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

x509_ptr new_certificate(EVP_PKEY* key, const std::string& cn, int days) {
  x509_ptr cert{X509_new()};
  if (!cert)
    return nullptr;
  X509_set_version(cert.get(), 2);
  // A random 128-bit serial (RFC 5280: positive, at most 20 octets).
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  bytes[0] &= 0x7f;
  std::unique_ptr<BIGNUM, freer<BIGNUM, BN_free>> bn{BN_bin2bn(bytes, sizeof(bytes), nullptr)};
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);   // an hour of clock skew between hosts
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key);
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("mesoscaf"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  return cert;
}

std::string write_pair(const std::string& cert_path, X509* cert, const std::string& key_path, EVP_PKEY* key) {
  std::string err;
  auto kf = create_exclusive(key_path, 0600, err);
  if (!kf)
    return err;
  if (PEM_write_PrivateKey(kf.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return key_path + ": cannot write the key";
  auto cf = create_exclusive(cert_path, 0644, err);
  if (!cf)
    return err;
  if (PEM_write_X509(cf.get(), cert) != 1)
    return cert_path + ": cannot write the certificate";
  return {};
}

x509_ptr read_cert(const std::string& path) {
  file_ptr f{std::fopen(path.c_str(), "r")};
  return x509_ptr{f ? PEM_read_X509(f.get(), nullptr, nullptr, nullptr) : nullptr};
}

pkey_ptr read_key(const std::string& path) {
  file_ptr f{std::fopen(path.c_str(), "r")};
  return pkey_ptr{f ? PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr) : nullptr};
}

bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

} // namespace

bool valid_principal_name(const std::string& text) {
  if (text.empty() || text.size() > 64)
    return false;
  for (char c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
          || c == '-' || c == '@'))
      return false;
  return true;
}

std::string create_ca(const std::string& dir, const std::string& common_name, int days) {
  auto cert_path = dir + "/ca.pem";
  auto key_path = dir + "/ca-key.pem";
  if (exists(cert_path) || exists(key_path))
    return cert_path + " or " + key_path + " exists already; remove them first to make a new CA";
  auto key = new_key();
  if (!key)
    return "cannot generate a key";
  auto cert = new_certificate(key.get(), common_name, days);
  if (!cert)
    return "cannot create the certificate";
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  if (!add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0")
      || !add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign")
      || !add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"))
    return "cannot add the CA extensions";
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return "cannot sign the CA certificate";
  return write_pair(cert_path, cert.get(), key_path, key.get());
}

std::string create_certificate(const std::string& dir, const std::string& ca_cert, const std::string& ca_key,
                               const certificate_request& request) {
  auto principal = request.principal.empty() ? request.name : request.principal;
  if (!valid_principal_name(request.name))
    return "--name=" + request.name + ": expected 1..64 characters of A-Z a-z 0-9 . _ @ -";
  if (!valid_principal_name(principal))
    return "--principal=" + principal + ": expected 1..64 characters of A-Z a-z 0-9 . _ @ -";
  auto ca = read_cert(ca_cert);
  if (!ca)
    return ca_cert + ": not a readable PEM certificate (run `mesoscaf certs create-ca` first)";
  auto signer = read_key(ca_key);
  if (!signer)
    return ca_key + ": not a readable PEM private key";
  if (X509_check_private_key(ca.get(), signer.get()) != 1)
    return ca_key + " is not the key of " + ca_cert;
  auto cert_path = dir + "/" + request.name + ".pem";
  auto key_path = dir + "/" + request.name + "-key.pem";
  if (exists(cert_path) || exists(key_path))
    return cert_path + " or " + key_path + " exists already";
  auto key = new_key();
  if (!key)
    return "cannot generate a key";
  auto cert = new_certificate(key.get(), principal, request.days);
  if (!cert)
    return "cannot create the certificate";
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  // Every mesoscaf process is client and server alike (agents publish and connect).
  std::string san = "DNS:" + request.name;
  for (auto& h : request.hosts)
    san += (is_ip(h) ? ",IP:" : ",DNS:") + h;
  if (!add_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE")
      || !add_extension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyAgreement")
      || !add_extension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth,clientAuth")
      || !add_extension(cert.get(), ca.get(), NID_subject_alt_name, san)
      || !add_extension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always"))
    return "cannot add the certificate's extensions (check --hosts)";
  if (X509_sign(cert.get(), signer.get(), EVP_sha256()) == 0)
    return "cannot sign the certificate";
  return write_pair(cert_path, cert.get(), key_path, key.get());
}

} // namespace mesoscaf
