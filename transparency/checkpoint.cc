#include "transparency/checkpoint.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace duurzaam::transparency {
namespace {

constexpr size_t kPublicKeySize = 32;
constexpr size_t kSignatureSize = 64;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

// The first queued OpenSSL error as text, clearing the queue.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error recorded";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

std::string ErrnoText(int err) {
  // A full disk is the operator's to fix: say so, not only strerror.
  if (err == ENOSPC || err == EDQUOT) {
    return absl::StrCat(std::strerror(err), ": the disk is full; free space on it and try again");
  }
  return std::strerror(err);
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

// Never prompts for a passphrase: encrypted keys are not supported.
int NoPassphrase(char*, int, int, void*) { return -1; }

[[nodiscard]] absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(absl::StrCat("write '", path, "': ", ErrnoText(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

void AppendEscapedOrigin(std::string_view origin, std::string& out) {
  for (char c : origin) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string Checkpoint::SignedBody() const {
  std::string body = "duurzaam checkpoint v1\n";
  AppendEscapedOrigin(origin, body);
  absl::StrAppend(&body, "\n", tree_size, "\n", HexOf(root), "\n", timestamp_micros, "\n");
  return body;
}

void SigningKey::PkeyDeleter::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

SigningKey::SigningKey(PkeyPtr key, std::string public_raw)
    : key_(std::move(key)), public_raw_(std::move(public_raw)) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

[[nodiscard]] absl::StatusOr<SigningKey> SigningKey::FromPkey(PkeyPtr key) {
  if (EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    return absl::InvalidArgumentError("the key is not an Ed25519 key");
  }
  std::string raw(kPublicKeySize, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(raw.data()), &len) !=
          1 ||
      len != kPublicKeySize) {
    return absl::InternalError(
        absl::StrCat("cannot read the Ed25519 public key: ", OpenSslError()));
  }
  return SigningKey(std::move(key), std::move(raw));
}

[[nodiscard]] absl::StatusOr<SigningKey> SigningKey::Generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return absl::InternalError(absl::StrCat("cannot generate an Ed25519 key: ", OpenSslError()));
  }
  return FromPkey(PkeyPtr(raw));
}

[[nodiscard]] absl::StatusOr<SigningKey> SigningKey::Load(const std::string& pem_path) {
  std::ifstream in(pem_path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat("no signing key at '", pem_path, "'"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot read signing key '", pem_path, "': ", ErrnoText(err)));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::UnavailableError(absl::StrCat("cannot read signing key '", pem_path, "'"));
  }
  const std::string pem = contents.str();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("cannot allocate an OpenSSL BIO");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (raw == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", pem_path, "' is not an unencrypted PEM private key: ", OpenSslError()));
  }
  absl::StatusOr<SigningKey> key = FromPkey(PkeyPtr(raw));
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("'", pem_path, "': ", key.status().message()));
  }
  return key;
}

[[nodiscard]] absl::StatusOr<SigningKey> SigningKey::LoadOrCreate(const std::string& pem_path) {
  struct stat st;
  if (::stat(pem_path.c_str(), &st) == 0) return Load(pem_path);
  if (errno != ENOENT) {
    return absl::UnavailableError(
        absl::StrCat("cannot stat signing key '", pem_path, "': ", ErrnoText(errno)));
  }

  ASSIGN_OR_RETURN(SigningKey key, Generate());
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY").
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), key.key_.get(), nullptr, nullptr, 0,
                                                 nullptr, nullptr) != 1) {
    return absl::InternalError(absl::StrCat("cannot encode the signing key: ", OpenSslError()));
  }
  const std::string pem = BioContents(bio.get());

  // Write a private temporary file, then link it into place: link() never
  // replaces an existing file, so a concurrent creator's key wins and is
  // loaded, and a crash leaves at most a stray temporary file.
  std::string tmp = pem_path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a file beside '", pem_path, "': ", ErrnoText(errno)));
  }
  absl::Status written = absl::OkStatus();
  if (::fchmod(fd, 0600) != 0) {
    written = absl::UnavailableError(absl::StrCat("chmod '", tmp, "': ", ErrnoText(errno)));
  }
  if (written.ok()) written = WriteAll(fd, pem, tmp);
  if (written.ok() && ::fsync(fd) != 0) {
    written = absl::UnavailableError(absl::StrCat("fsync '", tmp, "': ", ErrnoText(errno)));
  }
  if (::close(fd) != 0 && written.ok()) {
    written = absl::UnavailableError(absl::StrCat("close '", tmp, "': ", ErrnoText(errno)));
  }
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  const int linked = ::link(tmp.c_str(), pem_path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return Load(pem_path);
    return absl::UnavailableError(
        absl::StrCat("cannot create signing key '", pem_path, "': ", ErrnoText(link_errno)));
  }
  // Make the new directory entry durable.
  std::string dir = std::filesystem::path(pem_path).parent_path().string();
  if (dir.empty()) dir = ".";
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    const int synced = ::fsync(dir_fd);
    const int sync_errno = errno;
    ::close(dir_fd);
    if (synced != 0) {
      return absl::UnavailableError(
          absl::StrCat("fsync directory '", dir, "': ", ErrnoText(sync_errno)));
    }
  }
  return key;
}

std::string SigningKey::Sign(std::string_view message) const {
  std::string signature(kSignatureSize, '\0');
  size_t len = signature.size();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != kSignatureSize) {
    std::abort();
  }
  return signature;
}

std::string SigningKey::Fingerprint() const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(public_raw_.data(), public_raw_.size(), digest, &len, EVP_sha256(), nullptr) !=
      1) {
    std::abort();
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string SigningKey::KeyId() const { return Fingerprint().substr(0, 16); }

std::string SigningKey::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) std::abort();
  return BioContents(bio.get());
}

[[nodiscard]] absl::Status VerifySignature(std::string_view public_key_raw32,
                                           std::string_view message, std::string_view signature) {
  if (public_key_raw32.size() != kPublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 public key is 32 bytes, got ", public_key_raw32.size()));
  }
  if (signature.size() != kSignatureSize) {
    return absl::UnauthenticatedError(
        absl::StrCat("an Ed25519 signature is 64 bytes, got ", signature.size()));
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                  reinterpret_cast<const unsigned char*>(public_key_raw32.data()),
                                  public_key_raw32.size()),
      &EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a usable Ed25519 public key: ", OpenSslError()));
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot set up Ed25519 verification: ", OpenSslError()));
  }
  const int verified = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (verified != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError(
        absl::StrCat("the Ed25519 signature does not verify for this message under public key ",
                     absl::BytesToHexString(
                         absl::string_view(public_key_raw32.data(), public_key_raw32.size()))));
  }
  return absl::OkStatus();
}

std::string SignCheckpoint(const Checkpoint& checkpoint, const SigningKey& key) {
  return key.Sign(checkpoint.SignedBody());
}

[[nodiscard]] absl::Status VerifyCheckpoint(const Checkpoint& checkpoint,
                                            std::string_view signature,
                                            std::string_view public_key_raw32) {
  absl::Status s = VerifySignature(public_key_raw32, checkpoint.SignedBody(), signature);
  if (s.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(absl::StrCat("checkpoint of '", checkpoint.origin,
                                                   "' at size ", checkpoint.tree_size, ": ",
                                                   s.message()));
  }
  return s;
}

}  // namespace duurzaam::transparency
