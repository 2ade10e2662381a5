#include "collect/internal/gzip.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>

namespace quanyu::collect::internal {
namespace {

enum class Container { kGzip, kZlib, kRawDeflate };

Container Detect(std::string_view in) {
  if (LooksGzipped(in)) return Container::kGzip;
  if (in.size() >= 2) {
    auto cmf = static_cast<unsigned char>(in[0]);
    auto flg = static_cast<unsigned char>(in[1]);
    // CM = 8 (deflate), CINFO <= 7, header checksum.
    if ((cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0)
      return Container::kZlib;
  }
  return Container::kRawDeflate;
}

int WindowBits(Container c) {
  switch (c) {
    case Container::kGzip:
      return 15 + 16;
    case Container::kZlib:
      return 15;
    case Container::kRawDeflate:
      return -15;
  }
  return 15;
}

const char* Name(Container c) {
  switch (c) {
    case Container::kGzip:
      return "gzip";
    case Container::kZlib:
      return "zlib";
    case Container::kRawDeflate:
      return "deflate";
  }
  return "deflate";
}

// Owns a z_stream so every exit path releases it.
class Inflater {
 public:
  explicit Inflater(int window_bits) { ok_ = inflateInit2(&zs_, window_bits) == Z_OK; }
  ~Inflater() {
    if (ok_) inflateEnd(&zs_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  bool ok() const { return ok_; }
  z_stream* stream() { return &zs_; }

 private:
  z_stream zs_{};
  bool ok_ = false;
};

}  // namespace

bool LooksGzipped(std::string_view in) {
  return in.size() >= 2 && static_cast<unsigned char>(in[0]) == 0x1f &&
         static_cast<unsigned char>(in[1]) == 0x8b;
}

Result<std::string> GunzipCapped(std::string_view in, size_t cap) {
  if (in.empty()) return Status::InvalidArgument("empty compressed stream");
  const Container container = Detect(in);
  Inflater inflater(WindowBits(container));
  if (!inflater.ok()) return Status::Internal("zlib: inflateInit2 failed");
  z_stream* zs = inflater.stream();

  std::string out;
  char buf[16384];
  size_t consumed = 0;
  while (true) {
    // zlib counts in uInt; feed at most 1 GiB per call.
    size_t chunk = std::min<size_t>(in.size() - consumed, size_t{1} << 30);
    zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + consumed));
    zs->avail_in = static_cast<uInt>(chunk);
    int rc = Z_OK;
    do {
      zs->next_out = reinterpret_cast<Bytef*>(buf);
      zs->avail_out = sizeof(buf);
      rc = inflate(zs, Z_NO_FLUSH);
      if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR) {
        return Status::InvalidArgument(fmt::format("corrupt {} stream: {}", Name(container),
                                                   zs->msg ? zs->msg : "inflate failed"));
      }
      size_t produced = sizeof(buf) - zs->avail_out;
      if (out.size() + produced > cap) {
        return Status::PayloadTooLarge(
            fmt::format("decompressed body exceeds the limit of {} bytes", cap));
      }
      out.append(buf, produced);
    } while (rc != Z_STREAM_END && zs->avail_out == 0);
    const size_t used = chunk - zs->avail_in;
    consumed += used;

    if (rc == Z_STREAM_END) {
      // gzip allows concatenated members; anything else after the end is junk.
      if (consumed == in.size()) return out;
      if (container == Container::kGzip && LooksGzipped(in.substr(consumed))) {
        if (inflateReset(zs) != Z_OK) return Status::Internal("zlib: inflateReset failed");
        continue;
      }
      return Status::InvalidArgument(fmt::format("{} bytes of trailing data after the {} stream",
                                                 in.size() - consumed, Name(container)));
    }
    if (consumed == in.size()) {
      return Status::InvalidArgument(fmt::format("truncated {} stream", Name(container)));
    }
    if (used == 0) {  // input left but zlib can make no progress
      return Status::InvalidArgument(fmt::format("corrupt {} stream", Name(container)));
    }
  }
}

}  // namespace quanyu::collect::internal
